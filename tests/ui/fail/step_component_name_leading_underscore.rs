use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps")]
fn _lead(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
