#!/bin/sh
# publish + endpoint create + deploy + invoke of compare_models, as a user runs them, against the
# fake Azure ML with 50 ms added to every request (and without, to count the sequential round
# trips); snapshots go to a real Azurite. Prints requests, wall times and sequential round trips
# per command. Microsoft's Python SDK needs about 45 sequential requests for the same flow.
#
#   sh benches/operate.sh [LATENCY_MS]
set -eu
cd "$(dirname "$0")/.."
cargo build -q --example compare_models
cargo build -q -p azureml-pipelines-testkit --example operate_bench
target/debug/examples/operate_bench target/debug/examples/compare_models "${1:-50}"
