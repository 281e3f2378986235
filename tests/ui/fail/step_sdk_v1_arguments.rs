use azureml_pipelines::prelude::*;

#[step(
    script_name = "train.py",
    source_directory = "steps",
    compute_target = "aml-compute",
    arguments = "--data ${{inputs.data}}",
    allow_reuse = false,
    environment = "python:3.12"
)]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
