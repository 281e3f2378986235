use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
