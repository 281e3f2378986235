use azureml_pipelines::prelude::*;

// A copy runs no code, and needs its Data Factory compute.
#[step(copy, script = "train.py", source_dir = "steps", environment = "azureml:AzureML-sklearn-1.5@latest", timeout = 60)]
fn copy_to_lake(raw: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
