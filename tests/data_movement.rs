//! The `data_movement` example (a copy step and a Spark step on a data asset), run as a user
//! would: locally (the copy verified; the Spark step failing with a clear message without
//! `spark-submit`, and run through a stand-in `spark-submit` whose command line is recorded),
//! exported against reviewed golden files, and submitted to the fake Azure ML with Azurite.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use support::{assert_golden, repo, run_example};

const TOKEN: &str = "planted-bearer-data-movement";
const DATA_ASSET: &str = "raw=azureml:iris-raw:1";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `data_movement run` in workspace `ws` with `PATH` set to `path` only.
fn run_local(ws: &Path, path: &Path, extra_env: &[(&str, &Path)]) -> Output {
    let mut cmd = run_example("data_movement");
    cmd.args(["run", "--workspace"])
        .arg(ws)
        .env("PATH", path)
        .env_remove("SPARK_HOME");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Every file under `dir` named `name`.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == name))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn without_spark_submit_the_copy_is_verified_and_the_spark_step_says_what_is_missing() {
    let ws = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = run_local(ws.path(), empty.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("✓ copy_to_lake"), "{stderr}");
    assert!(
        stderr.contains(
            "✗ count_species failed after 0.0s: `spark-submit` is not on PATH: the Spark step \
             `count_species` runs locally through Apache Spark's `spark-submit`; install Spark \
             (`pip install pyspark` provides `spark-submit`"
        ),
        "{stderr}"
    );
    // The copy: both files, byte for byte, and its log says the hashes matched.
    for file in ["iris_part1.csv", "iris_part2.csv"] {
        let copies: Vec<PathBuf> = find(&ws.path().join("datastores"), file)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("/copy_to_lake/lake/"))
            .collect();
        assert_eq!(copies.len(), 1, "{copies:?}");
        assert_eq!(
            std::fs::read(&copies[0]).unwrap(),
            std::fs::read(repo().join("examples/data_movement/data").join(file)).unwrap()
        );
    }
    let log = find(&ws.path().join("runs"), "copy_to_lake.log");
    let log = std::fs::read_to_string(&log[0]).unwrap();
    assert!(
        log.starts_with("copied 2 file(s), 291 bytes, from "),
        "{log}"
    );
    assert!(log.trim_end().ends_with("verified"), "{log}");
}

/// A stand-in `spark-submit`: records its arguments, one a line, and writes the output folder
/// `--counts` names.
const FAKE_SPARK_SUBMIT: &str = r#"#!/bin/sh
printf '%s\n' "$@" > "$SPARK_ARGV_FILE"
pwd > "$SPARK_ARGV_FILE.cwd"
while [ $# -gt 0 ]; do
  if [ "$1" = "--counts" ]; then echo "species,count" > "$2/part-00000.csv"; fi
  shift
done
"#;

#[test]
fn with_spark_submit_on_path_the_spark_step_gets_the_whole_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let ws = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let submit = bin.path().join("spark-submit");
    std::fs::write(&submit, FAKE_SPARK_SUBMIT).unwrap();
    std::fs::set_permissions(&submit, std::fs::Permissions::from_mode(0o755)).unwrap();
    let argv = bin.path().join("argv.txt");
    let out = run_local(ws.path(), bin.path(), &[("SPARK_ARGV_FILE", &argv)]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let args = std::fs::read_to_string(&argv).unwrap();
    let args: Vec<&str> = args.lines().collect();
    let n = args.len();
    assert!(n >= 4, "{args:?}");
    assert_eq!(
        args[..n - 4],
        [
            "--py-files",
            "helpers.py",
            "--conf",
            "spark.driver.cores=1",
            "--conf",
            "spark.driver.memory=2g",
            "--conf",
            "spark.executor.cores=2",
            "--conf",
            "spark.executor.memory=2g",
            "--conf",
            "spark.executor.instances=2",
            "--conf",
            "spark.sql.shuffle.partitions=4",
            "count.py",
        ]
    );
    assert_eq!(args[n - 4], "--lake");
    assert_eq!(args[n - 2], "--counts");
    // `--lake` is the copy step's output, as the step sees it.
    let lake = Path::new(args[n - 3]);
    assert!(lake.ends_with("inputs/lake"), "{}", lake.display());
    // The entry and the Python files are in the working folder spark-submit starts in.
    let cwd = std::fs::read_to_string(bin.path().join("argv.txt.cwd")).unwrap();
    assert!(cwd.trim_end().ends_with("count_species/work"), "{cwd}");
    assert!(stderr.contains("✓ count_species ran"), "{stderr}");
    assert!(stderr.contains("Output output: "), "{stderr}");
    let counts = find(&ws.path().join("datastores"), "part-00000.csv");
    assert_eq!(counts.len(), 1, "{counts:?}");
}

fn export(format: &str) -> String {
    let out = run_example("data_movement")
        .args(["export", "--format", format, "--input", DATA_ASSET])
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn data_movement_exports_match_golden() {
    assert_golden("data_movement.json", &export("json"));
    assert_golden("data_movement.yaml", &export("yaml"));
}

struct Env {
    azurite: Azurite,
    fake: FakeAzureMl,
}

async fn env() -> Env {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, "azureml-blobstore-dm").await;
    fake.accept_token("cli", TOKEN);
    fake.add_compute("adf-compute", "DataFactory");
    fake.add_data_version(
        "iris-raw",
        "1",
        "uri_folder",
        "azureml://datastores/workspaceblobstore/paths/iris-raw/",
    );
    Env { azurite, fake }
}

fn submit_cmd(env: &Env, args: &[&str]) -> Command {
    let o = env.fake.options();
    let mut cmd = run_example("data_movement");
    cmd.arg("submit")
        .args(args)
        .env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", env.fake.url())
        .env("AZUREML_BLOB_ENDPOINT", env.azurite.blob_endpoint())
        .env("AZUREML_TEST_TOKEN", TOKEN);
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_sends_a_data_transfer_and_a_spark_node_the_fake_accepts() {
    let env = env().await;
    let out = output(submit_cmd(&env, &["--input", DATA_ASSET])).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains(TOKEN) && !stdout.contains(TOKEN));
    let name = stdout.trim();
    let job = env.fake.job(name).unwrap();
    let ws = env.fake.workspace_id();
    let jobs = &job["properties"]["jobs"];
    let copy = &jobs["copy_to_lake"];
    assert_eq!(copy["type"], "data_transfer");
    assert_eq!(copy["task"], "copy_data");
    assert_eq!(copy["data_copy_mode"], "merge_with_overwrite");
    assert_eq!(copy["computeId"], format!("{ws}/computes/adf-compute"));
    let spark = &jobs["count_species"];
    assert_eq!(spark["type"], "spark");
    assert_eq!(spark["entry"]["file"], "count.py");
    assert_eq!(spark["resources"]["runtime_version"], "3.4");
    assert_eq!(spark["identity"]["identity_type"], "UserIdentity");
    assert_eq!(
        job["properties"]["inputs"]["raw"]["uri"],
        format!("{ws}/data/iris-raw/versions/1")
    );
    // The Spark code folder became a code asset its component points at.
    assert_eq!(env.fake.code_versions().len(), 1);
    let components = env.fake.requests_to("PUT", "/components/");
    let types: Vec<&str> = components
        .iter()
        .filter_map(|r| r.body["properties"]["componentSpec"]["type"].as_str())
        .collect();
    assert_eq!(types, ["data_transfer", "spark"]);
    let spark_spec = &components[1].body["properties"]["componentSpec"];
    assert!(
        spark_spec["code"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("azureml:{ws}/codes/"))),
        "{spark_spec}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_names_a_copy_compute_of_the_wrong_kind() {
    let env = env().await;
    env.fake.add_compute("adf-compute", "AmlCompute");
    let out = output(submit_cmd(&env, &["--input", DATA_ASSET])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "Compute 'adf-compute' is of type AmlCompute; this node needs a DataFactory compute."
        ),
        "{stderr}"
    );
    assert_eq!(
        env.fake.requests_to("PUT", "/jobs/").len(),
        1,
        "the job PUT was sent and refused"
    );
    assert!(env.fake.job_names().is_empty());
}
