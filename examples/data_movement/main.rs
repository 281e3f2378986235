//! Moving data on Azure ML: the seed's `DataTransferStep` and `DatabricksStep`, in Rust.
//!
//! * `copy_to_lake` is a copy step: on Azure ML a `data_transfer` node (task `copy_data`, which
//!   Azure ML still marks experimental) run by the Data Factory compute `adf-compute`; locally a
//!   verified copy (the copy's content hash must equal the source's);
//! * `count_species` is a Spark step: on Azure ML a `spark` node on serverless Spark (instance
//!   type and runtime version); locally run through `spark-submit` when it is on PATH, and
//!   failed with a message saying how to get it when it is not;
//! * `raw` is a local folder by default; on Azure ML, pass the registered data asset:
//!
//! ```text
//! cargo run --example data_movement
//! cargo run --example data_movement -- export --input raw=azureml:iris-raw:1
//! cargo run --example data_movement -- submit --input raw=azureml:iris-raw:1
//! ```

use azureml_pipelines::prelude::*;

/// Copies the raw files into the lake (Data Factory).
#[step(
    copy,
    compute = "adf-compute",
    copy_mode = "merge_with_overwrite",
    output = "lake"
)]
fn copy_to_lake(raw: Data<UriFolder>) -> Data<UriFolder>;

/// Counts the rows per species with Spark.
#[step(
    spark,
    source_dir = "examples/data_movement/spark_src",
    entry = "count.py",
    py_files = ["helpers.py"],
    conf("spark.sql.shuffle.partitions" = "4"),
    driver_cores = 1,
    driver_memory = "2g",
    executor_cores = 2,
    executor_memory = "2g",
    executor_instances = 2,
    instance_type = "standard_e4s_v3",
    runtime_version = "3.4",
    output = "counts"
)]
fn count_species(lake: Data<UriFolder>) -> Data<UriFolder>;

/// Copies the raw data into the lake, then counts it with Spark.
#[pipeline(experiment = "Data_Movement")]
fn data_movement(
    #[default("examples/data_movement/data")] raw: Data<UriFolder>,
) -> Data<UriFolder> {
    let lake = copy_to_lake(raw);
    count_species(lake)
}

fn main() -> std::process::ExitCode {
    azureml_pipelines::cli::main(data_movement)
}
