//! The copy and Spark forms compile, in a pipeline without a `default_environment` (neither
//! needs one), and their steps carry their kind.
use azureml_pipelines::graph::StepKind;
use azureml_pipelines::prelude::*;

#[step(copy, compute = "adf-compute", copy_mode = "fail_if_conflict", output = "lake")]
fn copy_to_lake(raw: Data<UriFolder>) -> Data<UriFolder>;

#[step(
    spark,
    source_dir = "steps",
    entry = "train.py",
    py_files = ["prep.py"],
    conf("spark.sql.shuffle.partitions" = "8"),
    args = "--data ${{inputs.data}} --rate ${{inputs.rate}} --out ${{outputs.out}}",
    driver_cores = 1,
    driver_memory = "2g",
    executor_cores = 2,
    executor_memory = "4g",
    executor_instances = 2,
    compute = "synapse-pool",
    output = "out"
)]
fn train(#[mode(direct)] data: Data<UriFolder>, rate: Param<f64>) -> Data<UriFolder>;

#[pipeline]
fn moved(raw: Data<UriFolder>) -> Data<UriFolder> {
    let lake = copy_to_lake(raw);
    train(lake, 0.5)
}

fn main() {
    let p = azureml_pipelines::build(moved).unwrap();
    let kinds: Vec<bool> = p
        .steps()
        .into_iter()
        .map(|s| matches!(s.kind, StepKind::Copy(_)))
        .collect();
    assert_eq!(kinds, [true, false]);
}
