#!/usr/bin/env python3
"""Where sfn-local's CPU goes, by stage of the request path.

Reads `perf script -F tid,ip,sym` output of one process (stdin) and counts each
sample once, under the first stage below whose pattern occurs anywhere in its
stack (most specific first). bench/profile/callback.sh runs it; docs/scale.md
shows its output.
"""
import collections
import sys

STAGES = [
    ("SQLite COMMIT (WAL frames; checkpoints every 1,000 pages)",
     ["execute_batch", "vdbeCommit", "Transaction::commit"]),
    ("SQLite statements of the write batch", ["sfn_local::store::apply"]),
    ("writer thread: waiting, BEGIN", ["sfn_local::store::writer_loop", "sfn_local::store::writer_thread"]),
    ("read: task token -> execution ARN (SQLite)", ["Store::execution_arn"]),
    ("read: history chunks (SQLite)", ["Store::event_chunks"]),
    ("read: execution row (SQLite)", ["sfn_local::store::Store::execution"]),
    ("snapshot parse (JSON -> Execution)", ["sfn_local::service::read_snapshot"]),
    ("snapshot serialise (Execution -> JSON)", ["for asl_engine::interp::Execution>::serialize"]),
    ("history events render (JSON)", ["asl_engine::history::aws_json_array"]),
    ("interpreter (start / apply)",
     ["asl_engine::interp::Execution::start", "asl_engine::interp::Execution::apply"]),
    ("task token sign / check (HMAC-SHA256)", ["sfn_local::token::"]),
    ("queue the write, await its commit", ["sfn_local::store::Store::write"]),
    ("response render (JSON -> bytes, headers)", ["sfn_local::api::respond"]),
    ("API dispatch (answers; GetExecutionHistory's copy)",
     ["sfn_local::api::dispatch", "sfn_local::api::history"]),
    ("request parse and routing (JSON)", ["sfn_local::api::handle"]),
    ("spawned task (TaskSubmitted without an integration)", ["sfn_local::service::Service::invoke"]),
    ("HTTP (hyper; loopback TCP in the kernel)", ["hyper::", "hyper_util::"]),
    ("tokio scheduler, epoll, wake-ups", ["tokio::"]),
    # Samples in the kernel or libc whose user-space caller perf did not unwind (glibc's
    # syscall wrappers and malloc stop the DWARF unwinder): named by what they are.
    ("kernel: thread wake-ups and waits (futex)", ["futex_"]),
    ("kernel: loopback TCP", ["tcp_", "sock_", "skb"]),
    ("kernel: scheduler, epoll", ["schedule", "epoll"]),
    ("malloc / free", ["malloc", "_int_free", "libc_free", "cfree", "tcache", "unlink_chunk"]),
]
OTHER = "other (kernel and libc frames without a known caller)"


def main() -> None:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    frames: list[str] = []

    def flush() -> None:
        nonlocal total
        if not frames:
            return
        total += 1
        stack = "\n".join(frames)
        for name, patterns in STAGES:
            if any(p in stack for p in patterns):
                counts[name] += 1
                return
        counts[OTHER] += 1

    for line in sys.stdin:
        if line.startswith("\t"):
            frames.append(line.strip())
        else:
            flush()
            frames.clear()
    flush()
    for name, n in counts.most_common():
        print(f"| {name} | {100 * n / max(total, 1):.1f} % |")
    print(f"| samples | {total} |")


if __name__ == "__main__":
    main()
