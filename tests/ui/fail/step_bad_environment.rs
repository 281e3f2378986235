use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "azureml:AzureML-sklearn-1.5")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
