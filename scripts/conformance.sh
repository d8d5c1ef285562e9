#!/usr/bin/env bash
# Runs the AWS-recorded Step Functions conformance suite (core JSONPath cases) against a
# freshly built sfn-local and fails if the number of passing cases drops below the floor
# in scripts/conformance-floor.txt (the floor only ever rises).
#
# Environment:
#   CONFORMANCE_DIR  suite directory (default: $SHARED_DIR/conformance)
#   SHARED_DIR       shared directory beside the repo (default: <repo>/../shared)
#   CONFORMANCE_ARGS extra runner arguments (e.g. "--category base --verbose")
#   RESULTS_JSON     where to write the runner's JSON results (default: target/conformance.json)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SHARED_DIR:-$repo/../shared}"
suite="${CONFORMANCE_DIR:-$shared/conformance}"
floor_file="$repo/scripts/conformance-floor.txt"
results="${RESULTS_JSON:-$repo/target/conformance.json}"
venv="$repo/.tools/venv"

if [[ ! -f "$suite/run.py" ]]; then
  echo "conformance: no runner at $suite/run.py; set CONFORMANCE_DIR or SHARED_DIR" >&2
  exit 2
fi

if ! "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  echo "conformance: installing boto3 into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet boto3
fi

cargo build --release -p sfn-local --bin sfn-local --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/sfn-local"

state_dir="$(mktemp -d)"
port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$state_dir"
}
trap cleanup EXIT INT TERM

RUST_LOG="${RUST_LOG:-warn}" "$bin" --port "$port" --state-dir "$state_dir" &
server_pid=$!

for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

mkdir -p "$(dirname "$results")"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
# shellcheck disable=SC2086
"$venv/bin/python" "$suite/run.py" --endpoint "http://127.0.0.1:$port" --only-core \
  --json "$results" ${CONFORMANCE_ARGS:-} | tee "$state_dir/runner.out"

last="$(tail -n 1 "$state_dir/runner.out")"
passed="$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' <<<"$last")"
if [[ -z "$passed" ]]; then
  echo "conformance: could not read the runner's summary line: $last" >&2
  exit 1
fi
# Floors, one per score: final outcome, history event types, per-event detail.
floor_of() { sed -n "s/^$1=\([0-9]*\)$/\1/p" "$floor_file" 2>/dev/null || true; }
read -r history detail < <("$venv/bin/python" - "$results" <<'PY'
import json, sys
total = json.load(open(sys.argv[1]))["summary"]["TOTAL"]
print(total["history_passed"], total["detail_passed"])
PY
)
status=0
for score in final history detail; do
  case $score in
    final) got=$passed ;;
    history) got=$history ;;
    detail) got=$detail ;;
  esac
  floor="$(floor_of "core_$score")"
  floor="${floor:-0}"
  echo "conformance: core $score passed $got (floor $floor)"
  if (( got < floor )); then
    echo "conformance: FAILED: core $score $got is below the floor $floor in $floor_file" >&2
    status=1
  fi
done
exit $status
