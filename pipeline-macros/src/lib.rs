//! The attribute macros of `azureml-pipelines`: [`macro@step`], [`macro@pipeline`] and
//! [`DataKind`](derive@DataKind). Use them through the `azureml-pipelines` crate
//! (`use azureml_pipelines::prelude::*;`), which re-exports them and the runtime they expand to.
//!
//! Each macro is parse → model (validated) → expand; this file holds the shims only.

mod attr;
mod ctx;
mod data_kind;
mod names;
mod pipeline;
mod rules;
mod sig;
mod step;

use proc_macro::TokenStream;

/// Declares a command step: the Python SDK v1's `PythonScriptStep`, an Azure ML command
/// component; or, on a fn with a body, a Rust step (see [Rust steps](#rust-steps)).
///
/// Put it on a fn **without a body**. The fn's parameters are the step's inputs (`Data<K>` for
/// data, `Param<T>` for parameters), its return value its outputs (`Data<K>`, a tuple of them,
/// or nothing). Calling the fn inside a [`macro@pipeline`] body adds the step to that pipeline
/// and returns handles to its outputs.
///
/// ```
/// use azureml_pipelines::prelude::*;
///
/// /// Cleans the raw CSV (the doc comment becomes the component's description).
/// #[step(script = "prep.py", source_dir = "steps/prep",
///        environment = "azureml:AzureML-sklearn-1.5@latest", output = "cleaned")]
/// fn prep(#[mode(download)] raw: Data<UriFile>) -> Data<UriFolder>;
///
/// #[step(script = "train.py", source_dir = "steps/train",
///        environment = "azureml:AzureML-sklearn-1.5@latest", compute = "gpu-cluster",
///        args = "--data ${{inputs.data}} --epochs ${{inputs.epochs}} --model ${{outputs.model}}",
///        outputs(model, metrics(mode = "upload")), reuse = false)]
/// fn train(data: Data<UriFolder>, epochs: Param<i64>) -> (Data<UriFolder>, Data<UriFolder>);
/// # fn main() {}
/// ```
///
/// # Arguments
///
/// | argument | meaning | Python SDK v1 |
/// |---|---|---|
/// | `script = "train.py"` | run `python train.py …`; the file must exist in `source_dir` (checked at compile time) | `script_name` |
/// | `source_dir = "steps/train"` | the folder uploaded as the step's snapshot (after `.amlignore`/`.gitignore`), relative to the crate's root (the folder of its `Cargo.toml`, `CARGO_MANIFEST_DIR`) | `source_directory` |
/// | `command = "..."` | a whole command line instead of `script` (`source_dir` optional) | |
/// | `args = "..."` | the arguments after `python <script>`, replacing the default ones | `arguments` |
/// | `environment = "..."` | `azureml:NAME@latest`, `azureml:NAME:VERSION`, `azureml://registries/...`, a Docker image, or the name of a `const` holding one (`environment = SKLEARN`) to share it between steps; without it, the pipeline's `default_environment` (building fails when neither is given); a local run does not use it | `runconfig` |
/// | `compute = "aml-compute"` | the compute target; the pipeline's `default_compute` otherwise | `compute_target` |
/// | `reuse = false` | never reuse an earlier result (default `true`; Azure ML's `is_deterministic`) | `allow_reuse` |
/// | `name = "..."` | component name (default: the fn name) | `name` |
/// | `display_name`, `description` | shown in Studio; the description defaults to the doc comment | |
/// | `output = "model"` | the name of the one output (default `output`) | `outputs` |
/// | `outputs(a, b(mode = "upload"))` | names of several outputs, in the order of the returned tuple, each with an optional mode (`rw_mount`, `upload`) | `outputs` |
/// | `instance_count = 2` | nodes to run on | `node_count` |
/// | `instance_type = "..."`, `shm_size = "2g"`, `docker_args = "..."` | the node's other `resources` | |
/// | `timeout = 3600` | seconds after which the step is stopped and fails (`limits.timeout`); a local run stops it like Ctrl-C does | |
/// | `env(KEY = "value", ...)` | environment variables of the step's process | `environment_variables` |
/// | `crate = "path"` | where the generated code finds this library, when your crate renames it or reaches it through a re-export (`crate = "my_platform::azureml"`) | |
///
/// Per input: `#[mode(download | ro_mount | direct)]` (default `ro_mount`, Azure ML's default).
/// Per parameter: `#[min(1)]` and `#[max(10)]` on `Param<i64>`/`Param<f64>`,
/// `#[allowed("fast", "slow")]` on `Param<String>` (Azure ML's `min`, `max`, `enum`).
///
/// # Rust steps
///
/// On a fn **with a body**, `#[step]` declares a Rust step: the body runs as the step (locally
/// as a child process of the pipeline binary, on Azure ML from a Linux build of it). Its
/// parameters are `Input<K>` (a readable path), `Option<Input<K>>`, `i64`/`f64`/`bool`/`String`
/// (plain values) and `Output<K>` (a fresh folder to write); it returns `Result<(), E>` with
/// `E: Display`. The fn left in its place is wired like a command step: `Data<K>` per input,
/// plain values or `Param<T>` per parameter, the outputs returned in declaration order. Extra
/// argument: `version = "2"`, bumped by hand to re-run the step when something its body calls
/// changed (its own tokens are hashed for reuse). See `azureml_pipelines::rust_step`.
///
/// ```no_run
/// use azureml_pipelines::prelude::*;
///
/// /// Counts the rows of a CSV file.
/// #[step(compute = "aml-compute", version = "1")]
/// fn count(rows: Input<UriFile>, #[min(0)] skip: i64, counted: Output<UriFolder>) -> Result<(), std::io::Error> {
///     let n = std::fs::read_to_string(&rows)?.lines().count() as i64 - skip;
///     azureml_pipelines::metrics::log("rows", n as f64);
///     std::fs::write(counted.join("count.txt"), n.to_string())
/// }
///
/// #[pipeline]
/// fn counting(rows: Data<UriFile>) -> Data<UriFolder> {
///     count(rows, 1)
/// }
/// # fn main() {}
/// ```
///
/// # Optional inputs
///
/// An input written `Option<Data<K>>` or `Option<Param<T>>` may be left out: call the step with
/// `None` or `Some(handle)`. In the default command line its flag is Azure ML's optional
/// argument `$[[--x ${{inputs.x}}]]`, dropped when the input has no value (on Azure ML and
/// locally); in `args`/`command`, an optional input outside `$[[ … ]]` is a compile error.
///
/// ```
/// use azureml_pipelines::prelude::*;
///
/// #[step(script = "train.py", source_dir = "steps/train", timeout = 600,
///        environment = "azureml:AzureML-sklearn-1.5@latest")]
/// fn train(
///     data: Data<UriFolder>,
///     warm_start: Option<Data<UriFolder>>,
///     #[min(1)] #[max(100)] epochs: Param<i64>,
/// ) -> Data<UriFolder>;
/// # fn main() {}
/// ```
///
/// # Command line
///
/// Without `args`, the step runs
/// `python <script> --<input> ${{inputs.<input>}} … --<output> ${{outputs.<output>}}`:
/// each input and output as a flag named after it, the way the SDK's `arguments=[...]` is
/// usually written. In `args` and `command`, `${{inputs.NAME}}` and `${{outputs.NAME}}` are
/// replaced by paths (data) or values (parameters); a placeholder that names no port is a
/// compile error.
///
/// # Checked at compile time
///
/// Unknown or repeated arguments (with "did you mean" hints, also for the SDK v1's names), a
/// missing `environment`, `script` not in `source_dir`, `source_dir` not a folder, placeholders
/// that name no port, duplicate port names, and Azure ML's rules for component, compute and
/// environment names. Types are checked by rustc: passing a `Data<UriFile>` where the step
/// takes a `Data<UriFolder>` does not compile.
///
/// # Copy steps: `#[step(copy, ...)]`
///
/// The seed's `DataTransferStep`: Azure ML's `data_transfer` node with the task `copy_data`
/// (**experimental in Azure ML**), run by a Data Factory compute. One data input, one output of
/// the same kind, no parameters; `compute` is required and `copy_mode` is
/// `merge_with_overwrite` or `fail_if_conflict`. It takes no command-step argument (`script`,
/// `environment`, `timeout`, …). Locally it is a verified copy: the output's content hash must
/// equal the input's, or the step fails.
///
/// ```
/// use azureml_pipelines::prelude::*;
///
/// #[step(copy, compute = "adf-compute", copy_mode = "merge_with_overwrite", output = "lake")]
/// fn copy_to_lake(raw: Data<UriFolder>) -> Data<UriFolder>;
/// # fn main() {}
/// ```
///
/// # Spark steps: `#[step(spark, ...)]`
///
/// The successor of the seed's `DatabricksStep`: Azure ML's `spark` node. `source_dir` and
/// `entry` (the file `spark-submit` runs) are required, with `py_files = ["a.py"]`,
/// `conf("spark.key" = "value")`, the five settings Azure ML requires (`driver_cores`,
/// `driver_memory`, `executor_cores`, `executor_memory`, `executor_instances`), and where it
/// runs: serverless Spark (`instance_type` with `runtime_version`) or an attached Synapse Spark
/// pool (`compute`). `args` replaces the default `--<port> ${{...}}` arguments. Data ports are
/// passed as URIs (`direct`, the only mode Spark takes). Locally the step runs through
/// `spark-submit` when it is on `PATH`, and fails saying how to get it when it is not.
///
/// ```
/// use azureml_pipelines::prelude::*;
///
/// #[step(spark, source_dir = "steps/train", entry = "train.py",
///        driver_cores = 1, driver_memory = "2g", executor_cores = 2, executor_memory = "2g",
///        executor_instances = 2, instance_type = "standard_e4s_v3", runtime_version = "3.4")]
/// fn wordcount(text: Data<UriFolder>) -> Data<UriFolder>;
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn step(args: TokenStream, item: TokenStream) -> TokenStream {
    step::expand(args.into(), item.into()).into()
}

/// Declares a pipeline: the Python SDK v1's `Pipeline(ws, steps)`, an Azure ML pipeline job.
///
/// Put it on a fn whose body calls steps (and other pipelines, which become sub-pipelines).
/// The fn's parameters are the pipeline's inputs: `Data<K>` for data, `Param<T>` for
/// parameters (the SDK's `PipelineParameter`), each with an optional `#[default(...)]`. The
/// returned handles (one, a tuple, or nothing) are the pipeline's outputs. The body runs once,
/// when the pipeline is built (by `azureml_pipelines::cli::main` or `azureml_pipelines::build`):
/// it describes the graph, it does not run the steps.
///
/// ```no_run
/// use azureml_pipelines::prelude::*;
///
/// #[step(script = "prep.py", source_dir = "steps/prep",
///        environment = "azureml:AzureML-sklearn-1.5@latest")]
/// fn prep(raw: Data<UriFile>) -> Data<UriFolder>;
///
/// #[step(script = "train.py", source_dir = "steps/train",
///        environment = "azureml:AzureML-sklearn-1.5@latest")]
/// fn train(data: Data<UriFolder>, epochs: Param<i64>) -> Data<UriFolder>;
///
/// /// Cleans the data and trains a model on it.
/// #[pipeline(experiment = "training", default_compute = "cpu-cluster", output = "model")]
/// fn training(
///     #[default("azureml://datastores/workspaceblobstore/paths/raw/iris.csv")] raw: Data<UriFile>,
///     #[default(10)] epochs: Param<i64>,
/// ) -> Data<UriFolder> {
///     let cleaned = prep(raw);
///     train(cleaned, epochs)
/// }
///
/// fn main() -> std::process::ExitCode {
///     // `run` (the default), `submit`, `export`, `graph`, `runs`, ...
///     azureml_pipelines::cli::main(training)
/// }
/// ```
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `name = "..."` | the pipeline's name (default: the fn name) |
/// | `display_name`, `description` | shown in Studio; the description defaults to the doc comment |
/// | `experiment = "..."` | the experiment `submit` files the job under |
/// | `default_compute = "..."` | the compute of steps that give none |
/// | `default_datastore = "..."` | where outputs are written |
/// | `continue_on_step_failure = true` | keep independent branches running after a failure |
/// | `default_environment = "..."` | the environment of steps that give none (a step's own wins) |
/// | `tags(key = "value", ...)` | job tags |
/// | `properties(key = "value", ...)` | job properties |
/// | `output = "name"` / `outputs(a, b)` | output names (default `output` for one) |
/// | `outputs(model(name = "iris-model", version = "3", path = "azureml://…"))` | register an output as a data asset, written to `path` (the YAML's `name`, `version`, `path`; the REST body's `assetName`, `uri`) |
/// | `crate = "path"` | where the generated code finds this library (see [`macro@step`]) |
///
/// # Inputs and defaults
///
/// `#[default(10)]` on a `Param<i64>`, `#[default(0.5)]` on a `Param<f64>` (a float literal:
/// `10.0`, not `10`), `#[default(true)]`, `#[default("text")]` on a `Param<String>`; on data, a
/// path relative to the crate's root (checked at compile time), an
/// `azureml://datastores/NAME/paths/P` URI or a data asset `azureml:NAME:VERSION`.
/// `#[min(...)]`, `#[max(...)]` and `#[allowed(...)]` work as on [`macro@step`] ports: a default
/// outside them is a compile error, and a `--param` outside them is refused before any work.
/// An input without a default must be given on the command line (`--param name=value`,
/// `--input name=PATH`).
///
/// # Rules
///
/// A pipeline calls at least one step; it cannot call itself, directly (a compile error) or
/// through other pipelines (an error when it is built, exit code 2 from the command line).
/// Handles are `Copy`: use an output as often as you like. A step called twice gets unique node
/// names (`train`, `train_1`).
#[proc_macro_attribute]
pub fn pipeline(args: TokenStream, item: TokenStream) -> TokenStream {
    pipeline::expand(args.into(), item.into()).into()
}

/// Declares a data kind: a Rust type that is one Azure ML asset type on the wire, but cannot
/// be swapped with other kinds in Rust.
///
/// Two folders of different meaning (prepped rows, a trained model) are both `uri_folder` to
/// Azure ML; as two kinds, passing one where the other is expected does not compile.
///
/// ```
/// use azureml_pipelines::prelude::*;
///
/// /// Cleaned iris rows: a folder on the wire, but not just any folder.
/// #[derive(DataKind)]
/// #[data_kind(uri_folder)]
/// pub struct PreppedIris;
///
/// #[step(script = "prep.py", source_dir = "steps/prep",
///        environment = "azureml:AzureML-sklearn-1.5@latest")]
/// fn prep(raw: Data<UriFile>) -> Data<PreppedIris>;
///
/// #[step(script = "train.py", source_dir = "steps/train",
///        environment = "azureml:AzureML-sklearn-1.5@latest")]
/// fn train(data: Data<PreppedIris>) -> Data<UriFolder>;
/// # fn main() {}
/// ```
///
/// `#[data_kind(...)]` takes one asset type: `uri_file`, `uri_folder`, `mltable`,
/// `custom_model` or `mlflow_model`, and optionally `crate = "path"` (see [`macro@step`]).
#[proc_macro_derive(DataKind, attributes(data_kind))]
pub fn derive_data_kind(item: TokenStream) -> TokenStream {
    data_kind::expand(item.into()).into()
}

#[cfg(test)]
mod expansion_tests;
