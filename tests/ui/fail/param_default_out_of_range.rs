use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, epochs: Param<i64>, mode: Param<String>) -> Data<UriFolder>;

#[pipeline]
fn flow(
    data: Data<UriFolder>,
    #[default(20)] #[min(1)] #[max(10)] epochs: Param<i64>,
    #[default("medium")] #[allowed("fast", "slow")] mode: Param<String>,
) -> Data<UriFolder> {
    train(data, epochs, mode)
}

fn main() {}
