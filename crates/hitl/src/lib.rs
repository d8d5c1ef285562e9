//! The `hitl` command-line tool.
//!
//! `hitl local` runs the stack of `template.yaml` on this machine (see the
//! `local-stack` crate). The reviewer and operator commands use `aws-sdk-sfn`: `start`, `pending`,
//! `approve`, `reject`, `cancel`, `status`, `redrive` and `check`. They work against AWS,
//! or against local mode with `--endpoint-url` (or `AWS_ENDPOINT_URL`).
//! The state machine is the one given by `--state-machine`, else the stack
//! output `StateMachineArn` of the stack named in `samconfig.toml`, else the
//! only state machine there is.
//!
//! Every error names its fix, and the process exits with status 2 on error.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI prints.

/// `println!` for the CLI's output: when standard output is a pipe whose reader has gone
/// (`hitl pending | head -1`), the process ends quietly with status 0, as Unix tools do
/// by dying of SIGPIPE, instead of panicking (Rust ignores SIGPIPE, so `println!`
/// panics on the broken pipe).
macro_rules! say {
    () => {
        $crate::say_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::say_line(format_args!($($arg)*))
    };
}

/// `println!` for `hitl local`'s progress lines, which a running server prints (also from
/// request handlers): a closed standard output must neither stop the server (as `say!`
/// would, skipping the clean shutdown of its Lambda processes) nor panic, so write
/// errors are ignored.
macro_rules! note {
    () => {
        $crate::note_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::note_line(format_args!($($arg)*))
    };
}

fn note_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

fn say_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(error) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(2);
    }
}

mod cli;
mod commands;
mod connect;
mod definition;
mod local;
mod review;
mod subscriptions;
mod votes;

use std::process::ExitCode;

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    let cli = <cli::Cli as clap::Parser>::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
