//! The library reached through another module's re-export, as a platform crate would offer it:
//! `crate = "..."` tells each macro where the library is.
mod platform {
    pub use azureml_pipelines as azureml;
}

use platform::azureml::prelude::*;

#[derive(DataKind)]
#[data_kind(uri_file, crate = "crate::platform::azureml")]
struct Csv;

#[step(
    command = "head ${{inputs.rows}} > ${{outputs.preview}}/head.csv",
    output = "preview",
    crate = "crate::platform::azureml",
    environment = "python:3.12",
)]
fn preview(#[mode(download)] rows: Data<Csv>) -> Data<UriFolder>;

#[pipeline(crate = "crate::platform::azureml")]
fn inspect(rows: Data<Csv>) -> Data<UriFolder> {
    preview(rows)
}

fn main() {
    let p = platform::azureml::build(inspect).unwrap();
    assert_eq!(p.outputs.len(), 1);
}
