use azureml_pipelines::prelude::*;

#[step(
    script = "train.py",
    source_dir = "steps",
    environment = "python:3.12",
    args = "--data ${{inputs.data}} --warm ${{inputs.warm}} $[[--rate ${{inputs.rate}}]]"
)]
fn train(
    data: Data<UriFolder>,
    warm: Option<Data<UriFolder>>,
    rate: Option<Param<f64>>,
) -> Data<UriFolder>;

fn main() {}
