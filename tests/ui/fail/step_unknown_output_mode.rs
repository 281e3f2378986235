use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", outputs(model(mode = "uplod")), environment = "python:3.12")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
