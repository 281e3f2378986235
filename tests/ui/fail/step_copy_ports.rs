use azureml_pipelines::prelude::*;

// A parameter, and a file copied to a folder.
#[step(copy, compute = "adf-compute")]
fn copy_with_param(raw: Data<UriFile>, rows: Param<i64>) -> Data<UriFolder>;

// Two inputs.
#[step(copy, compute = "adf-compute")]
fn copy_two(a: Data<UriFolder>, b: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
