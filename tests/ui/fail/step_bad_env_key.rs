use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps", env(DÉBUT = "1"))]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
