#![allow(non_snake_case)]
use azureml_pipelines::prelude::*;

#[step(script = "train.py", source_dir = "steps", environment = "python:3.12")]
fn train(data: Data<UriFolder>, Data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
