use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, epochs: Param<i64>) -> Data<UriFolder>;

#[pipeline]
fn defaults(data: Data<UriFolder>, #[default("ten")] epochs: Param<i64>) -> Data<UriFolder> {
    train(data, epochs)
}

fn main() {}
