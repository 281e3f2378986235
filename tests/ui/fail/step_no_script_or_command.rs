use azureml_pipelines::prelude::*;

#[step(compute = "aml-compute", environment = "python:3.12")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
