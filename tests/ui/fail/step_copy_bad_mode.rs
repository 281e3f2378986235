use azureml_pipelines::prelude::*;

#[step(copy, compute = "adf-compute", copy_mode = "merge_overwrite")]
fn copy_to_lake(raw: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
