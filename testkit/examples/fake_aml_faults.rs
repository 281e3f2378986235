//! A fake Azure ML server answering every GET with one fault, for timing the command line by hand
//! or from `benches/fault_bounds.sh`:
//!
//! ```sh
//! cargo run -p azureml-pipelines-testkit --example fake_aml_faults -- hang      # never answers
//! cargo run -p azureml-pipelines-testkit --example fake_aml_faults -- throttle  # 429, Retry-After: 100000
//! ```
//!
//! It prints its URL (for `AZUREML_ARM_ENDPOINT`) and the token it accepts, then serves until
//! killed.

use std::time::Duration;

use azureml_pipelines_testkit::fake_aml::{FakeAzureMl, Fault, FaultRule};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let fault = match std::env::args().nth(1).as_deref() {
        Some("hang") => Fault::Delay(Duration::from_secs(24 * 3600)),
        Some("throttle") => Fault::throttle_secs(100_000),
        Some("none") => Fault::Delay(Duration::ZERO),
        other => {
            eprintln!("usage: fake_aml_faults hang|throttle|none (got {other:?})");
            std::process::exit(2);
        }
    };
    let fake = FakeAzureMl::start().await;
    fake.inject(FaultRule::new("GET", "/").fault(fault).times(usize::MAX));
    println!("{} {}", fake.url(), FakeAzureMl::DEFAULT_TOKEN);
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
