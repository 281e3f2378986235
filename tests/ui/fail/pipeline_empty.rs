use azureml_pipelines::prelude::*;

#[pipeline]
fn nothing() {}

fn main() {}
