use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps", instance_count = 0)]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
