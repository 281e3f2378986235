use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps", reuse = true, reuse = false)]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
