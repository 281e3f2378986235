use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps", command = "python train.py")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
