use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, learning_rate: Param<f64>) -> Data<UriFolder>;

#[pipeline]
fn tuned(data: Data<UriFolder>, #[default(10)] scale: Param<f64>) -> Data<UriFolder> {
    let _ = scale;
    train(data, 1)
}

fn main() {}
