#!/bin/sh
# Worst-case time to a clear error with DEFAULT settings, timing `compare_models submit` as a user
# runs it against a fake Azure ML that never answers, one that asks for a 100000 s Retry-After, and
# a login whose token endpoint refuses connections or never answers.
#
#   sh benches/fault_bounds.sh
set -eu
cd "$(dirname "$0")/.."
cargo build -q --example compare_models
cargo build -q -p azureml-pipelines-testkit --example fake_aml_faults
bin=target/debug/examples/compare_models
fake=target/debug/examples/fake_aml_faults
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now() { date +%s.%N; }

# time_it NAME ENV... : runs submit with the given environment, prints seconds and the error line.
time_it() {
    name=$1; shift
    t0=$(now)
    env "$@" AZUREML_SUBSCRIPTION_ID=s AZUREML_RESOURCE_GROUP=rg AZUREML_WORKSPACE_NAME=ws \
        "$bin" submit >/dev/null 2>"$out/$name.err" || true
    t1=$(now)
    printf '%-28s %6.1f s  %s\n' "$name" "$(echo "$t1 - $t0" | bc)" \
        "$(grep -m1 '^error' "$out/$name.err" | cut -c1-150)"
    grep -c 'retrying in' "$out/$name.err" | sed 's/^/    retry notices: /'
}

for fault in hang throttle; do
    "$fake" "$fault" >"$out/fake.url" &
    pid=$!
    while [ ! -s "$out/fake.url" ]; do sleep 0.1; done
    read -r url token <"$out/fake.url"
    time_it "$fault" AZUREML_ARM_ENDPOINT="$url" AZUREML_TEST_TOKEN="$token"
    kill "$pid"
    : >"$out/fake.url"
done

# A service principal whose token endpoint refuses connections (a closed local port), then one
# that accepts and never answers (a listener that never reads).
sp="AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47 AZURE_CLIENT_ID=app AZURE_CLIENT_SECRET=not-a-secret"
# shellcheck disable=SC2086
time_it login-refused $sp AZURE_AUTHORITY_HOST=https://127.0.0.1:9 AZUREML_ARM_ENDPOINT=https://127.0.0.1:9
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",47011)); s.listen(64); time.sleep(600)' &
pid=$!
sleep 0.3
# shellcheck disable=SC2086
time_it login-no-answer $sp AZURE_AUTHORITY_HOST=https://127.0.0.1:47011 AZUREML_ARM_ENDPOINT=https://127.0.0.1:9
kill "$pid"
