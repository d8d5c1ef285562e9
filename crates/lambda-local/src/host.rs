//! `LambdaHost`: the functions, their pools of warm processes, `invoke` and `shutdown`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rustix::process::Signal;
use tokio::sync::Semaphore;

use crate::invocation::{FunctionError, Invocation, InvokeError, Outcome};
use crate::runtime_api::{Dispatch, MAX_RESPONSE_BYTES};
use crate::sandbox::{BinaryStamp, Registry, Sandbox, SpawnError, signal_group};
use crate::spec::{FunctionSpec, HostConfig};

/// Lambda's synchronous (`RequestResponse`) request payload limit.
pub const MAX_SYNC_PAYLOAD_BYTES: usize = MAX_RESPONSE_BYTES;
/// Lambda's asynchronous (`Event`) request payload limit: 1 MB since October
/// 2025, 256 KB before (<https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb>).
pub const MAX_ASYNC_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Why `LambdaHost::start` refused the specs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// Two specs share a name.
    #[error("function {0} is declared twice")]
    DuplicateFunction(String),
    /// The executable is missing: build the function first.
    #[error(
        "function {name}: executable {path} does not exist (build the function first, e.g. `cargo build`)"
    )]
    MissingExecutable {
        /// Function name.
        name: String,
        /// The path that was looked for.
        path: String,
    },
    /// `max_concurrency` must be at least 1.
    #[error("max_concurrency must be at least 1")]
    NoConcurrency,
}

/// Per-invocation options beyond the payload.
#[derive(Debug, Clone, Default)]
pub struct InvokeOptions {
    /// Qualifier (`Qualifier` query parameter): `$LATEST` or one of the spec's aliases.
    pub qualifier: Option<String>,
    /// Request id to use; a random UUID when absent.
    pub request_id: Option<String>,
    /// Client context JSON (the decoded `X-Amz-Client-Context`), passed as
    /// `Lambda-Runtime-Client-Context`.
    pub client_context: Option<String>,
    /// X-Ray trace header to pass as `Lambda-Runtime-Trace-Id`; a new one when absent.
    pub trace_id: Option<String>,
}

/// The local Lambda host. Cheap to clone (shared state); processes stop on
/// [`LambdaHost::shutdown`] or, at the latest, when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct LambdaHost {
    inner: Arc<HostInner>,
}

struct Function {
    spec: FunctionSpec,
    /// Warm environments, most recently used last.
    idle: Mutex<Vec<Sandbox>>,
    /// One permit per environment the function may have (`max_concurrency`).
    slots: Arc<Semaphore>,
}

struct HostInner {
    functions: BTreeMap<String, Arc<Function>>,
    config: HostConfig,
    registry: Registry,
    closed: AtomicBool,
}

impl std::fmt::Debug for HostInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaHost")
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Drop for HostInner {
    fn drop(&mut self) {
        // No orphans: whatever is still alive (idle or busy) is killed.
        for pgid in self.live_groups() {
            signal_group(pgid, Signal::KILL);
        }
    }
}

impl HostInner {
    fn live_groups(&self) -> Vec<i32> {
        self.registry
            .lock()
            .map(|live| live.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// A function reference as the Invoke API accepts it, split up.
#[derive(Debug, PartialEq, Eq)]
struct FunctionRef<'a> {
    name: &'a str,
    qualifier: Option<&'a str>,
    /// `(region, account)` when given as a full or partial ARN.
    region: Option<&'a str>,
    account: Option<&'a str>,
}

/// Parses `name`, `name:qualifier`, `account:function:name[:qualifier]` and
/// `arn:aws:lambda:region:account:function:name[:qualifier]` (the forms the
/// Invoke API's `FunctionName` accepts).
fn parse_function_ref(reference: &str) -> FunctionRef<'_> {
    let parts: Vec<&str> = reference.split(':').collect();
    match parts.as_slice() {
        [
            "arn",
            _partition,
            "lambda",
            region,
            account,
            "function",
            name,
            rest @ ..,
        ] => FunctionRef {
            name,
            qualifier: rest.first().copied(),
            region: Some(region),
            account: Some(account),
        },
        [account, "function", name, rest @ ..] => FunctionRef {
            name,
            qualifier: rest.first().copied(),
            region: None,
            account: Some(account),
        },
        [name, rest @ ..] => FunctionRef {
            name,
            qualifier: rest.first().copied(),
            region: None,
            account: None,
        },
        [] => FunctionRef {
            name: reference,
            qualifier: None,
            region: None,
            account: None,
        },
    }
}

fn new_trace_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let root = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{seconds:08x}-{};Parent={};Sampled=0",
        &root[..24],
        &parent[..16]
    )
}

impl LambdaHost {
    /// Checks the specs and returns a host ready to invoke them.
    ///
    /// Processes start lazily, on a function's first invocation (a cold start,
    /// as on Lambda), so functions a run never calls cost nothing; each new
    /// process gets its own loopback Runtime API listener on an ephemeral port.
    pub fn start(specs: Vec<FunctionSpec>, config: HostConfig) -> Result<Self, StartError> {
        if config.max_concurrency == 0 {
            return Err(StartError::NoConcurrency);
        }
        let mut functions = BTreeMap::new();
        for spec in specs {
            if !spec.executable.is_file() {
                return Err(StartError::MissingExecutable {
                    name: spec.name.clone(),
                    path: spec.executable.display().to_string(),
                });
            }
            let name = spec.name.clone();
            let function = Function {
                spec,
                idle: Mutex::new(Vec::new()),
                slots: Arc::new(Semaphore::new(config.max_concurrency)),
            };
            if functions.insert(name.clone(), Arc::new(function)).is_some() {
                return Err(StartError::DuplicateFunction(name));
            }
        }
        Ok(Self {
            inner: Arc::new(HostInner {
                functions,
                config,
                registry: Registry::default(),
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// The specs the host runs, by name.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionSpec> {
        self.inner.functions.values().map(|f| &f.spec)
    }

    /// The host configuration.
    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }

    /// Pids of the function processes alive right now (idle or busy).
    pub fn process_ids(&self) -> Vec<u32> {
        self.inner
            .live_groups()
            .into_iter()
            .filter_map(|g| u32::try_from(g).ok())
            .collect()
    }

    /// Resolves a function name, `name:qualifier`, partial or full ARN to
    /// the spec and the ARN the runtime sees as `Invoked-Function-Arn`.
    /// `qualifier` (the Invoke API's query parameter) may also name one.
    pub fn resolve(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(&FunctionSpec, String), InvokeError> {
        self.resolve_function(function, qualifier)
            .map(|(f, arn)| (&f.spec, arn))
    }

    fn resolve_function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(&Arc<Function>, String), InvokeError> {
        let reference = parse_function_ref(function);
        let qualifier = reference.qualifier.or(qualifier).filter(|q| !q.is_empty());
        let config = &self.inner.config;
        let not_found = || {
            let base = match (reference.region, reference.account) {
                (Some(region), Some(account)) => format!(
                    "arn:aws:lambda:{region}:{account}:function:{}",
                    reference.name
                ),
                (None, Some(account)) => {
                    format!(
                        "arn:aws:lambda:{}:{account}:function:{}",
                        config.region, reference.name
                    )
                }
                _ => format!(
                    "arn:aws:lambda:{}:{}:function:{}",
                    config.region, config.account_id, reference.name
                ),
            };
            let arn = match qualifier {
                Some(q) => format!("{base}:{q}"),
                None => base,
            };
            InvokeError::FunctionNotFound { arn }
        };
        let function = self
            .inner
            .functions
            .get(reference.name)
            .ok_or_else(not_found)?;
        let spec = &function.spec;
        // An ARN must name this function's region and account, not just its name.
        let spec_ref = parse_function_ref(&spec.arn);
        let mismatch = |given: Option<&str>, ours: Option<&str>| matches!((given, ours), (Some(g), Some(o)) if g != o);
        if mismatch(reference.region, spec_ref.region)
            || mismatch(reference.account, spec_ref.account)
        {
            return Err(not_found());
        }
        match qualifier {
            None => Ok((function, spec.arn.clone())),
            Some(q) if q == "$LATEST" || spec.aliases.iter().any(|a| a == q) => {
                Ok((function, format!("{}:{q}", spec.arn)))
            }
            Some(_) => Err(not_found()),
        }
    }

    /// Invokes a function synchronously (`RequestResponse`) by name, ARN or partial ARN.
    pub async fn invoke(&self, function: &str, payload: Bytes) -> Result<Invocation, InvokeError> {
        self.invoke_with(function, payload, InvokeOptions::default())
            .await
    }

    /// [`LambdaHost::invoke`] with a qualifier, request id, client context or trace id.
    ///
    /// Each invocation takes an idle (warm) process of the function, or
    /// starts one while fewer than `max_concurrency` exist, or waits for one
    /// to be free. A process that timed out, crashed or failed init is
    /// discarded; the next invocation starts a fresh one.
    pub async fn invoke_with(
        &self,
        function: &str,
        payload: Bytes,
        options: InvokeOptions,
    ) -> Result<Invocation, InvokeError> {
        // No payload is an empty object to the function, as on Lambda.
        let payload = if payload.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            payload
        };
        if payload.len() > MAX_SYNC_PAYLOAD_BYTES {
            return Err(InvokeError::RequestTooLarge {
                size: payload.len(),
                limit: MAX_SYNC_PAYLOAD_BYTES,
                invocation_type: "RequestResponse",
            });
        }
        if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
            return Err(InvokeError::InvalidRequestContent(error.to_string()));
        }
        let (function, invoked_arn) =
            self.resolve_function(function, options.qualifier.as_deref())?;
        let function = Arc::clone(function);
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(InvokeError::ShuttingDown);
        }
        let request_id = options
            .request_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let slot = Arc::clone(&function.slots)
            .acquire_owned()
            .await
            .map_err(|_| InvokeError::ShuttingDown)?;
        let dispatch = Dispatch {
            request_id,
            payload,
            invoked_function_arn: invoked_arn,
            trace_id: options.trace_id.unwrap_or_else(new_trace_id),
            client_context: options.client_context,
            timeout: function.spec.timeout,
        };
        // Once it has a slot the invocation runs to its end in its own task,
        // as on Lambda, even if the caller stops waiting (an HTTP client
        // hanging up must not kill the function mid-way).
        let inner = Arc::clone(&self.inner);
        let task = tokio::spawn(async move {
            let invocation = run_on(&inner, &function, dispatch).await;
            drop(slot);
            invocation
        });
        task.await
            .map_err(|e| InvokeError::Host(format!("invocation task failed: {e}")))?
    }

    /// Invokes asynchronously (`Event`): checks the request as Lambda does
    /// (function, JSON, 1 MB limit), then runs it in the background and
    /// returns its request id at once. A failure is logged (`tracing` WARN),
    /// not retried: Lambda's two retries, minutes apart, would only confuse
    /// a local run.
    pub async fn invoke_event(
        &self,
        function: &str,
        payload: Bytes,
    ) -> Result<String, InvokeError> {
        self.invoke_event_with(function, payload, InvokeOptions::default())
    }

    pub(crate) fn invoke_event_with(
        &self,
        function: &str,
        payload: Bytes,
        mut options: InvokeOptions,
    ) -> Result<String, InvokeError> {
        if payload.len() > MAX_ASYNC_PAYLOAD_BYTES {
            return Err(InvokeError::RequestTooLarge {
                size: payload.len(),
                limit: MAX_ASYNC_PAYLOAD_BYTES,
                invocation_type: "Event",
            });
        }
        self.resolve_function(function, options.qualifier.as_deref())?;
        if !payload.is_empty()
            && let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload)
        {
            return Err(InvokeError::InvalidRequestContent(error.to_string()));
        }
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(InvokeError::ShuttingDown);
        }
        let request_id = options
            .request_id
            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
            .clone();
        let host = self.clone();
        let function = function.to_owned();
        tokio::spawn(async move {
            match host.invoke_with(&function, payload, options).await {
                Ok(invocation) => {
                    if let Outcome::Error(error) = &invocation.outcome {
                        tracing::warn!(
                            function = %function,
                            request_id = %invocation.request_id,
                            error_type = %error.error_type,
                            "asynchronous invocation failed: {}",
                            error.error_message
                        );
                    }
                }
                Err(error) => {
                    tracing::warn!(function = %function, %error, "asynchronous invocation not run");
                }
            }
        });
        Ok(request_id)
    }

    /// Stops every function process: new invocations fail with
    /// `ShuttingDown`, every process group gets SIGTERM, and whatever is still
    /// alive after `shutdown_grace` gets SIGKILL. Returns once all are gone
    /// (or a further second has passed).
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.closed.store(true, Ordering::SeqCst);
        let mut idle = Vec::new();
        for function in inner.functions.values() {
            function.slots.close();
            if let Ok(mut list) = function.idle.lock() {
                idle.append(&mut list);
            }
        }
        for pgid in inner.live_groups() {
            signal_group(pgid, Signal::TERM);
        }
        if !self.wait_all_exited(inner.config.shutdown_grace).await {
            for pgid in inner.live_groups() {
                signal_group(pgid, Signal::KILL);
            }
            self.wait_all_exited(Duration::from_secs(1)).await;
        }
        drop(idle);
    }

    async fn wait_all_exited(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            if self.inner.live_groups().is_empty() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Runs `dispatch` on a warm environment of `function`, or a new one.
async fn run_on(
    inner: &HostInner,
    function: &Function,
    dispatch: Dispatch,
) -> Result<Invocation, InvokeError> {
    let request_id = dispatch.request_id.clone();
    let mut sandbox = match take_idle(function, &inner.config) {
        Some(sandbox) => sandbox,
        None => match Sandbox::spawn(&function.spec, &inner.config, &inner.registry).await {
            Ok(sandbox) => sandbox,
            Err(SpawnError::Host(message)) => return Err(InvokeError::Host(message)),
            Err(SpawnError::Entrypoint(message)) => {
                let error = FunctionError::new(
                    "Runtime.InvalidEntrypoint",
                    format!("RequestId: {request_id} Error: {message}"),
                );
                return Ok(Invocation {
                    log: format!(
                        "START RequestId: {request_id} Version: $LATEST\n{}\nEND RequestId: {request_id}\n",
                        error.error_message
                    ),
                    request_id,
                    executed_version: "$LATEST".to_owned(),
                    outcome: Outcome::Error(error),
                });
            }
        },
    };
    let started = Instant::now();
    let result = sandbox.run(dispatch, &function.spec, &inner.config).await;
    tracing::debug!(
        function = %function.spec.name,
        request_id = %request_id,
        pid = sandbox.pid,
        elapsed_ms = started.elapsed().as_millis(),
        ok = matches!(result.outcome, Outcome::Success(_)),
        "invocation finished"
    );
    if result.reusable && !inner.closed.load(Ordering::SeqCst) {
        if let Ok(mut idle) = function.idle.lock() {
            idle.push(sandbox);
        }
    } else {
        drop(sandbox);
    }
    Ok(Invocation {
        request_id,
        executed_version: "$LATEST".to_owned(),
        outcome: result.outcome,
        log: result.log,
    })
}

/// The most recently used idle environment still alive and (with
/// `reload_on_change`) running the current build; the others are dropped.
fn take_idle(function: &Function, config: &HostConfig) -> Option<Sandbox> {
    let current = config
        .reload_on_change
        .then(|| BinaryStamp::of(&function.spec.executable));
    let mut idle = function.idle.lock().ok()?;
    while let Some(sandbox) = idle.pop() {
        if sandbox.has_exited() {
            // Died while idle: a new one is started instead.
            continue;
        }
        if let Some(current) = &current
            && sandbox.is_stale(current.as_ref())
        {
            tracing::info!(function = %function.spec.name, pid = sandbox.pid, "executable changed: replacing the warm process");
            continue;
        }
        return Some(sandbox);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_function_name_form() {
        let r = parse_function_ref("approve");
        assert_eq!((r.name, r.qualifier, r.account), ("approve", None, None));
        let r = parse_function_ref("approve:live");
        assert_eq!((r.name, r.qualifier), ("approve", Some("live")));
        let r = parse_function_ref("123456789012:function:approve");
        assert_eq!(
            (r.name, r.account, r.region),
            ("approve", Some("123456789012"), None)
        );
        let r =
            parse_function_ref("arn:aws:lambda:eu-west-1:123456789012:function:approve:$LATEST");
        assert_eq!(
            (r.name, r.qualifier, r.region, r.account),
            (
                "approve",
                Some("$LATEST"),
                Some("eu-west-1"),
                Some("123456789012")
            )
        );
    }
}
