use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn _lead(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
