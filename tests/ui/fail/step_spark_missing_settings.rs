use azureml_pipelines::prelude::*;

// No executor settings, and nowhere to run.
#[step(spark, source_dir = "steps", entry = "train.py", driver_cores = 1, driver_memory = "2g")]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
