use azureml_pipelines::prelude::*;

#[step(command = "echo ${{inputs.data}}", crate = "azureml pipelines")]
fn show(data: Data<UriFolder>);

fn main() {}
