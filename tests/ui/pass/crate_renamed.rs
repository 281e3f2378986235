//! The crate used under another name.
extern crate azureml_pipelines as aml;

use aml::prelude::*;

#[aml::prelude::step(script = "train.py", source_dir = "../../../../tests/ui/steps", outputs(model, metrics))]
fn train(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>);

#[aml::pipeline(outputs(model, metrics))]
fn renamed(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>) {
    train(data)
}

fn main() {
    let p = aml::build(renamed).unwrap();
    assert_eq!(p.outputs.len(), 2);
}
