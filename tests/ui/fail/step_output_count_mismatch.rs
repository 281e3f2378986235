use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", outputs(train), environment = "python:3.12")]
fn split(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>);

fn main() {}
