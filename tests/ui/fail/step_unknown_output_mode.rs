use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps", outputs(model(mode = "uplod")))]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
