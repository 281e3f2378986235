//! Model selection: split the iris data, fit and evaluate two k-nearest-neighbours models in a
//! sub-pipeline called twice, and keep the better one.
//!
//! Shows several outputs per step, data kinds of one's own (`IrisSplit`, `Model` — both folders
//! on the wire, but not interchangeable in Rust), per-port modes, environment variables and a
//! sub-pipeline.
//!
//! ```text
//! cargo run --example model_selection
//! cargo run --example model_selection -- graph --format mermaid
//! ```

use azureml_pipelines::prelude::*;

/// Rows of the iris data, after the split (a folder holding `rows.csv`).
#[derive(DataKind)]
#[data_kind(uri_folder)]
pub struct IrisSplit;

/// A fitted model (a folder holding `knn.json`).
#[derive(DataKind)]
#[data_kind(uri_folder)]
pub struct Model;

/// Splits the raw CSV into train and test rows.
#[step(
    script = "split.py",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    outputs(train, test)
)]
fn split(
    #[mode(ro_mount)] raw: Data<UriFile>,
    test_percent: Param<i64>,
) -> (Data<IrisSplit>, Data<IrisSplit>);

/// Fits a k-nearest-neighbours model.
#[step(
    script = "fit.py",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "model",
    env(PYTHONHASHSEED = "0")
)]
fn fit(train: Data<IrisSplit>, k: Param<i64>) -> Data<Model>;

/// Measures a model's accuracy on the test rows.
#[step(
    script = "evaluate.py",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    outputs(metrics(mode = "upload"))
)]
fn evaluate(model: Data<Model>, test: Data<IrisSplit>) -> Data<UriFolder>;

/// Keeps the better of two evaluations.
#[step(
    script = "pick.py",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "best",
    reuse = false
)]
fn pick_best(a: Data<UriFolder>, b: Data<UriFolder>) -> Data<UriFolder>;

/// Fits a model with `k` neighbours and evaluates it.
#[pipeline(outputs(model, metrics))]
fn fit_and_evaluate(
    train: Data<IrisSplit>,
    test: Data<IrisSplit>,
    #[default(3)] k: Param<i64>,
) -> (Data<Model>, Data<UriFolder>) {
    let model = fit(train, k);
    let metrics = evaluate(model, test);
    (model, metrics)
}

/// Chooses between a 1-neighbour and a 5-neighbour model.
#[pipeline(
    experiment = "Model_Selection",
    default_compute = "aml-compute",
    tags(project = "iris", owner = "ml-team"),
    output = "best"
)]
fn model_selection(
    #[default("examples/compare_models/data/iris.csv")] iris: Data<UriFile>,
    #[default(20)] test_percent: Param<i64>,
) -> Data<UriFolder> {
    let (train, test) = split(iris, test_percent);
    let (_, one) = fit_and_evaluate(train, test, Param::from(1));
    let (_, five) = fit_and_evaluate(train, test, 5.into());
    pick_best(one, five)
}

fn main() -> std::process::ExitCode {
    azureml_pipelines::cli::main(model_selection)
}
