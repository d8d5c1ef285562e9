#!/usr/bin/env bash
# Where sfn-local's CPU goes in the callback round trip (docs/scale.md, "Local mode").
#   bench/profile/callback.sh [CLIENTS] [SFN_LOCAL]   (default: 1, target/release/sfn-local)
# Builds sfn-local and hitl-bench (release, with line tables for symbols: the committed
# profile is unchanged), records 5,000 round trips under `perf record` with DWARF call
# graphs of 64 KiB of stack (the release build has no frame pointers, so `-g` alone loses
# the callers; async stacks are deep), and
# prints the share of sfn-local's samples by stage (bench/profile/classify.py).
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 2
clients=${1:-1}
sfn_local=${2:-target/release/sfn-local}
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --locked -p sfn-local -p hitl-bench >&2
out=target/profile
mkdir -p "$out"
data="$out/callback-$clients.data"
perf record -F 999 --call-graph dwarf,65528 -o "$data" -- \
  target/release/hitl-bench --engine-only --waiting-runs 0 --runs 1 --executions 10 \
  --callbacks 5000 --clients "$clients" --sfn-local "$sfn_local" --work-dir target/bench-work >&2
# The server's pid: the process whose main thread perf saw under the binary's name (a
# command name is cut to 15 characters).
comm=$(basename "$sfn_local" | cut -c1-15)
pid=$(perf report -i "$data" --sort pid --stdio -g none 2>/dev/null |
  sed -n "s/.* \([0-9][0-9]*\):$comm *\$/\1/p" | head -1)
perf script -i "$data" --pid "$pid" -F tid,ip,sym 2>/dev/null | python3 bench/profile/classify.py
