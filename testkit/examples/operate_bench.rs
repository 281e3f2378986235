//! Times publish + endpoint create + deploy + invoke of a pipeline binary against the fake Azure
//! ML (and a real Azurite for the snapshot uploads), once with no added latency and once with
//! `--latency-ms` added to every request, and prints the figures. Run by `benches/operate.sh`:
//!
//! ```sh
//! cargo run -p azureml-pipelines-testkit --example operate_bench -- target/debug/examples/compare_models 50
//! ```
//!
//! Sequential round trips are estimated as (time with latency − time without) / latency: every
//! request that waits for the one before it adds the latency once; requests in flight together
//! add it once between them.

use std::process::Command;
use std::time::{Duration, Instant};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;

const TOKEN: &str = "bench-token";

const STEPS: [&[&str]; 4] = [
    &["publish", "--version", "1"],
    &["endpoint", "create", "bench-ep"],
    &[
        "endpoint",
        "deploy",
        "bench-ep",
        "--pipeline",
        "compare_models:1",
        "--deployment",
        "v1",
    ],
    &[
        "endpoint",
        "invoke",
        "bench-ep",
        "--param",
        "pipeline_arg=20",
        "--input",
        "iris=azureml://datastores/workspaceblobstore/paths/iris/iris.csv",
    ],
];

/// Runs the four commands against a fresh fake; returns (seconds per command, requests per command).
async fn flow(
    bin: &str,
    azurite: &Azurite,
    latency: Duration,
    container: &str,
) -> (Vec<f64>, Vec<usize>) {
    let fake = FakeAzureMl::start_on_azurite(azurite, container).await;
    fake.accept_token("bench", TOKEN);
    // `publish` checks the compute the pipeline names, as `submit` does.
    fake.add_compute("aml-compute", "AmlCompute");
    fake.set_latency(latency);
    let o = fake.options();
    let mut times = Vec::new();
    let mut counts = Vec::new();
    for args in STEPS {
        let before = fake.requests().len();
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("AZUREML_SUBSCRIPTION_ID", &o.subscription_id)
            .env("AZUREML_RESOURCE_GROUP", &o.resource_group)
            .env("AZUREML_WORKSPACE_NAME", &o.workspace_name)
            .env("AZUREML_ARM_ENDPOINT", fake.url())
            .env("AZUREML_BLOB_ENDPOINT", azurite.blob_endpoint())
            .env("AZUREML_TEST_TOKEN", TOKEN);
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("run the pipeline binary");
        times.push(started.elapsed().as_secs_f64());
        if !out.status.success() {
            eprintln!("{args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
            std::process::exit(1);
        }
        counts.push(fake.requests().len() - before);
    }
    (times, counts)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some(bin) = args.next() else {
        eprintln!("usage: operate_bench PIPELINE_BINARY [LATENCY_MS]");
        std::process::exit(2);
    };
    let ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let azurite = Azurite::start();
    let (t0, counts) = flow(&bin, &azurite, Duration::ZERO, "bench-0").await;
    let (t1, _) = flow(&bin, &azurite, Duration::from_millis(ms), "bench-1").await;
    println!(
        "{:<18} {:>8} {:>10} {:>12} {:>10}",
        "command",
        "requests",
        "0 ms (s)",
        format!("{ms} ms (s)"),
        "sequential"
    );
    let names = [
        "publish",
        "endpoint create",
        "endpoint deploy",
        "endpoint invoke",
    ];
    let mut total = (0, 0.0, 0.0);
    for i in 0..STEPS.len() {
        let seq = ((t1[i] - t0[i]) * 1000.0 / ms as f64).round();
        println!(
            "{:<18} {:>8} {:>10.2} {:>12.2} {:>10}",
            names[i], counts[i], t0[i], t1[i], seq
        );
        total = (total.0 + counts[i], total.1 + t0[i], total.2 + t1[i]);
    }
    let seq = ((total.2 - total.1) * 1000.0 / ms as f64).round();
    println!(
        "{:<18} {:>8} {:>10.2} {:>12.2} {:>10}",
        "total", total.0, total.1, total.2, seq
    );
    println!(
        "(sequential = round trips that waited for one another, from the added latency; blob uploads to Azurite are not delayed)"
    );
}
