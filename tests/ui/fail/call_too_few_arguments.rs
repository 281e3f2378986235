use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, epochs: Param<i64>) -> Data<UriFolder>;

#[pipeline]
fn too_few(data: Data<UriFolder>) -> Data<UriFolder> {
    train(data)
}

fn main() {}
