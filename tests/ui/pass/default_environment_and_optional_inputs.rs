//! A pipeline-level `default_environment`, optional step inputs called with and without a
//! value, parameter rules, and a plain string default.
use azureml_pipelines::graph::{Binding, Component};
use azureml_pipelines::prelude::*;

#[step(script = "prep.py", source_dir = "steps")]
fn prep(raw: Data<UriFile>, #[allowed("csv", "tsv")] format: Param<String>) -> Data<UriFolder>;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12", timeout = 60)]
fn train(
    data: Data<UriFolder>,
    warm_start: Option<Data<UriFolder>>,
    #[min(0.0)] #[max(1.0)] rate: Option<Param<f64>>,
) -> Data<UriFolder>;

#[pipeline(default_environment = "azureml:AzureML-sklearn-1.5@latest")]
fn flow(
    raw: Data<UriFile>,
    #[default("csv")] format: Param<String>,
    #[default(3)] #[min(1)] #[max(5)] rounds: Param<i64>,
) -> Data<UriFolder> {
    let _ = rounds;
    let data = prep(raw, format);
    let first = train(data, None, None);
    train(data, Some(first), Some(Param::from(0.5)))
}

fn main() {
    let p = azureml_pipelines::build(flow).expect("builds");
    assert_eq!(p.nodes[0].environment, Some("azureml:AzureML-sklearn-1.5@latest"));
    assert_eq!(p.nodes[1].environment, Some("python:3.12"));
    assert_eq!(p.nodes[1].inputs[1], Binding::Unbound);
    assert!(matches!(p.nodes[2].inputs[1], Binding::Output(_)));
    let Component::Step(train) = &p.nodes[1].component else { panic!("a step") };
    assert_eq!(train.timeout, Some(60));
    assert!(train.inputs[1].rules.optional);
}
