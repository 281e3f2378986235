use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps")]
fn train(data: Data<String>) -> Data<UriFolder>;

fn main() {}
