#!/usr/bin/env bash
# Runs the AWS-recorded Step Functions conformance suite against a freshly built
# sfn-local and fails if the core JSONPath, JSONata or Variables scores drop below the
# floors in scripts/conformance-floor.txt (the floors only ever rise).
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
# Every case runs; core JSONPath, JSONata and Variables are scored separately from the
# per-case results below. The one case that needs SNS (callbacks) is in none of them: it
# fails here, with sfn-local alone, and its path runs in the local-mode end-to-end tests.
# shellcheck disable=SC2086
"$venv/bin/python" "$suite/run.py" --endpoint "http://127.0.0.1:$port" \
  --json "$results" ${CONFORMANCE_ARGS:-} | tee "$state_dir/runner.out"

last="$(tail -n 1 "$state_dir/runner.out")"
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' <<<"$last"; then
  echo "conformance: could not read the runner's summary line: $last" >&2
  exit 1
fi
# Floors, one per subset and score: final outcome, history event types, per-event detail.
# Subsets as the suite's README defines them: core (JSONPath, no Variables, no external
# needs), jsonata (query_language JSONata, mixed machines included), variables.
floor_of() { sed -n "s/^$1=\([0-9]*\)$/\1/p" "$floor_file" 2>/dev/null || true; }
scores="$("$venv/bin/python" - "$results" "$suite/cases" <<'PY'
import glob, json, os, sys
results = {r["id"]: r for r in json.load(open(sys.argv[1]))["results"]}
subsets = {"core": [], "jsonata": [], "variables": []}
for path in glob.glob(os.path.join(sys.argv[2], "*.jsonl")):
    for line in open(path):
        case = json.loads(line)
        r = results.get(case["id"])
        if r is None:
            continue
        jsonata = case["query_language"] == "JSONata"
        variables = "variables" in case["features"]
        if not jsonata and not variables and not case["needs"]:
            subsets["core"].append(r)
        if jsonata:
            subsets["jsonata"].append(r)
        if variables:
            subsets["variables"].append(r)
for name, rs in subsets.items():
    for score in ("final", "history", "detail"):
        print(f"{name}_{score}={sum(1 for r in rs if r.get(score) is True)}")
PY
)"
status=0
for subset in core jsonata variables; do
  for score in final history detail; do
    key="${subset}_${score}"
    got="$(sed -n "s/^$key=\([0-9]*\)$/\1/p" <<<"$scores")"
    floor="$(floor_of "$key")"
    floor="${floor:-0}"
    echo "conformance: $subset $score passed $got (floor $floor)"
    if (( got < floor )); then
      echo "conformance: FAILED: $subset $score $got is below the floor $floor in $floor_file" >&2
      status=1
    fi
  done
done
exit $status
