#!/usr/bin/env bash
# The benchmark, with one command: bench/run.sh [hitl-bench options, e.g. --runs 5]
# (--local-start adds the first start of `hitl local` on a fresh clone: minutes more;
# target/release/hitl-bench --local-start-only runs just that.)
#
# Builds sfn-local, the Process Approval function, hitl and hitl-bench (release), installs what
# the comparisons need into .tools/ (moto; LocalStack if a Python >= 3.13 is found;
# awslambdaric and boto3; cargo-lambda for the arm64 zip), then runs hitl-bench, which
# prints the tables (also written to target/bench-report.md). Nothing reaches AWS.
set -euo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
TOOLS="$ROOT/.tools"
# cargo-lambda finds Zig through the venv's python: the venv's bin goes first.
export PATH="$TOOLS/venv/bin:$PATH"
export CARGO_TERM_COLOR=never

say() { echo "bench: $*" >&2; }

# ensure_venv PYTHON DIR REQUIREMENTS: a venv rebuilt only when its requirements change.
ensure_venv() {
  local python=$1 dir=$2 requirements=$3
  if [ -x "$dir/bin/python" ] && cmp -s "$requirements" "$dir/.requirements"; then
    return 0
  fi
  say "installing $(basename "$requirements") into ${dir#"$ROOT"/} ..."
  rm -rf "$dir"
  "$python" -m venv "$dir" &&
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" &&
    cp "$requirements" "$dir/.requirements"
}

# A Python >= 3.13 for LocalStack: on PATH, or one that pyenv installed.
find_python313() {
  local candidate
  for candidate in python3.14 python3.13 "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

say "building (release) ..."
cargo build --release --locked -p sfn-local -p process_approval -p hitl-bench
# hitl on its own, as `cargo run --release -p hitl` builds it: `hitl local` (the policy
# table) then builds the functions with the same features and reuses its dependencies.
cargo build --release --locked -p hitl

args=()
ensure_venv python3 "$TOOLS/bench-moto" bench/requirements-moto.txt
args+=(--moto "$TOOLS/bench-moto/bin/moto_server")

if python313=$(find_python313); then
  if ensure_venv "$python313" "$TOOLS/bench-localstack" bench/requirements-localstack.txt; then
    args+=(--localstack "$TOOLS/bench-localstack/bin/python")
  else
    args+=(--localstack-skipped "pip install localstack-core failed")
  fi
else
  args+=(--localstack-skipped "needs Python >= 3.13 (localstack-core imports warnings.deprecated); this machine has $(python3 --version)")
fi

ensure_venv python3 "$TOOLS/bench-lambda" bench/requirements-lambda.txt
args+=(--python "$TOOLS/bench-lambda/bin/python")

# The arm64 deployment zips: the Rust function as cargo-lambda packages it, the Python
# handler alone (Lambda's Python runtime brings boto3 and the runtime client).
ensure_venv python3 "$TOOLS/venv" scripts/requirements-tools.txt
say "cargo lambda build --release --arm64 --output-format zip (the three functions) ..."
cargo lambda build --release --arm64 --output-format zip \
  -p process_approval -p process_rejection -p review_page
args+=(--rust-zip "$ROOT/target/lambda/process_approval/bootstrap.zip")
for function in process_rejection review_page; do
  args+=(--function-zip "$function=$ROOT/target/lambda/$function/bootstrap.zip")
done
mkdir -p target/bench-python-zip
rm -f target/bench-python-zip/process_approval.zip
(cd bench/lambda_py && python3 -m zipfile -c "$ROOT/target/bench-python-zip/process_approval.zip" process_approval.py)
args+=(--python-zip "$ROOT/target/bench-python-zip/process_approval.zip")

say "running: target/release/hitl-bench ${args[*]} $*"
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
target/release/hitl-bench "${args[@]}" "$@" | tee target/bench-report.md
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg); report in target/bench-report.md"
