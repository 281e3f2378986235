//! Submission speed against the fake Azure ML (real HTTP on 127.0.0.1) with blob uploads to a
//! real Azurite.
//!
//! (a) The 200-way fan-out (1 prep → 200 train → 1 aggregate; three distinct steps sharing one
//!     snapshot folder) with no added latency: the first submission (snapshot hashed, uploaded,
//!     registered) and then the median of repeated submissions (the code asset found by hash).
//!     Bar: ≤ 100 ms.
//! (b) With 50 ms added to every control-plane request: wall time to submit 5, 50 and 200
//!     *distinct* steps (each its own component and snapshot folder), first (snapshots new) and
//!     again (found by hash), and the same without the latency; their difference divided by the
//!     latency is the number of sequential round trips, which must not grow with the number of
//!     distinct steps.
//!
//! `cargo bench -p azureml-pipelines-runtime --bench submit`; `SUBMIT_BENCH_ROUNDS` (default 20)
//! sets the repeated submissions of (a).

#[path = "../tests/local_support/mod.rs"]
#[allow(unused_imports)]
mod local_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::http::Url;
use azureml_pipelines_runtime::azure::submit::{self, SubmitEvent, SubmitEvents, SubmitOptions};
use azureml_pipelines_runtime::azure::{ArmClientOptions, Credential, Workspace, WorkspaceConfig};
use azureml_pipelines_runtime::graph::{
    AssetType, Binding, DataLocation, InputValue, Pipeline, PortType,
};
use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use local_support::{PipelineSpec, StepSpec, data, lit, param};

const ENV: &str = "azureml:AzureML-sklearn-1.5@latest";
const CONTAINER: &str = "bench-uploads";
const LATENCY: Duration = Duration::from_millis(50);

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn main() {
    let rounds: usize = std::env::var("SUBMIT_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(rounds));
}

async fn start() -> (Azurite, FakeAzureMl, Workspace) {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.add_compute("aml-compute", "AmlCompute");
    let o = fake.options();
    let config = WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&fake.url()).expect("a URL"))
        .with_blob_endpoint(Url::parse(azurite.blob_endpoint()).expect("a URL"));
    let ws = Workspace::new(
        config,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        ArmClientOptions::default(),
    )
    .expect("a workspace");
    (azurite, fake, ws)
}

/// 1 prep → `n` train → 1 aggregate; three distinct steps, one snapshot folder.
fn fanout(root: &Path, n: usize) -> Pipeline {
    let step = |name: &'static str, command: String| {
        let mut s = StepSpec::new(root, name, command).source("src");
        s.environment = Some(ENV);
        s
    };
    let prep = step(
        "prep",
        "python prep.py --raw ${{inputs.raw}} --out ${{outputs.out}}".into(),
    )
    .input(data("raw", AssetType::UriFile, None))
    .output("out")
    .build();
    let train = step(
        "train",
        "python train.py --data ${{inputs.data}} --k ${{inputs.k}} --out ${{outputs.model}}".into(),
    )
    .input(data("data", AssetType::UriFolder, None))
    .input(param(
        "k",
        azureml_pipelines_runtime::graph::ParamType::Integer,
    ))
    .output("model")
    .build();
    let mut agg = step(
        "aggregate",
        format!(
            "python pick.py {} --best ${{{{outputs.best}}}}",
            (0..n)
                .map(|i| format!("${{{{inputs.m{i}}}}}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
    for i in 0..n {
        agg = agg.input(data(&format!("m{i}"), AssetType::UriFolder, None));
    }
    let agg = agg.output("best").build();

    let mut p = PipelineSpec::new("fanout", root);
    p.pipeline.settings.default_compute = Some("aml-compute".into());
    let raw = p.input(
        "raw",
        PortType::Data(AssetType::UriFile),
        Some(InputValue::Data(DataLocation::Uri(
            "azureml://datastores/workspaceblobstore/paths/raw/iris.csv".into(),
        ))),
    );
    let prepped = p.step(prep, vec![raw]).remove(0);
    let models: Vec<Binding> = (0..n)
        .map(|i| {
            p.step(train, vec![prepped.clone(), lit(i as i64)])
                .remove(0)
        })
        .collect();
    let best = p.step(agg, models).remove(0);
    p.output("best", &best);
    p.done()
}

/// `n` independent distinct steps, each with its own snapshot folder.
/// `salt` makes the snapshots new to the workspace.
fn distinct(root: &Path, n: usize, salt: &str) -> Pipeline {
    let mut p = PipelineSpec::new(&format!("distinct{n}"), root);
    p.pipeline.settings.default_compute = Some("aml-compute".into());
    for i in 0..n {
        let dir = format!("src{n}_{salt}_{i}");
        std::fs::create_dir_all(root.join(&dir)).expect("a folder");
        std::fs::write(
            root.join(&dir).join("step.py"),
            format!("print('step {i} of {n}, {salt}')\n"),
        )
        .expect("a file");
        let name = leak(format!("step{i}"));
        let mut s = StepSpec::new(
            root,
            name,
            format!("python step.py --i {i} --out ${{{{outputs.out}}}}"),
        )
        .source(&dir)
        .output("out");
        s.environment = Some(ENV);
        p.step(s.build(), vec![]);
    }
    p.done()
}

fn values(p: &Pipeline) -> Vec<InputValue> {
    p.bind(&[], &[], Path::new("/")).expect("bound")
}

/// When each phase ended, from the start: snapshots hashed, code assets ready, components
/// registered, job created.
#[derive(Clone, Copy, Default)]
struct Phases {
    hashed: Duration,
    code: Duration,
    components: Duration,
    total: Duration,
    /// The longest blob upload of one snapshot (they run at once).
    upload: Duration,
}

async fn submit_phases(ws: &Workspace, p: &Pipeline, name: String) -> Phases {
    let t = Instant::now();
    let marks = Arc::new(Mutex::new(Phases::default()));
    let sink = Arc::clone(&marks);
    let events: SubmitEvents = Arc::new(move |e| {
        let now = t.elapsed();
        let mut m = sink.lock().expect("not poisoned");
        match e {
            SubmitEvent::SnapshotHashed { .. } => m.hashed = now,
            SubmitEvent::CodeReused { .. } => m.code = now,
            SubmitEvent::CodeUploaded { report, .. } => {
                m.code = now;
                if let Some(r) = report {
                    m.upload = m.upload.max(r.elapsed);
                }
            }
            SubmitEvent::ComponentsRegistered { .. } => m.components = now,
            _ => {}
        }
    });
    let opts = SubmitOptions {
        job_name: Some(name),
        ..Default::default()
    };
    let values = values(p);
    submit::submit(ws, p, &values, &opts, &events)
        .await
        .expect("submitted");
    let mut m = *marks.lock().expect("not poisoned");
    m.total = t.elapsed();
    m
}

async fn submit_once(ws: &Workspace, p: &Pipeline, name: String) -> Duration {
    submit_phases(ws, p, name).await.total
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

async fn run(rounds: usize) {
    let (_azurite, fake, ws) = start().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).expect("a folder");
    for f in ["prep.py", "train.py", "pick.py"] {
        std::fs::write(root.join("src").join(f), "print('hi')\n").expect("a file");
    }

    // (a) The 200-way fan-out, no added latency.
    let p = fanout(root, 200);
    let first = submit_once(&ws, &p, "fanout_0".into()).await;
    let mut times: Vec<Duration> = Vec::new();
    for i in 0..rounds {
        times.push(submit_once(&ws, &p, format!("fanout_{}", i + 1)).await);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "submit: 200-way fan-out ({} nodes, {} components), no added latency",
        p.nodes.len(),
        fake.component_versions().len()
    );
    println!(
        "  first submission (hash, upload, register): {:>7.1} ms",
        ms(first)
    );
    println!(
        "  repeated, median of {rounds}:                {:>7.1} ms  (min {:.1}, max {:.1})  (bar: ≤ 100 ms; Python SDK ~3500 ms) {}",
        ms(median),
        ms(times[0]),
        ms(times[times.len() - 1]),
        verdict(median <= Duration::from_millis(100))
    );

    // (b) 5, 50, 200 distinct steps, each submitted first (new snapshots) and again (found by
    // hash), once without and once with 50 ms on every control-plane request. The difference
    // divided by the latency is the number of sequential round trips; the rest is local work
    // (hashing, JSON, both ends of the HTTP on this machine) and blob uploads.
    println!(
        "submit: distinct steps; sequential control-plane round trips = (time with {} ms latency - time without) / {} ms",
        LATENCY.as_millis(),
        LATENCY.as_millis()
    );
    let mut rounds = Vec::new();
    for n in [5usize, 50, 200] {
        let mut at = Vec::new();
        for (latency, salt) in [(Duration::ZERO, "a"), (LATENCY, "b")] {
            fake.set_latency(latency);
            let p = distinct(root, n, salt);
            let first = submit_phases(&ws, &p, format!("distinct{n}_{salt}1")).await;
            let again = submit_phases(&ws, &p, format!("distinct{n}_{salt}2")).await;
            at.push((first, again));
        }
        let ((f0, r0), (f50, r50)) = (at[0], at[1]);
        let trips = |with: Phases, without: Phases| {
            (with.total.as_secs_f64() - without.total.as_secs_f64()) / LATENCY.as_secs_f64()
        };
        let (tf, tr) = (trips(f50, f0), trips(r50, r0));
        println!(
            "  {n:>3} distinct steps: first {:>7.1} ms at 50 ms latency ({:>6.1} ms without; blob upload {:>6.1} ms) = {tf:.1} round trips; again {:>6.1} ms ({:>5.1} ms without) = {tr:.1} round trips",
            ms(f50.total),
            ms(f0.total),
            ms(f50.upload),
            ms(r50.total),
            ms(r0.total),
        );
        rounds.push((tf, tr));
    }
    // Not growing: 200 distinct steps need at most half a round trip more than 5 (noise).
    let grows = |a: f64, b: f64| b > a + 0.5;
    println!(
        "  sequential round trips do not grow from 5 to 200 distinct steps: {}",
        verdict(!grows(rounds[0].0, rounds[2].0) && !grows(rounds[0].1, rounds[2].1))
    );
}
