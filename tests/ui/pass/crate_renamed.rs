//! The crate used under another name.
extern crate azureml_pipelines as aml;

use aml::prelude::*;

#[aml::prelude::step(script = "train.py", source_dir = "steps", outputs(model, metrics), environment = "python:3.12")]
fn train(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>);

#[aml::pipeline(outputs(model, metrics))]
fn renamed(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>) {
    train(data)
}

fn main() {
    let p = aml::build(renamed).unwrap();
    assert_eq!(p.outputs.len(), 2);
}
