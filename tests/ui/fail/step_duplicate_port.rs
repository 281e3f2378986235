use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps", output = "data")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
