use azureml_pipelines::prelude::*;

#[step(command = "python train.py", environment = "python:3.12")]
fn train();

#[pipeline(experiment_name = "exp")]
fn training() {
    train()
}

fn main() {}
