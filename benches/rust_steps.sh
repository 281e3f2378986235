#!/usr/bin/env bash
# Rust steps, measured locally:
#  1. the overhead of a no-op Rust step next to a no-op `python3` step: 200 independent steps of
#     each kind run by the local backend (4 at a time, its default), best of 3 runs each;
#  2. the time from `cargo run --example rust_steps` (warm build) to its first Rust step starting.
#
# Usage: benches/rust_steps.sh   (from the repository root; builds a small pipeline crate in a
# temporary folder into this workspace's target dir, without the `azure` feature)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
target=$(cd "$repo" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src"
cp "$repo/Cargo.lock" "$repo/rust-toolchain.toml" "$work/"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "rust-steps-bench"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
azureml-pipelines = { path = "$repo", default-features = false }

[workspace]

[profile.dev.package."*"]
debug = false
TOML
cat > "$work/src/main.rs" <<'RUST'
use azureml_pipelines::prelude::*;

/// Does nothing (a Rust step).
#[step]
fn rust_noop(i: i64) -> Result<(), String> {
    let _ = i;
    Ok(())
}

/// Does nothing (a `python3` step).
#[step(command = "python3 -c pass ${{inputs.i}}", environment = "python:3.12")]
fn python_noop(i: Param<i64>);

#[pipeline]
fn rust_fanout() {
    for i in 0..200 {
        rust_noop(i);
    }
}

#[pipeline]
fn python_fanout() {
    for i in 0..200 {
        python_noop(i);
    }
}

fn main() -> std::process::ExitCode {
    // The step processes inherit the variable, so the hidden entry point builds the same graph.
    if std::env::var("BENCH_KIND").as_deref() == Ok("python") {
        azureml_pipelines::cli::main(python_fanout)
    } else {
        azureml_pipelines::cli::main(rust_fanout)
    }
}
RUST
(cd "$work" && CARGO_TARGET_DIR="$target" cargo build --offline --quiet)
bin="$target/debug/rust-steps-bench"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

best() {
    local kind=$1 best=
    for _ in 1 2 3; do
        local ws
        ws=$(mktemp -d)
        local t0
        t0=$(date +%s%N)
        BENCH_KIND=$kind "$bin" run --workspace "$ws" >/dev/null 2>&1
        local t
        t=$(ms "$t0")
        rm -rf "$ws"
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    echo "$best"
}

rust=$(best rust)
python=$(best python)
echo "200 no-op Rust steps:    ${rust} ms  ($(( rust * 1000 / 200 )) us a step, run to run, best of 3)"
echo "200 no-op python3 steps: ${python} ms  ($(( python * 1000 / 200 )) us a step)"
echo "Rust step overhead below python3: $(( (python - rust) * 1000 / 200 )) us a step"

# 2. cargo run (warm) to the first Rust step starting.
(cd "$repo" && cargo build --quiet --example rust_steps)
ws=$(mktemp -d)
t0=$(date +%s%N)
first=
while IFS= read -r line; do
    case "$line" in
        *"data_prep started"*) first=$(ms "$t0") ;;
    esac
done < <(cd "$repo" && cargo run --quiet --example rust_steps -- run --workspace "$ws" --regenerate-outputs 2>&1)
rm -rf "$ws"
echo "cargo run --example rust_steps (warm build) to data_prep started: ${first:-?} ms"
