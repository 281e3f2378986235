use azureml_pipelines::prelude::*;

#[step(copy, spark, compute = "adf-compute")]
fn both(raw: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
