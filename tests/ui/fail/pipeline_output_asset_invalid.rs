use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12", outputs(a, b, c))]
fn train(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>, Data<UriFolder>);

#[pipeline(outputs(
    a(name = "my model"),
    b(version = "1"),
    c(name = "ok", path = "models/c", size = "big")
))]
fn flow(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>, Data<UriFolder>) {
    train(data)
}

fn main() {}
