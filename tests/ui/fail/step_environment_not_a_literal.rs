use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = format!("python:{}", 3))]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
