use azureml_pipelines::prelude::*;

#[step(
    script = "train.py",
    source_dir = "steps",
    environment = "python:3.12",
    timeout = 0,
    shm_size = "two gigs",
    instance_type = ""
)]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
