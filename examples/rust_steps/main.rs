//! The seed pipeline with Rust steps: data prep and training are Rust functions whose bodies
//! run as the steps; compare is still the Python script of `compare_models`.
//!
//! ```text
//! cargo run --example rust_steps                       # run locally (python3 for compare)
//! cargo run --example rust_steps -- runs show latest   # steps, reuse reasons and metrics
//! cargo run --example rust_steps -- export --format yaml
//! ```
//!
//! Only the standard library is used in the bodies.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use azureml_pipelines::metrics;
use azureml_pipelines::prelude::*;

const FEATURES: [&str; 4] = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

/// Cleans the raw iris CSV: drops rows with missing or non-numeric measurements and normalises
/// species names (the seed's `data_prep_step`, in Rust).
#[step(compute = "aml-compute")]
fn data_prep(
    #[mode(download)] input: Input<UriFile>,
    output_data1: Output<UriFolder>,
) -> Result<(), String> {
    let text = std::fs::read_to_string(&input)
        .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let mut columns = Vec::new();
    for name in FEATURES.iter().chain(&["species"]) {
        columns.push(
            column(name).ok_or_else(|| format!("{} lacks the column `{name}`", input.display()))?,
        );
    }
    let (mut kept, mut dropped) = (String::new(), 0);
    kept.push_str(&FEATURES.join(","));
    kept.push_str(",species\n");
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let values: Option<Vec<f64>> = columns[..4]
            .iter()
            .map(|&c| cells.get(c).and_then(|v| v.parse().ok()))
            .collect();
        let species = cells
            .get(columns[4])
            .map(|s| s.to_lowercase().trim_start_matches("iris-").to_owned())
            .unwrap_or_default();
        match values {
            Some(v) if !species.is_empty() => {
                let row: Vec<String> = v.iter().map(f64::to_string).collect();
                let _ = writeln!(kept, "{},{species}", row.join(","));
            }
            _ => dropped += 1,
        }
    }
    let rows = kept.lines().count() - 1;
    std::fs::write(output_data1.join("prepped.csv"), kept).map_err(|e| e.to_string())?;
    metrics::log("rows", rows as f64);
    metrics::log("dropped", f64::from(dropped));
    println!("prepared {rows} rows ({dropped} dropped)");
    Ok(())
}

/// Trains a nearest-centroid model on the prepped data, holding out every fifth row (the
/// seed's `train_step`, in Rust).
#[step(compute = "aml-compute")]
fn train(
    prepped_data: Input<UriFolder>,
    training_results: Output<UriFolder>,
) -> Result<(), std::io::Error> {
    let text = std::fs::read_to_string(prepped_data.join("prepped.csv"))?;
    let data: Vec<(Vec<f64>, String)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let features: Option<Vec<f64>> =
                cells.get(..4)?.iter().map(|v| v.parse().ok()).collect();
            Some((features?, (*cells.get(4)?).to_owned()))
        })
        .collect();
    let mut sums: BTreeMap<&str, (Vec<f64>, f64)> = BTreeMap::new();
    for (features, label) in data
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 0)
        .map(|(_, d)| d)
    {
        let entry = sums.entry(label).or_insert((vec![0.0; 4], 0.0));
        for (s, f) in entry.0.iter_mut().zip(features) {
            *s += f;
        }
        entry.1 += 1.0;
    }
    let model: BTreeMap<&str, Vec<f64>> = sums
        .into_iter()
        .map(|(label, (s, n))| (label, s.into_iter().map(|v| v / n).collect()))
        .collect();
    let distance = |a: &[f64], b: &[f64]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    };
    let predict = |f: &[f64]| -> &str {
        model
            .iter()
            .min_by(|a, b| distance(f, a.1).total_cmp(&distance(f, b.1)))
            .map_or("", |(label, _)| label)
    };
    let test: Vec<&(Vec<f64>, String)> = data.iter().step_by(5).collect();
    let mut correct = 0;
    for (k, (features, label)) in test.iter().enumerate() {
        if predict(features) == label {
            correct += 1;
        }
        metrics::log_at(
            "running_accuracy",
            k as i64,
            f64::from(correct) / (k + 1) as f64,
        );
    }
    let accuracy = f64::from(correct) / test.len().max(1) as f64;
    metrics::log("accuracy", accuracy);

    let mut json = String::from("{\n");
    for (i, (label, c)) in model.iter().enumerate() {
        let values: Vec<String> = c.iter().map(f64::to_string).collect();
        let comma = if i + 1 < model.len() { "," } else { "" };
        let _ = writeln!(json, "  \"{label}\": [{}]{comma}", values.join(", "));
    }
    json.push_str("}\n");
    std::fs::write(training_results.join("model.json"), json)?;
    std::fs::write(
        training_results.join("metrics.json"),
        format!(
            "{{\"model\": \"nearest_centroid\", \"test_rows\": {}, \"accuracy\": {accuracy}}}\n",
            test.len()
        ),
    )?;
    println!(
        "trained nearest-centroid: accuracy {accuracy:.3} on {} held-out rows",
        test.len()
    );
    Ok(())
}

/// Compares the trained model with a majority-class baseline (the seed's `compare_step`, still
/// Python).
#[step(
    script = "compare.py",
    source_dir = "examples/rust_steps/compare_src",
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

/// Prepares the iris data and trains a model in Rust, then compares it with a baseline in
/// Python.
#[pipeline(
    experiment = "Compare_Models_Exp",
    default_compute = "aml-compute",
    default_datastore = "workspaceblobstore",
    output = "comparison"
)]
fn rust_steps(
    #[default("examples/compare_models/data/iris.csv")] iris: Data<UriFile>,
    #[default(10)] pipeline_arg: Param<i64>,
) -> Data<UriFolder> {
    let prepped = data_prep(iris);
    let results = train(prepped);
    compare(prepped, results, pipeline_arg)
}

fn main() -> std::process::ExitCode {
    azureml_pipelines::cli::main(rust_steps)
}
