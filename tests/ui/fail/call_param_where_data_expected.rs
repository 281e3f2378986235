use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, epochs: Param<i64>) -> Data<UriFolder>;

#[pipeline]
fn param_as_data(epochs: Param<i64>) -> Data<UriFolder> {
    train(epochs, epochs)
}

fn main() {}
