use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "../../../../tests/ui/steps", args = "--data ${{inputs.dataset}} --out ${{outputs.output}}")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
