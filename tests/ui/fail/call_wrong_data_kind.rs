use azureml_pipelines::prelude::*;

#[step(script = "prep.py", source_dir = "steps", environment = "python:3.12")]
fn data_prep(raw: Data<UriFile>) -> Data<UriFolder>;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(prepped: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline]
fn wrong_kind(iris: Data<UriFile>) -> Data<UriFolder> {
    let _prepped = data_prep(iris);
    train(iris)
}

fn main() {}
