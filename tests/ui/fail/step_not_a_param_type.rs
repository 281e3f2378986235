use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, epochs: Param<u8>) -> Data<UriFolder>;

fn main() {}
