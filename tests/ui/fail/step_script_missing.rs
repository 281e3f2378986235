use azureml_pipelines::prelude::*;

#[step(script = "trian.py", source_dir = "../../../../tests/ui/steps")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
