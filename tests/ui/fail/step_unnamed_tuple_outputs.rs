use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps")]
fn split(data: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>);

fn main() {}
