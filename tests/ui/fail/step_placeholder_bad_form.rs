use azureml_pipelines::prelude::*;

#[step(
    script = "train.py",
    source_dir = "steps",
    environment = "python:3.12",
    args = "--data ${{inputs.data}} --epochs ${{params.epochs}} --out ${{outputs.output}}"
)]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
