use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline]
fn retrain(data: Data<UriFolder>) -> Data<UriFolder> {
    let model = train(data);
    retrain(model)
}

fn main() {}
