use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps/train_src")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
