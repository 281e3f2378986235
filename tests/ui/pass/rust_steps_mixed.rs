//! Rust steps wired with command steps both ways: a Rust output feeds a Python step and the
//! Python output feeds a Rust step; an optional input, several outputs (a tuple in declaration
//! order), a parameter given as a value and as a handle, and a step without outputs.
use azureml_pipelines::prelude::*;

#[step(command = "python fit.py ${{inputs.rows}} ${{outputs.model}}", output = "model", environment = "python:3.12")]
fn fit(rows: Data<UriFolder>) -> Data<UriFolder>;

/// Splits the rows.
#[step]
fn split(
    raw: Input<UriFile>,
    extra: Option<Input<UriFolder>>,
    #[min(0.0)] #[max(1.0)] ratio: f64,
    seed: i64,
    label: String,
    shuffle: bool,
    train: Output<UriFolder>,
    test: Output<UriFolder>,
) -> Result<(), std::io::Error> {
    let _ = (&raw, extra.is_some(), ratio, seed, label, shuffle);
    std::fs::write(train.join("a"), "1")?;
    std::fs::write(test.join("b"), "2")
}

#[step(version = "2", environment = "python:3.12")]
fn score(model: Input<UriFolder>, test: Input<UriFolder>) -> Result<(), String> {
    let _ = (model.path(), test.into_path());
    Ok(())
}

#[pipeline]
fn mixed(raw: Data<UriFile>, #[default(7)] seed: Param<i64>) {
    let (train, test) = split(raw, None, 0.8, seed, "species".to_owned(), true);
    let model = fit(train);
    score(model, test)
}

fn main() {
    let p = azureml_pipelines::build(mixed).unwrap();
    assert_eq!(p.nodes.len(), 3);
}
