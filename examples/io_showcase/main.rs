//! What a pipeline's inputs and steps can declare beyond types: the Azure ML example
//! "pipeline with inputs and outputs", in Rust.
//!
//! * `species` may only take listed values, `epochs` and `learning_rate` have a range: a value
//!   outside them is refused before any work (`run --param epochs=500` exits 2), and Azure ML
//!   gets the same rules (`enum`, `min`, `max` on the component inputs);
//! * `report_time` defaults to `12:30`, a string a YAML 1.1 reader would take for the number
//!   750 unless it is quoted (the export quotes it);
//! * `train` takes an optional `warm_start` model: the first call leaves it out (the
//!   `$[[--warm_start …]]` part of its command is dropped), the second passes the first model;
//! * `train` stops after 10 minutes (`timeout`), asks for a VM size and shared memory;
//! * the model is registered as the data asset `iris-centroids` at a path of one's choosing;
//! * one environment for every step (`default_environment`) and job `properties`.
//!
//! `iris` is a local file by default; on Azure ML, pass the registered data asset instead:
//!
//! ```text
//! cargo run --example io_showcase
//! cargo run --example io_showcase -- run --param species=setosa --param epochs=20
//! cargo run --example io_showcase -- export --format yaml --input iris=azureml:iris:1
//! cargo run --example io_showcase -- submit --input iris=azureml:iris:1
//! ```

use azureml_pipelines::prelude::*;

/// Keeps the rows of one species, or all of them.
#[step(
    script = "select.py",
    source_dir = "examples/io_showcase/src",
    output = "rows"
)]
fn select(
    raw: Data<UriFile>,
    #[allowed("all", "setosa", "versicolor", "virginica")] species: Param<String>,
) -> Data<UriFolder>;

/// Trains a nearest-centroid model, starting from an earlier one when given.
#[step(
    script = "train.py",
    source_dir = "examples/io_showcase/src",
    output = "model",
    timeout = 600,
    instance_type = "Standard_DS3_v2",
    shm_size = "2g"
)]
fn train(
    rows: Data<UriFolder>,
    warm_start: Option<Data<UriFolder>>,
    #[min(1)]
    #[max(100)]
    epochs: Param<i64>,
    #[min(0.0)]
    #[max(1.0)]
    learning_rate: Param<f64>,
    report_time: Param<String>,
) -> Data<UriFolder>;

/// Selects rows, trains a model, then trains again from it.
#[pipeline(
    experiment = "IO_Showcase",
    default_compute = "cpu-cluster",
    default_environment = "azureml:AzureML-sklearn-1.5@latest",
    properties(owner = "data-team", purpose = "io-showcase"),
    outputs(model(
        name = "iris-centroids",
        path = "azureml://datastores/workspaceblobstore/paths/io_showcase/model/"
    ))
)]
fn io_showcase(
    #[default("examples/io_showcase/data/iris.csv")] iris: Data<UriFile>,
    #[default("all")]
    #[allowed("all", "setosa", "versicolor", "virginica")]
    species: Param<String>,
    #[default(5)]
    #[min(1)]
    #[max(100)]
    epochs: Param<i64>,
    #[default(0.1)]
    #[min(0.0)]
    #[max(1.0)]
    learning_rate: Param<f64>,
    #[default("12:30")] report_time: Param<String>,
) -> Data<UriFolder> {
    let rows = select(iris, species);
    let first = train(rows, None, epochs, learning_rate, report_time);
    train(rows, Some(first), epochs, learning_rate, report_time)
}

fn main() -> std::process::ExitCode {
    azureml_pipelines::cli::main(io_showcase)
}
