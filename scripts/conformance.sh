#!/usr/bin/env bash
# Runs the AWS-recorded Step Functions conformance cases (conformance/cases) with the
# project's runner (crates/sfn-conformance): every case against a freshly built sfn-local,
# but the one that needs SNS, which runs against local mode (`hitl local`). Fails if a core
# JSONPath, JSONata or Variables score drops below its floor in
# scripts/conformance-floor.txt (the floors only ever rise), or if any case fails.
#
# Environment:
#   CONFORMANCE_ARGS extra runner arguments (e.g. "--category base --verbose")
#   RESULTS_JSON     where to write the runner's JSON results (default: target/conformance.json)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
floor_file="$repo/scripts/conformance-floor.txt"
results="${RESULTS_JSON:-$repo/target/conformance.json}"

cargo build --locked --release --manifest-path "$repo/Cargo.toml" \
  -p sfn-local --bin sfn-local -p sfn-conformance --bin sfn-conformance
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target";; esac
bin="$target/release"

state_dir="$(mktemp -d)"
server_pid=""
local_pid=""
cleanup() {
  for pid in $server_pid $local_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$state_dir"
}
trap cleanup EXIT INT TERM

# Port 0: the system picks a free port; sfn-local logs the address it bound.
RUST_LOG="${RUST_LOG:-warn,sfn_local=info}" NO_COLOR=1 \
  "$bin/sfn-local" --port 0 --state-dir "$state_dir/db" >"$state_dir/server.log" 2>&1 &
server_pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(grep -oE '127\.0\.0\.1:[0-9]+' "$state_dir/server.log" | head -n 1 || true)"
  [[ -n "$addr" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$addr" ]]; then
  echo "conformance: sfn-local did not start; its log:" >&2
  cat "$state_dir/server.log" >&2
  exit 2
fi

mkdir -p "$(dirname "$results")"
# Every case but those that need SNS runs against sfn-local alone; the runner scores core
# JSONPath, JSONata and Variables against the floors, one line per subset and score.
# shellcheck disable=SC2086
# CONFORMANCE_ARGS with a --category of its own chooses the categories (and the SNS stage
# runs only if it names callbacks).
if [[ "${CONFORMANCE_ARGS:-}" == *--category* ]]; then
  category_args=()
  [[ "${CONFORMANCE_ARGS}" == *callbacks* ]] && run_callbacks=1 || run_callbacks=0
else
  categories="$(find "$repo/conformance/cases" -name '*.jsonl' -printf '%f\n' | sed 's/\.jsonl$//' \
    | grep -vx callbacks | sort | paste -sd, -)"
  category_args=(--category "$categories")
  run_callbacks=1
fi
"$bin/sfn-conformance" --endpoint "http://$addr" --cases-dir "$repo/conformance/cases" \
  "${category_args[@]}" --floors "$floor_file" --json "$results" ${CONFORMANCE_ARGS:-} \
  | tee "$state_dir/main.out"
if (( ! run_callbacks )); then
  exit 0
fi

# The case that needs SNS (callbacks: publish with .waitForTaskToken, then the callback)
# runs against local mode, which serves Step Functions and SNS on one port: `hitl local`
# over a stack with nothing but a placeholder topic (no functions to build). Debug build:
# the test stage has built it already, and one case needs no speed.
cargo build --locked --manifest-path "$repo/Cargo.toml" -p hitl --bin hitl
local_dir="$state_dir/local"
mkdir -p "$local_dir"
NO_COLOR=1 "$target/debug/hitl" local --template "$repo/scripts/conformance-stack.yaml" \
  --port 0 --state-dir "$local_dir/state" --no-build >"$local_dir/log" 2>&1 &
local_pid=$!
local_addr=""
for _ in $(seq 1 300); do
  local_addr="$(grep -oE 'Ready: local mode answers on http://127\.0\.0\.1:[0-9]+' "$local_dir/log" \
    | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1 || true)"
  [[ -n "$local_addr" ]] && break
  if ! kill -0 "$local_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$local_addr" ]]; then
  echo "conformance: hitl local did not start; its log:" >&2
  cat "$local_dir/log" >&2
  kill "$local_pid" 2>/dev/null || true
  exit 2
fi
set +e
"$bin/sfn-conformance" --endpoint "http://$local_addr" --cases-dir "$repo/conformance/cases" \
  --category callbacks --json "$state_dir/callbacks.json" | tee "$state_dir/callbacks.out"
set -e
kill "$local_pid" 2>/dev/null || true
wait "$local_pid" 2>/dev/null || true

# One line for the whole suite; every case must pass (the floors above guard the scores
# of the subsets; a case outside them that fails still fails the stage).
summary() {
  local line
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1 || true)"
  if [[ -z "$line" ]]; then
    echo "conformance: the runner printed no summary in $1; its output:" >&2
    cat "$1" >&2
    exit 2
  fi
  sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$line"
}
main_summary="$(summary "$state_dir/main.out")"
sns_summary="$(summary "$state_dir/callbacks.out")"
read -r main_passed main_failed <<<"$main_summary"
read -r sns_passed sns_failed <<<"$sns_summary"
passed=$((main_passed + sns_passed))
total=$((passed + main_failed + sns_failed))
echo "conformance: $passed of $total cases passed ($main_passed of $((main_passed + main_failed)) against sfn-local, $sns_passed of $((sns_passed + sns_failed)) that need SNS against local mode)"
if (( main_failed + sns_failed > 0 )); then
  echo "conformance: $((main_failed + sns_failed)) case(s) failed; rerun with CONFORMANCE_ARGS=--verbose to see why" >&2
  exit 1
fi
