use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, warm: Option<Data<UriFolder>>) -> Data<UriFolder>;

#[pipeline]
fn flow(data: Data<UriFolder>) -> Data<UriFolder> {
    // `data` is required: only an `Option<...>` port takes `None`.
    train(None, None)
}

fn main() {}
