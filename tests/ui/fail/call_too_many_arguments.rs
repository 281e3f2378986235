use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline]
fn too_many(data: Data<UriFolder>) -> Data<UriFolder> {
    train(data, 10)
}

fn main() {}
