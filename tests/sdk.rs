//! Our exports, read by Microsoft's own SDK (azure-ai-ml 1.35.2, what `az ml job create --file`
//! uses): every example's YAML loads and validates, a string parameter that YAML 1.1 would read
//! as something else arrives as the same string, and every REST body survives a round trip
//! through the SDK's REST models unchanged.
//!
//! The SDK is a Python package: `AZUREML_TEST_SDK_PYTHON` names a Python that has it
//! (`.ci/run` installs it into `target/venv-sdk`). Without it, each test says loudly that it was
//! skipped and passes; CI always sets it.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use azureml_pipelines::graph::{InputValue, Literal};
use azureml_pipelines::prelude::*;
use azureml_pipelines::wire::{self, YamlContext};
use support::{repo, run_example};

/// The Python with azure-ai-ml, or `None` (and a loud note) when the variable is unset.
fn sdk_python(test: &str) -> Option<String> {
    match std::env::var("AZUREML_TEST_SDK_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            // Straight to the process's stderr, past the test harness's capture, so the skip is
            // seen even though the test passes.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: AZUREML_TEST_SDK_PYTHON is not set, so Microsoft's SDK was not \
                 run (`.ci/run` sets it; locally: python3 -m venv target/venv-sdk && \
                 target/venv-sdk/bin/pip install azure-ai-ml==1.35.2 && \
                 export AZUREML_TEST_SDK_PYTHON=$PWD/target/venv-sdk/bin/python)"
            );
            None
        }
    }
}

/// Loads each job YAML with `load_job`, validates it and prints one JSON line per file:
/// `{"file", "passed", "errors", "inputs": {name: value}}`.
const LOAD_JOBS: &str = r#"
import json, sys, warnings, logging
warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
from azure.ai.ml import load_job
for path in sys.argv[1:]:
    out = {"file": path}
    try:
        job = load_job(path)
        result = job._validate()
        out["passed"] = result.passed
        out["errors"] = "" if result.passed else str(result.error_messages)
        out["inputs"] = {k: getattr(v, "_data", v) for k, v in job.inputs.items()}
        out["inputs"] = {k: v if isinstance(v, (str, int, float, bool)) or v is None else repr(v)
                         for k, v in out["inputs"].items()}
    except Exception as e:
        out["passed"] = False
        out["errors"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))
"#;

fn load_jobs(python: &str, files: &[&Path]) -> Vec<serde_json::Value> {
    let out = Command::new(python)
        .arg("-c")
        .arg(LOAD_JOBS)
        .args(files)
        .output()
        .expect("run the SDK's Python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK's Python failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("one JSON line per file"))
        .collect()
}

/// Each example with the arguments its export is checked with: `io_showcase` and
/// `data_movement` take their data asset on the command line, as their docs say to on Azure ML.
/// `data_movement` has a `data_transfer` (copy) node and a `spark` node.
const EXAMPLES: [(&str, &[&str]); 4] = [
    ("compare_models", &[]),
    ("model_selection", &[]),
    ("io_showcase", &["--input", "iris=azureml:iris:1"]),
    ("data_movement", &["--input", "raw=azureml:iris-raw:1"]),
];

#[test]
fn every_example_yaml_loads_and_validates_with_microsofts_loader() {
    let Some(python) = sdk_python("every_example_yaml_loads_and_validates_with_microsofts_loader")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (example, extra) in EXAMPLES {
        let dir = tmp.path().join(example);
        let out = run_example(example)
            .args(["export", "--format", "yaml", "--out"])
            .arg(&dir)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        files.push(dir.join("pipeline.yml"));
    }
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    for result in load_jobs(&python, &paths) {
        assert_eq!(
            result["passed"], true,
            "Microsoft's loader refused {}: {}",
            result["file"], result["errors"]
        );
    }
}

#[step(
    command = "python echo.py --word ${{inputs.word}} --out ${{outputs.out}}",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    compute = "cpu",
    output = "out",
    env(on = "yes")
)]
fn echo(word: Param<String>) -> Data<UriFolder>;

#[pipeline(tags(yes = "no"))]
fn traps(word: Param<String>) -> Data<UriFolder> {
    echo(word)
}

#[test]
fn yaml_1_1_traps_arrive_in_the_sdk_as_the_same_strings() {
    let Some(python) = sdk_python("yaml_1_1_traps_arrive_in_the_sdk_as_the_same_strings") else {
        return;
    };
    let p = azureml_pipelines::build(traps).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let traps = [
        "yes",
        "on",
        "12:30",
        "1_000",
        "2001-12-14",
        "=",
        "<<",
        "~",
        "0x1F",
        "1e3",
    ];
    let mut files = Vec::new();
    for (i, trap) in traps.iter().enumerate() {
        let dir = tmp.path().join(format!("trap{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let export = wire::to_yaml(
            &p,
            &[Some(InputValue::Literal(Literal::String((*trap).into())))],
            &YamlContext {
                base_dir: dir.clone(),
                force_rerun: false,
            },
        )
        .unwrap();
        for (name, text) in &export.files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        files.push(dir.join("pipeline.yml"));
    }
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    for (trap, result) in traps.iter().zip(load_jobs(&python, &paths)) {
        assert_eq!(
            result["passed"], true,
            "Microsoft's loader refused `{trap}`: {}",
            result["errors"]
        );
        assert_eq!(
            result["inputs"]["word"], *trap,
            "the SDK read `{trap}` as something else"
        );
    }
}

/// Deserializes each REST body into the SDK's REST model for its request and serializes it
/// back; prints one JSON line per body: `{"path", "same", "back"}`.
const ROUND_TRIP: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
from azure.ai.ml._restclient.arm_ml_service import models
from azure.ai.ml._restclient.arm_ml_service._utils.model_base import _deserialize, SdkJSONEncoder
requests = json.load(open(sys.argv[1]))
for r in requests:
    kind = models.JobBase if "/jobs/" in r["path"] else models.ComponentVersion
    model = _deserialize(kind, r["body"])
    # Discriminators pick the typed model: a PipelineJob, typed job inputs and outputs.
    classes = [type(model.properties).__name__]
    if kind is models.JobBase:
        classes += [type(v).__name__ for v in (model.properties.inputs or {}).values()]
        classes += [type(v).__name__ for v in (model.properties.outputs or {}).values()]
    back = json.loads(json.dumps(model, cls=SdkJSONEncoder, exclude_readonly=False))
    print(json.dumps({"path": r["path"], "back": back, "classes": classes}))
"#;

#[test]
fn every_rest_body_round_trips_through_the_sdk_rest_models() {
    let Some(python) = sdk_python("every_rest_body_round_trips_through_the_sdk_rest_models") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for (example, extra) in EXAMPLES {
        let out = run_example(example)
            .args(["export"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        let file = tmp.path().join(format!("{example}.json"));
        std::fs::write(&file, &out.stdout).unwrap();
        let sdk = Command::new(&python)
            .arg("-c")
            .arg(ROUND_TRIP)
            .arg(&file)
            .current_dir(repo())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&sdk.stdout);
        assert!(
            sdk.status.success(),
            "{}",
            String::from_utf8_lossy(&sdk.stderr)
        );
        let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut count = 0;
        for line in stdout.lines().filter(|l| l.starts_with('{')) {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            let body = sent
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["path"] == r["path"])
                .unwrap();
            let classes: Vec<&str> = r["classes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c.as_str())
                .collect();
            if body["path"].as_str().unwrap().contains("/jobs/") {
                assert_eq!(classes[0], "PipelineJob", "{classes:?}");
                assert!(
                    classes[1..]
                        .iter()
                        .all(|c| c.ends_with("JobInput") || c.ends_with("JobOutput")),
                    "{classes:?}"
                );
            } else {
                assert_eq!(classes, ["ComponentVersionProperties"]);
            }
            assert_eq!(
                r["back"], body["body"],
                "{example}: the SDK's REST model changed the body of {}",
                r["path"]
            );
            count += 1;
        }
        assert_eq!(count, sent.as_array().unwrap().len(), "{stdout}");
    }
}
