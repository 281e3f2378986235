use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline]
fn flow(data: Option<Data<UriFolder>>) {
    let _ = data;
}

fn main() {}
