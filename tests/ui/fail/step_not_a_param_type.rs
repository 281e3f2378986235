use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps")]
fn train(data: Data<UriFolder>, epochs: Param<u8>) -> Data<UriFolder>;

fn main() {}
