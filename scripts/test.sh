#!/usr/bin/env bash
# The project's test command (README: "Tests"): scripts/test.sh
#
# Runs every check on a machine with the Rust toolchain, Python 3 and Node.js.
# It installs the rest itself, into .tools/ (Python venvs) and node_modules/,
# and Debian's Chromium with apt-get (as root) for the browser tests:
# nothing here reaches AWS, and nothing needs credentials.
#
# Stages run in order, each with a time budget; a failed stage does not stop
# the later ones, so one run shows every problem. The last line is
# "stages: N passed, M failed". Options:
#   --only STAGE[,STAGE...]   run only these stages (setup stages always run when needed)
#   --list                    list the stages
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
TOOLS="$ROOT/.tools"
export ROOT TOOLS
export SAM_CLI_TELEMETRY=0 AWS_MAX_ATTEMPTS=1 CARGO_TERM_COLOR=never
# cargo-lambda finds Zig through the venv's python: the venv's bin goes first.
export PATH="$TOOLS/venv/bin:$ROOT/node_modules/.bin:$PATH"

ALL_STAGES=(fmt clippy cargo-test bench-smoke conformance cfn-lint sam-validate asl-validator checkov sam-build)
only=""
case "${1:-}" in
  --only) only=",${2:?--only needs a stage list, e.g. --only fmt,clippy},";;
  --list) printf '%s\n' "${ALL_STAGES[@]}"; exit 0;;
  "") ;;
  *) echo "unknown option $1: use --only STAGE[,STAGE...] or --list" >&2; exit 2;;
esac

passed=0
failed=0
failures=()

wanted() { [ -z "$only" ] || [[ "$only" == *",$1,"* ]]; }

# stage NAME BUDGET_SECONDS COMMAND...: runs one stage with a time budget.
stage() {
  local name=$1 budget=$2
  shift 2
  # Setup stages are called only when a wanted stage needs them.
  [[ "$name" == setup-* ]] || wanted "$name" || return 0
  local start=$SECONDS
  echo "==> $name (budget ${budget}s)"
  if declare -F "$1" >/dev/null; then
    # A shell function: run it in a child bash (functions are exported below).
    timeout --kill-after=10 "$budget" bash -c '"$@"' "$name" "$@"
  else
    timeout --kill-after=10 "$budget" "$@"
  fi
  local rc=$?
  local took=$((SECONDS - start))
  if [ $rc -eq 0 ]; then
    echo "==> $name: ok (${took}s)"
    passed=$((passed + 1))
  else
    [ $rc -eq 124 ] && echo "==> $name: over its ${budget}s budget" >&2
    echo "==> $name: FAILED (exit $rc, ${took}s)" >&2
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

# Tools, installed once and reused: a venv is rebuilt when its requirements change.
ensure_venv() {
  local dir=$1 requirements=$2
  local stamp="$dir/.requirements"
  if [ -x "$dir/bin/python" ] && cmp -s "$requirements" "$stamp"; then
    return 0
  fi
  echo "    installing $(basename "$requirements") into ${dir#"$ROOT"/} ..."
  rm -rf "$dir"
  python3 -m venv "$dir" &&
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" &&
    cp "$requirements" "$stamp"
}

export -f ensure_venv

# cargo-test needs the AWS CLI (end-to-end tests drive local mode with it).
needs_python_tools() {
  wanted cfn-lint || wanted sam-validate || wanted sam-build || wanted conformance || wanted cargo-test
}

if needs_python_tools; then
  stage setup-python-tools 600 ensure_venv "$TOOLS/venv" scripts/requirements-tools.txt
fi
if wanted checkov; then
  stage setup-checkov 600 ensure_venv "$TOOLS/checkov" scripts/requirements-checkov.txt
fi
# npm ci, skipped while node_modules matches package-lock.json (a stamp, as for the venvs).
ensure_node_modules() {
  local stamp=node_modules/.package-lock.installed
  if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
    return 0
  fi
  echo "    installing package-lock.json into node_modules ..."
  npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json "$stamp"
}

# The browser tests (crates/hitl/tests/browser_e2e.rs) drive Debian's Chromium
# with playwright-core. Chromium comes from apt (about 100 MB; skipped when it
# runs already); playwright-core never downloads a browser of its own.
ensure_chromium() {
  if chromium --version >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "    Chromium is missing: install it with 'sudo apt-get install chromium' (the browser tests need it)" >&2
    return 1
  fi
  echo "    installing chromium with apt-get ..."
  apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null &&
    chromium --version 2>/dev/null
}
export -f ensure_node_modules ensure_chromium

if wanted asl-validator || wanted cargo-test; then
  stage setup-node-tools 300 ensure_node_modules
fi
if wanted cargo-test; then
  stage setup-browser 300 ensure_chromium
fi

stage fmt 120 cargo fmt --all --check
stage clippy 1200 cargo clippy --workspace --all-targets --locked -- -D warnings
# As root (CI), the full-disk test mounts a small tmpfs; make it fail rather than skip
# if it cannot (crates/sfn-local/tests/storage_faults.rs, docs/reliability.md).
if [ "$(id -u)" = 0 ]; then
  export SFN_LOCAL_REQUIRE_TMPFS=1
fi
# HITL_REQUIRE_BROWSER / HITL_REQUIRE_AWS_CLI: here a missing browser or AWS CLI fails the
# tests that drive them (a plain cargo test skips those, saying why).
stage cargo-test 1200 env HITL_REQUIRE_BROWSER=1 HITL_REQUIRE_AWS_CLI=1 cargo test --workspace --locked --no-fail-fast

# The benchmark in miniature (bench/run.sh runs it in full), so that it cannot rot: a few
# hundred executions against a debug sfn-local, a kill -9 and restart with them waiting,
# and the Process Approval function's cold start. It fails unless every execution ended
# SUCCEEDED; it checks no speed (timed checks on 2 shared cores would be flaky).
bench_smoke() {
  cargo build --locked -p sfn-local -p process_approval -p hitl-bench -p hitl &&
    target/debug/hitl-bench --smoke --work-dir target/bench-smoke
}
export -f bench_smoke
stage bench-smoke 600 bench_smoke

# The local engine against cases recorded on real AWS (conformance/, replayed by
# crates/sfn-conformance): 730 core JSONPath, 118 JSONata and 45 Variables cases, with
# floors that only rise (scripts/conformance-floor.txt).
stage conformance 900 bash scripts/conformance.sh

stage cfn-lint 180 cfn-lint template.yaml
# sam validate --lint runs cfn-lint through SAM's own transform; it needs only a region.
stage sam-validate 180 env AWS_DEFAULT_REGION=us-east-1 sam validate --lint --template template.yaml
# cfn-lint does not read the ASL file behind DefinitionUri; asl-validator does. Not the
# JSONata example (statemachine/human_in_the_loop.jsonata.asl.json): asl-validator 4
# rejects JSONata strings that span lines; the engine's validator and
# tests/jsonata_machine.rs check that file instead.
# The definition has two unquoted number placeholders (TimeoutSeconds, MaxAttempts:
# the ASL wants integers, and CloudFormation substitutes before it parses), so it is
# validated with sample numbers in their place (tests/support NUMBER_PLACEHOLDERS).
asl_validate() {
  mkdir -p target &&
    sed -e 's/\${ExecutionTimeoutSeconds}/262800/g' -e 's/\${ActionMaxAttempts}/3/g' \
      statemachine/human_in_the_loop.asl.json >target/human_in_the_loop.numbers.asl.json &&
    asl-validator --json-path target/human_in_the_loop.numbers.asl.json
}
export -f asl_validate
stage asl-validator 120 asl_validate
# Every skip is justified in the resource's Metadata (checkov: skip: ... comment:).
stage checkov 300 "$TOOLS/checkov/bin/checkov" --file template.yaml --framework cloudformation \
  --skip-download --compact --quiet

check_bootstraps() {
  local ok=0 function
  for function in ProcessApprovalFunction ProcessRejectionFunction ReviewFunction; do
    local bootstrap=".aws-sam/build/$function/bootstrap"
    # ELF header: e_machine (bytes 18-19, little endian) is 0xB7 for AArch64.
    if [ -f "$bootstrap" ] && [ "$(od -An -tx1 -j18 -N2 "$bootstrap" | tr -d ' \n')" = "b700" ]; then
      echo "    $bootstrap: arm64 ELF, $(du -h "$bootstrap" | cut -f1)"
    else
      echo "    $bootstrap: missing or not an arm64 executable" >&2
      ok=1
    fi
  done
  return $ok
}
sam_build() { sam build --template template.yaml && check_bootstraps; }
export -f check_bootstraps sam_build
stage sam-build 1200 sam_build

if [ $failed -gt 0 ]; then
  echo "failed stages: ${failures[*]}" >&2
fi
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
