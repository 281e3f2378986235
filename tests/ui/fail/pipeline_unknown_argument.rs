use azureml_pipelines::prelude::*;

#[pipeline(experiment_name = "exp")]
fn empty() {}

fn main() {}
