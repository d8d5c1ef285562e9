//! `hitl`: review and operate the human-review workflow from a terminal.

use std::process::ExitCode;

fn main() -> ExitCode {
    hitl::main()
}
