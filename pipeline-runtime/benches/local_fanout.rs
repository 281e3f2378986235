//! Local backend overhead: a 200-step fan-out of no-op command steps.
//!
//! Each leaf gets its own parameter value, so the full-reuse rerun looks up as many distinct
//! reuse keys as there are steps.
//!
//! Prints: the cost of spawning the same 200 step commands directly (same parallelism), a
//! first local run (every step runs), its overhead per step above the spawning cost, and a
//! full-reuse rerun. Bars: ≤ 5 ms per step above spawning; full-reuse rerun ≤ 300 ms.
//!
//! `cargo bench -p azureml-pipelines-runtime --bench local_fanout [-- STEPS]`

#[path = "../tests/local_support/mod.rs"]
mod local_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use azureml_pipelines_runtime::graph::{AssetType, ParamType};
use azureml_pipelines_runtime::local::{self, RunStatus};
use local_support::*;

const NOOP: &str = "echo x > ${{outputs.o}}/x";

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let s = Scratch::new();
    let root = s.path().to_path_buf();
    s.write("src/noop.py", "pass\n");
    let seed = StepSpec::new(&root, "seed", NOOP)
        .source("src")
        .output("o")
        .build();
    let leaf = StepSpec::new(
        &root,
        "leaf",
        format!("{NOOP}; : ${{{{inputs.x}}}} ${{{{inputs.k}}}}"),
    )
    .source("src")
    .input(data("x", AssetType::UriFolder, None))
    .input(param("k", ParamType::Integer))
    .output("o")
    .build();
    let mut p = PipelineSpec::new("fanout", &root);
    let o = p.step(seed, vec![]).remove(0);
    for k in 0..n {
        p.step(leaf, vec![o.clone(), lit(k as i64)]);
    }
    let p = p.done();
    let parallel = std::thread::available_parallelism().map_or(2, |c| c.get());
    let mut opts = s.opts();
    opts.max_parallel = parallel;

    // Baseline: spawn the same commands ourselves, `parallel` at a time.
    let spawn = baseline(n + 1, parallel, &root.join("baseline"));

    let t = Instant::now();
    let first = local::run(&p, &opts, |_| {}).expect("first run");
    let first_t = t.elapsed();
    assert_eq!(first.status, RunStatus::Completed);

    let t = Instant::now();
    let again = local::run(&p, &opts, |_| {}).expect("rerun");
    let reuse_t = t.elapsed();
    assert_eq!(again.status, RunStatus::Completed);
    let reused = again
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, local::StepOutcome::Reused { .. }))
        .count();
    assert_eq!(reused, n + 1, "every step is reused");
    let keys: std::collections::HashSet<_> = {
        let ws = local::Workspace::open(s.ws()).expect("workspace");
        let store = ws.store().expect("store");
        store
            .steps(&again.run_id)
            .expect("steps")
            .into_iter()
            .filter_map(|s| s.reuse_key)
            .collect()
    };
    assert_eq!(keys.len(), n + 1, "one distinct reuse key per step");

    let steps = (n + 1) as f64;
    let over = (first_t.as_secs_f64() - spawn.as_secs_f64()) / steps * 1e3;
    println!("local_fanout: {} steps, {parallel} at a time", n + 1);
    println!(
        "  spawning the commands directly: {:>8.1} ms ({:.2} ms/step)",
        ms(spawn),
        ms(spawn) / steps
    );
    println!(
        "  first local run:                {:>8.1} ms ({:.2} ms/step)",
        ms(first_t),
        ms(first_t) / steps
    );
    println!(
        "  overhead above spawning:        {over:>8.2} ms/step   (bar: ≤ 5 ms/step) {}",
        verdict(over <= 5.0)
    );
    println!(
        "  full-reuse rerun:               {:>8.1} ms            (bar: ≤ 300 ms) {}",
        ms(reuse_t),
        verdict(reuse_t <= Duration::from_millis(300))
    );
}

fn baseline(n: usize, parallel: usize, dir: &std::path::Path) -> Duration {
    std::fs::create_dir_all(dir).unwrap();
    let t = Instant::now();
    let mut running = Vec::new();
    for i in 0..n {
        if running.len() == parallel {
            let mut c: std::process::Child = running.remove(0);
            c.wait().unwrap();
        }
        let out = dir.join(i.to_string());
        std::fs::create_dir_all(&out).unwrap();
        running.push(
            Command::new("/bin/sh")
                .arg("-c")
                .arg(NOOP.replace("${{outputs.o}}", &out.to_string_lossy()))
                .stdin(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    for mut c in running {
        c.wait().unwrap();
    }
    t.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "OVER" }
}
