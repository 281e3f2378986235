//! Times `submit` of a pipeline with Rust steps, as a user runs it, against the fake Azure ML
//! (real HTTP) with the snapshot and binary uploads going to a real Azurite: the first
//! submission (the Linux binary checked, staged, hashed and uploaded) and the median of repeated
//! ones (everything found by hash). Run by `benches/rust_binary.sh`:
//!
//! ```sh
//! cargo run -p azureml-pipelines-testkit --example rust_submit_bench -- \
//!     target/debug/examples/rust_steps target/x86_64-unknown-linux-musl/release/examples/rust_steps 5
//! ```

use std::process::Command;
use std::time::Instant;

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;

const TOKEN: &str = "bench-token";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bin), Some(linux)) = (args.first(), args.get(1)) else {
        eprintln!("usage: rust_submit_bench PIPELINE_BINARY LINUX_BINARY [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, "bench-rust").await;
    fake.accept_token("bench", TOKEN);
    fake.add_compute("aml-compute", "AmlCompute");
    let staging = std::env::temp_dir().join(format!("rust-submit-bench-{}", std::process::id()));
    let o = fake.options();
    let mut times = Vec::new();
    for round in 0..=rounds {
        let mut cmd = Command::new(bin);
        cmd.arg("submit")
            .env("AZUREML_SUBSCRIPTION_ID", &o.subscription_id)
            .env("AZUREML_RESOURCE_GROUP", &o.resource_group)
            .env("AZUREML_WORKSPACE_NAME", &o.workspace_name)
            .env("AZUREML_ARM_ENDPOINT", fake.url())
            .env("AZUREML_BLOB_ENDPOINT", azurite.blob_endpoint())
            .env("AZUREML_TEST_TOKEN", TOKEN)
            .env("AZUREML_PIPELINES_LINUX_BINARY", linux)
            .env("CARGO_TARGET_DIR", &staging);
        let before = fake.requests().len();
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("run the pipeline binary");
        let secs = started.elapsed().as_secs_f64();
        if !out.status.success() {
            eprintln!("submit failed:\n{}", String::from_utf8_lossy(&out.stderr));
            std::process::exit(1);
        }
        let requests = fake.requests().len() - before;
        if round == 0 {
            println!(
                "first submit (binary uploaded): {secs:.2} s, {requests} control-plane requests"
            );
        } else {
            times.push(secs);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "submit again (binary found by hash), median of {rounds}: {:.2} s",
        times[times.len() / 2]
    );
    let _ = std::fs::remove_dir_all(&staging);
}
