#!/bin/sh
# The Linux binary of the rust_steps example and its submission:
#  * builds it as `submit` does (release, x86_64-unknown-linux-musl, static; not stripped) and
#    prints the build time (warm when it was built before) and the size of the binary uploaded,
#    with the size it would have stripped, for comparison;
#  * times `rust_steps submit` against the fake Azure ML with a real Azurite: the first
#    submission (binary checked, staged, hashed, uploaded) and repeated ones (found by hash).
# Needs `rustup target add x86_64-unknown-linux-musl` and musl-tools (see the README).
#
#   sh benches/rust_binary.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
start=$(date +%s.%N)
cargo build -q --release --target x86_64-unknown-linux-musl --example rust_steps
end=$(date +%s.%N)
linux="$target_dir/x86_64-unknown-linux-musl/release/examples/rust_steps"
size=$(stat -c %s "$linux")
stripped="$(mktemp)"
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$linux"
awk -v s="$start" -v e="$end" 'BEGIN { printf "release musl build of rust_steps: %.1f s\n", e - s }'
awk -v b="$size" -v t="$(stat -c %s "$stripped")" 'BEGIN {
  printf "uploaded Linux binary: %d bytes (%.1f MB), not stripped; stripped it would be %.1f MB\n", b, b / 1e6, t / 1e6 }' 
file "$linux" | sed 's/^[^:]*: /  /'
cargo build -q --example rust_steps
cargo build -q -p azureml-pipelines-testkit --example rust_submit_bench
"$target_dir/debug/examples/rust_submit_bench" "$target_dir/debug/examples/rust_steps" "$linux" "${1:-5}"
