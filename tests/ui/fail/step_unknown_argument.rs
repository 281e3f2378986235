use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", reuses = false, environment = "python:3.12")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
