//! A parameter written as a raw identifier (`r#type`) is the port `type`: in placeholders, in the
//! default command line and in the built pipeline.

use azureml_pipelines::graph::Component;
use azureml_pipelines::prelude::*;

#[step(
    command = "python convert.py --type ${{inputs.type}} --data ${{inputs.data}} --out ${{outputs.out}}",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "out"
)]
fn convert(data: Data<UriFolder>, r#type: Param<String>) -> Data<UriFolder>;

#[step(script = "train.py", source_dir = "steps", output = "model", environment = "python:3.12")]
fn train(r#in: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline]
fn raw(r#in: Data<UriFolder>, r#type: Param<String>) -> Data<UriFolder> {
    train(convert(r#in, r#type))
}

fn main() {
    let p = azureml_pipelines::build(raw).unwrap();
    let names: Vec<&str> = p.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["in", "type"]);
    let Component::Step(convert) = &p.nodes[0].component else {
        panic!("a step")
    };
    let ports: Vec<&str> = convert.inputs.iter().map(|i| i.name).collect();
    assert_eq!(ports, ["data", "type"]);
    let Component::Step(train) = &p.nodes[1].component else {
        panic!("a step")
    };
    assert_eq!(train.inputs[0].name, "in");
    assert_eq!(
        train.command,
        "python train.py --in ${{inputs.in}} --model ${{outputs.model}}"
    );
}
