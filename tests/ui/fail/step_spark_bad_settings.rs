use azureml_pipelines::prelude::*;

#[step(
    spark,
    source_dir = "steps",
    entry = "trian.py",
    py_files = ["nope.py"],
    conf("spark.driver.cores" = "4", "sql.shuffle" = "8"),
    driver_cores = 0,
    driver_memory = "2 GB",
    executor_cores = 2,
    executor_memory = "2g",
    executor_instances = 2,
    compute = "synapse-pool",
    instance_type = "standard_e4s_v3"
)]
fn train(#[mode(download)] data: Data<UriFolder>) -> Data<UriFolder>;

fn main() {}
