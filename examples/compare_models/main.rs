//! The seed pipeline: data prep → train → compare.
//!
//! `compare` takes the prepped data, the training results and the pipeline parameter
//! `pipeline_arg` (default 10), and is never reused (`reuse = false`), like the seed's
//! `compare_step`.
//!
//! ```text
//! cargo run --example compare_models                      # run locally
//! cargo run --example compare_models -- export --format json
//! cargo run --example compare_models -- graph --format mermaid
//! ```

use azureml_pipelines::prelude::*;

/// Cleans the raw iris CSV (the seed's `data_prep_step`).
#[step(
    script = "prepare.py",
    source_dir = "examples/compare_models/dataprep_src",
    compute = "aml-compute",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    args = "--input ${{inputs.input}} --output ${{outputs.output_data1}}",
    output = "output_data1",
    reuse = true
)]
fn data_prep(#[mode(download)] input: Data<UriFile>) -> Data<UriFolder>;

/// Trains a nearest-centroid model on the prepped data (the seed's `train_step`).
#[step(
    script = "train.py",
    source_dir = "examples/compare_models/train_src",
    compute = "aml-compute",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "training_results"
)]
fn train(prepped_data: Data<UriFolder>) -> Data<UriFolder>;

/// Compares the trained model with a majority-class baseline (the seed's `compare_step`).
#[step(
    script = "compare.py",
    source_dir = "examples/compare_models/compare_src",
    compute = "aml-compute",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "output_data",
    reuse = false
)]
fn compare(
    comp_data1: Data<UriFolder>,
    comp_data2: Data<UriFolder>,
    param1: Param<i64>,
) -> Data<UriFolder>;

/// Prepares the iris data, trains a model and compares it with a baseline.
#[pipeline(
    experiment = "Compare_Models_Exp",
    default_compute = "aml-compute",
    default_datastore = "workspaceblobstore",
    output = "comparison"
)]
fn compare_models(
    #[default("examples/compare_models/data/iris.csv")] iris: Data<UriFile>,
    #[default(10)] pipeline_arg: Param<i64>,
) -> Data<UriFolder> {
    let prepped = data_prep(iris);
    let results = train(prepped);
    compare(prepped, results, pipeline_arg)
}

fn main() -> std::process::ExitCode {
    azureml_pipelines::cli::main(compare_models)
}
