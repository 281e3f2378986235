use azureml_pipelines::prelude::*;

#[step(command = "echo ${{inputs.data}}", crate = "azureml pipelines", environment = "python:3.12")]
fn show(data: Data<UriFolder>);

fn main() {}
