use azureml_pipelines::prelude::*;

#[step(compute = "aml-compute")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
