use azureml_pipelines::prelude::*;

#[derive(DataKind)]
#[data_kind(uri_directory)]
struct Prepped;

fn main() {}
