use azureml_pipelines::prelude::*;

/// Cleaned iris rows.
#[derive(DataKind)]
#[data_kind(uri_folder)]
struct PreppedIris;

/// A trained model folder.
#[derive(DataKind)]
#[data_kind(uri_folder)]
struct Model;

#[step(script = "prep.py", source_dir = "steps", environment = "python:3.12")]
fn data_prep(raw: Data<UriFile>) -> Data<PreppedIris>;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn evaluate(model: Data<Model>, data: Data<PreppedIris>) -> Data<UriFolder>;

#[pipeline]
fn swapped(iris: Data<UriFile>, model: Data<Model>) -> Data<UriFolder> {
    let prepped = data_prep(iris);
    evaluate(prepped, model)
}

fn main() {}
