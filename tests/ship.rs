//! A pipeline binary copied alone into an empty folder, as a CI job or a container ships it:
//! it runs, exports and submits the same pipeline, with the same content hashes, from the step
//! folders and data built into it.
//!
//! The repository stays where it is, so `AZUREML_EMBEDDED=always` makes the copied binary use
//! its embedded files as it does when the build folders are gone; the unit tests of the
//! runtime's `embedded` module cover the case of a crate folder that really moved away.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use support::{example, repo, run_example};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An empty folder holding a copy of the `compare_models` binary and nothing else.
struct Shipped {
    dir: tempfile::TempDir,
}

impl Shipped {
    fn new() -> Shipped {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        std::fs::copy(
            example("compare_models"),
            dir.path().join("bin/compare_models"),
        )
        .unwrap();
        Shipped { dir }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// The copied binary, run in the empty `work` folder.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.dir.path().join("bin/compare_models"));
        cmd.current_dir(self.work())
            .args(args)
            .env("AZUREML_EMBEDDED", "always")
            .env("AZUREML_EMBED_CACHE", self.cache());
        for var in [
            "AZUREML_SUBSCRIPTION_ID",
            "AZUREML_RESOURCE_GROUP",
            "AZUREML_WORKSPACE_NAME",
            "AZUREML_CONFIG",
            "AZUREML_LOCAL_WORKSPACE",
            "AZUREML_LOCAL_PYTHON",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

fn ok(mut cmd: Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} exited with {:?}\nstdout:\n{}\nstderr:\n{}",
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// The content hash `snapshot --step STEP` prints.
fn snapshot_hash(out: &Output) -> String {
    text(&out.stdout)
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("content hash  "))
        .unwrap_or_else(|| panic!("no hash in {}", text(&out.stdout)))
        .to_owned()
}

fn contains_path(haystack: &str, path: &Path) -> bool {
    haystack.contains(&path.display().to_string())
}

#[test]
fn a_binary_copied_alone_exports_and_runs_the_same_pipeline() {
    let shipped = Shipped::new();

    // The same REST bodies, byte for byte: same code ids (snapshot content hashes), same
    // upload path for the default data.
    let mut here = run_example("compare_models");
    here.arg("export");
    let here = ok(here);
    let there = ok(shipped.cmd(&["export"]));
    assert!(!here.stdout.is_empty());
    assert_eq!(text(&there.stdout), text(&here.stdout));

    // The step folders came from the binary, unpacked into the cache.
    let snap = ok(shipped.cmd(&["snapshot", "--step", "train"]));
    let cache = shipped.cache();
    assert!(
        text(&snap.stdout).starts_with(&format!("step `train`: {}/", cache.display())),
        "{}",
        text(&snap.stdout)
    );
    let mut source = run_example("compare_models");
    source.args(["snapshot", "--step", "train"]);
    let source = ok(source);
    assert_eq!(snapshot_hash(&snap), snapshot_hash(&source));

    // `--help` names the default data as written, not the build machine's folders.
    let help = text(&ok(shipped.cmd(&["--help"])).stdout);
    assert!(
        help.contains(
            "iris                 uri_file (default: examples/compare_models/data/iris.csv)"
        ),
        "{help}"
    );
    assert!(!contains_path(&help, &repo()), "{help}");

    // It runs, in a workspace of its own folder, and reuses on the second run.
    let work = shipped.work();
    let above = work
        .ancestors()
        .skip(1)
        .find(|a| a.join(".azureml-local").is_dir());
    assert!(
        above.is_none(),
        "a `.azureml-local` folder in {} would hold this test's runs; remove it",
        above.unwrap_or(Path::new("")).display()
    );
    let first = text(&ok(shipped.cmd(&["--param", "pipeline_arg=20"])).stderr);
    assert!(first.contains("3 ran, 0 reused"), "{first}");
    let second = text(&ok(shipped.cmd(&["--param", "pipeline_arg=20"])).stderr);
    assert!(second.contains("1 ran, 2 reused"), "{second}");
    let entries: Vec<String> = std::fs::read_dir(shipped.work())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, [".azureml-local"]);
    let log = text(&ok(shipped.cmd(&["runs", "logs", "last", "data_prep"])).stdout);
    assert!(log.contains("prepared 150 rows"), "{log}");
}

const CONTAINER: &str = "azureml-blobstore-ship";
const TOKEN: &str = "planted-bearer-ship-41d7";

fn with_workspace(mut cmd: Command, fake: &FakeAzureMl, azurite: &Azurite) -> Command {
    let o = fake.options();
    cmd.env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", fake.url())
        .env("AZUREML_BLOB_ENDPOINT", azurite.blob_endpoint())
        .env("AZUREML_TEST_TOKEN", TOKEN);
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_copied_alone_submits_the_same_code_and_components() {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.accept_token("ship", TOKEN);
    fake.add_compute("aml-compute", "AmlCompute");

    let mut here = run_example("compare_models");
    here.arg("submit");
    let out = output(with_workspace(here, &fake, &azurite)).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let codes = fake.code_versions();
    let components = fake.component_versions();
    assert_eq!(codes.len(), 3, "{codes:?}");

    let shipped = Shipped::new();
    let out = output(with_workspace(shipped.cmd(&["submit"]), &fake, &azurite)).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    // Every snapshot has the content hash of its source folder, so each is found in the
    // workspace and reused; the components are the same versions.
    assert_eq!(
        err.matches("already in the workspace, reused").count(),
        3,
        "{err}"
    );
    assert_eq!(fake.code_versions(), codes);
    assert_eq!(fake.component_versions(), components);
    assert_eq!(fake.job_names().len(), 2);
}
