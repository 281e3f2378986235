use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(
    #[min(1)] data: Data<UriFolder>,
    #[min(0.5)] epochs: Param<i64>,
    #[max(3)] name: Param<String>,
    #[allowed("a", "b")] rate: Param<f64>,
    #[min(5)] #[max(1)] seed: Param<i64>,
    #[allowed("x", "x")] tag: Param<String>,
) -> Data<UriFolder>;

fn main() {}
