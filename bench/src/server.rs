//! The servers under test, each started as its own process group so that its memory
//! (the resident set of every process in the group) can be read from /proc and the
//! whole group killed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::client::Sfn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ours,
    Moto,
    LocalStack,
}

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Ours => "sfn-local",
            Kind::Moto => "moto",
            Kind::LocalStack => "LocalStack",
        }
    }
}

/// How to start one kind of server.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub(crate) kind: Kind,
    /// `sfn-local`, `moto_server`, or the Python that has `localstack-core`.
    pub(crate) program: PathBuf,
    /// How long to wait for it to answer.
    pub(crate) ready_within: Duration,
}

pub(crate) struct Server {
    pub(crate) kind: Kind,
    pub(crate) client: Sfn,
    child: tokio::process::Child,
    pgid: i32,
    log: PathBuf,
}

impl Server {
    /// Starts a server on a free loopback port and waits until it answers; returns it and
    /// the time from spawn to its first answer.
    pub(crate) async fn start(
        launch: &Launch,
        state_dir: &Path,
    ) -> anyhow::Result<(Self, Duration)> {
        let port = free_port()?;
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("cannot create {}", state_dir.display()))?;
        let log = state_dir.join(format!("{}.log", launch.kind.label()));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let mut command = tokio::process::Command::new(&launch.program);
        match launch.kind {
            Kind::Ours => {
                command
                    .args(["--port", &port.to_string(), "--state-dir"])
                    .arg(state_dir)
                    .env("RUST_LOG", "warn");
            }
            Kind::Moto => {
                command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            }
            Kind::LocalStack => {
                // Host mode (no Docker): the runtime that `localstack start --host` runs
                // (the `localstack` CLI is a separate package), with the services the
                // workloads use.
                command
                    .args(["-m", "localstack.runtime.main"])
                    .current_dir(state_dir)
                    .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
                    // sts: its Step Functions assumes the role before calling SNS.
                    .env("SERVICES", "stepfunctions,sns,sts")
                    .env("LOCALSTACK_VOLUME_DIR", state_dir.join("volume"))
                    .env("FILESYSTEM_ROOT", state_dir.join("fs"))
                    // No DNS server (it would look for an upstream it cannot reach).
                    .env("DNS_ADDRESS", "0")
                    .env("DISABLE_EVENTS", "1")
                    .env("LOCALSTACK_TELEMETRY", "0")
                    .env("DEBUG", "0");
            }
        }
        let started = Instant::now();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().context("log handle")?)
            .stderr(out)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", launch.program.display()))?;
        let pgid = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .context("the server exited at once")?;
        let client = Sfn::new(&format!("http://127.0.0.1:{port}"))?;
        let mut server = Self {
            kind: launch.kind,
            client,
            child,
            pgid,
            log,
        };
        loop {
            if server.client.ready().await {
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!(
                    "{} exited ({status}) before answering; see {}",
                    launch.kind.label(),
                    server.log.display()
                );
            }
            if started.elapsed() > launch.ready_within {
                let log = server.log.clone();
                server.kill().await;
                bail!(
                    "{} did not answer within {:?}; see {}",
                    launch.kind.label(),
                    launch.ready_within,
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ready = started.elapsed();
        if launch.kind == Kind::Moto {
            // moto only runs state machines when asked to (otherwise it returns static data).
            reqwest::Client::new()
                .post(format!("http://127.0.0.1:{port}/moto-api/config"))
                .body(r#"{"stepfunctions": {"execute_state_machine": true}}"#)
                .send()
                .await
                .context("moto: could not enable execute_state_machine")?;
        }
        Ok((server, ready))
    }

    /// Resident set of every process in the server's group, in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        group_members(self.pgid)
            .into_iter()
            .map(|pid| status_kib(pid, "VmRSS"))
            .sum()
    }

    /// CPU time (user + system) used so far by every process in the server's group, in
    /// seconds: `utime + stime` of each member's `/proc/PID/stat`, plus `cutime + cstime`
    /// (children it has waited for), so that a worker process that ended mid-workload
    /// still counts. The difference across a workload, divided by its executions, is
    /// the server's CPU per execution, whatever its threads and processes.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        let ticks: u64 = group_members(self.pgid)
            .into_iter()
            .filter_map(cpu_ticks)
            .sum();
        ticks as f64 / rustix::param::clock_ticks_per_second() as f64
    }

    /// SIGKILL to the whole group (what a crash or `kill -9` does), then reaps the leader.
    pub(crate) async fn kill(mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.pgid) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait().await;
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free port")?;
    Ok(listener.local_addr().context("no local address")?.port())
}

/// The pids whose process group is `pgid` (field 5 of /proc/PID/stat).
fn group_members(pgid: i32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // The command name may hold spaces and parentheses: fields start after the last ')'.
                    let rest = &stat[stat.rfind(')')? + 2..];
                    rest.split(' ').nth(2)?.parse::<i32>().ok()
                })
                == Some(pgid)
        })
        .collect()
}

/// Fields 14 to 17 of /proc/PID/stat (utime, stime, cutime, cstime), in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // As in group_members: fields start after the last ')', with field 3 (state) first.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ')
        .skip(11)
        .take(4)
        .map(|f| f.parse::<u64>().ok())
        .sum()
}

/// A `kB` field of /proc/PID/status (`VmRSS`, `VmHWM`), 0 if unreadable.
pub(crate) fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(field)?
                    .strip_prefix(':')?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}
