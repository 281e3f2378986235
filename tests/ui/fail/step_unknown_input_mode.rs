use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps")]
fn train(#[mode(downlaod)] data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
