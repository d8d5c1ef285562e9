#!/usr/bin/env bash
# Runs the AWS-recorded Step Functions conformance cases (conformance/cases) against a
# freshly built sfn-local with the project's runner (crates/sfn-conformance), and fails if
# a core JSONPath, JSONata or Variables score drops below its floor in
# scripts/conformance-floor.txt (the floors only ever rise).
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
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
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
# Every case runs; the runner scores core JSONPath, JSONata and Variables against the
# floors, one line per subset and score. The one case that needs SNS (callbacks) is in none
# of them: it fails here, with sfn-local alone, and its path runs in the local-mode
# end-to-end tests.
# shellcheck disable=SC2086
"$bin/sfn-conformance" --endpoint "http://$addr" --cases-dir "$repo/conformance/cases" \
  --floors "$floor_file" --json "$results" ${CONFORMANCE_ARGS:-}
