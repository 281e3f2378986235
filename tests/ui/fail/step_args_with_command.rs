use azureml_pipelines::prelude::*;

#[step(
    command = "python train.py --data ${{inputs.data}} --output ${{outputs.output}}",
    args = "--epochs 3",
    environment = "azureml:AzureML-sklearn-1.5@latest"
)]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
