//! Local mode: `template.yaml` running on a laptop, with no AWS account and no Docker.
//!
//! [`LocalStack::start`] reads the template (`cfn-template`), builds the Rust
//! functions natively, and wires the local services on **one loopback port**:
//!
//! | requests | served by |
//! |---|---|
//! | `POST /` with `X-Amz-Target: AWSStepFunctions.*` | the Step Functions API (`sfn-local`, on the `asl-engine` interpreter) |
//! | `POST /` from an SNS client (query protocol) | SNS (`sns-local`): email lands in `<state-dir>/outbox/`; each `AWS::SNS::Subscription`'s `FilterPolicy` applies |
//! | `POST /` with `X-Amz-Target: DynamoDB_20120810.*` | DynamoDB (`dynamodb-local`): the template's `AWS::DynamoDB::Table`s, in `<state-dir>/dynamodb/` |
//! | any method and path whose SigV4 credential scope names `s3` (`Authorization: ... Credential=AKID/DATE/REGION/s3/aws4_request`, or a presigned URL's `X-Amz-Credential`) | S3, path-style (`s3-local`): the template's `AWS::S3::Bucket`s and any bucket a client creates, objects as files in `<state-dir>/s3/` |
//! | `POST /2015-03-31/functions/{name}/invocations` | the Lambda `Invoke` API (`lambda-local`) |
//! | the routes of the template's HTTP APIs (e.g. `GET /review`) | their functions, as API Gateway HTTP API (payload 2.0) would call them |
//!
//! The S3 check comes first: an S3 request may have any method and path
//! (`GET /` is `ListBuckets`, `PUT /bucket/key` is `PutObject`), and an
//! unsigned request (a browser on a review link) never names `s3`, so it
//! keeps going where it went before.
//!
//! The state machines of the template are created (or updated when the
//! template changed) with the ARNs the template gives them; their Lambda tasks
//! call the local functions and their `sns:publish` tasks the local topics.
//! Functions run as real processes behind a Lambda Runtime API, with
//! `AWS_ENDPOINT_URL` pointing at this port, so their AWS SDK calls (SNS) stay
//! local (SNS and DynamoDB alike). Everything durable lives in the state directory: restarting on the
//! same directory resumes waiting reviews with their task tokens.
//!
//! Startup, in order: the port is bound (a taken port fails at once, not after
//! a build), the state directory is locked (`sfn_local::lock`: a second server
//! on it fails at once, naming the first one's pid), then the template is read
//! and the functions built. Until everything is up, every request is answered
//! at once with HTTP 503 naming what local mode waits for ([`gate`]), instead
//! of hanging in the listen backlog; [`LocalStack::start`] returns when the
//! port serves the real services.

mod build;
mod gate;
mod http_api;
mod integrations;
mod s3_tasks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use asl_engine::ports::Integration;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cfn_template::{LocalEnvironment, ParameterOverrides, Stack};
use lambda_local::{FunctionSpec, HostConfig, LambdaHost, LogFormat, OutputSink};
use sfn_local::StateDirLock;
use sns_local::{SnsConfig, SnsService, TopicSpec};
use tower::ServiceExt as _;

/// The length of the task tokens local mode issues ([`Options::task_token_length`]).
pub use sfn_local::token::{TokenLength, TokenLengthError};

/// The region and account of local ARNs.
pub const LOCAL_REGION: &str = cfn_template::DEFAULT_REGION;
pub const LOCAL_ACCOUNT: &str = cfn_template::DEFAULT_ACCOUNT_ID;

/// Largest request body the shared port accepts (Step Functions and SNS
/// payloads are at most 256 KiB; their envelopes add little).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How to run local mode.
#[derive(Debug, Clone)]
pub struct Options {
    pub template: PathBuf,
    /// `Key=Value` strings, as `sam deploy --parameter-overrides` takes them.
    pub parameter_overrides: Vec<String>,
    pub addr: SocketAddr,
    pub state_dir: PathBuf,
    pub stack_name: String,
    /// Build the functions with cargo first.
    pub build: bool,
    /// Use release builds of the functions (`false`: the dev profile, quicker to build).
    pub release: bool,
    /// Values for parameters that have no default in the template and were
    /// not overridden, so a first local run needs no flags (e.g. a reviewer
    /// address: locally, email only lands in the outbox).
    pub local_defaults: Vec<(String, String)>,
    /// Packages to select with the functions' own when building them, if their
    /// workspace has them: the caller's package (`hitl`), so cargo resolves the
    /// same features as the caller's own build and reuses its artifacts instead
    /// of compiling the shared dependencies again (see `build.rs`).
    pub build_with: Vec<String>,
    /// The length of the task tokens Step Functions issues (default: 732
    /// characters; up to 2,048, the longest AWS may send).
    pub task_token_length: TokenLength,
    /// Another S3-compatible server for `aws-sdk:s3` tasks and distributed Maps
    /// (default: local mode's own S3 on its port), with the credentials in the
    /// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`).
    pub s3_endpoint_url: Option<String>,
}

/// Why local mode could not start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Template(#[from] cfn_template::TemplateError),
    #[error("{resource}: local mode cannot run {why}")]
    Unsupported { resource: String, why: String },
    #[error("building {what} failed: {detail}")]
    Build { what: String, detail: String },
    #[error("cannot listen on {addr}: {source}; pass another --port, or stop what uses it")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot use the state directory {dir}: {detail}")]
    State { dir: PathBuf, detail: String },
    #[error(transparent)]
    Locked(#[from] sfn_local::LockError),
    #[error("cannot start the functions: {0}")]
    Functions(String),
    #[error("state machine {name}: {detail}")]
    StateMachine { name: String, detail: String },
    #[error("table {name}: {detail}")]
    Table { name: String, detail: String },
    #[error("bucket {name}: {detail}")]
    Bucket { name: String, detail: String },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// What local mode created, for the terminal.
#[derive(Debug, Clone)]
pub struct Summary {
    pub endpoint_url: String,
    pub state_dir: PathBuf,
    pub outbox: PathBuf,
    /// (logical id, ARN)
    pub state_machines: Vec<(String, String)>,
    /// (logical id, ARN, "protocol:endpoint" subscriptions)
    pub topics: Vec<(String, String, Vec<String>)>,
    /// (logical id, function name)
    pub functions: Vec<(String, String)>,
    /// (logical id, table name) of the DynamoDB tables.
    pub tables: Vec<(String, String)>,
    /// (logical id, bucket name) of the S3 buckets.
    pub buckets: Vec<(String, String)>,
    /// "METHOD URL -> function logical id" for each HTTP API route.
    pub routes: Vec<String>,
    /// One line per skipped resource or other notice from the template.
    pub notices: Vec<String>,
}

/// Local mode, started and serving.
pub struct LocalStack {
    gate: gate::Gate,
    timers: tokio::task::JoinHandle<()>,
    sfn: Arc<sfn_local::Service>,
    lambda: LambdaHost,
    summary: Summary,
    stack: Stack,
    /// Held while serving: one server per state directory.
    _lock: StateDirLock,
}

impl LocalStack {
    /// Binds the port, locks the state directory, reads the template, builds
    /// the functions, opens every service, and returns once the port serves
    /// them. `announce` receives the terminal lines of SNS deliveries,
    /// `report` the startup's progress lines (what it builds, how far, whether
    /// it reused the last build); function output goes to stderr prefixed with
    /// the function name.
    pub async fn start(
        options: Options,
        announce: impl Fn(&str) + Send + Sync + 'static,
        report: impl Fn(&str) + Send + Sync + 'static,
    ) -> Result<Self, LocalError> {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|source| LocalError::Bind {
                addr: options.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(LocalError::Serve)?;
        let endpoint_url = format!("http://{addr}");
        // Before the build: a second server on this directory must fail in
        // seconds, not after minutes of compiling.
        let lock = StateDirLock::acquire(&options.state_dir)?;
        // From here on, requests get a 503 saying what startup waits for.
        let gate = gate::Gate::open(listener, "reading the template");

        let environment = LocalEnvironment::new(&options.stack_name)
            .with_region(LOCAL_REGION)
            .with_account_id(LOCAL_ACCOUNT)
            .with_http_api_url(&endpoint_url);
        let (stack, defaulted) = load(&options, &environment)?;

        let outbox = options.state_dir.join("outbox");
        let sns = Arc::new(SnsService::new(
            SnsConfig::new(&outbox, LOCAL_REGION, LOCAL_ACCOUNT).with_announce(announce),
            topics(&stack)?,
        ));
        let dynamodb = Arc::new(open_tables(&options.state_dir, &stack)?);
        let s3 = open_buckets(&options.state_dir, &stack)?;

        gate.set_phase(if options.build {
            "building the functions"
        } else {
            "finding the functions' executables"
        });
        let progress = {
            let gate = gate.clone_phase();
            move |line: &str| {
                gate.set(format!("building the functions ({})", line.trim()));
                report(line);
            }
        };
        let plan = build::BuildPlan {
            build: options.build,
            release: options.release,
            build_with: &options.build_with,
        };
        let built = build::functions(&stack, &plan, &progress).await?;
        gate.set_phase("starting the functions");
        let specs = built
            .iter()
            .map(|built| {
                let function = &built.function;
                let mut spec = FunctionSpec::new(&function.name, &function.arn, &built.executable);
                spec.environment = function.environment.clone();
                spec.timeout = Duration::from_secs(u64::from(function.timeout_seconds));
                spec.memory_mb = function.memory_mb;
                if function.log_format.eq_ignore_ascii_case("json") {
                    spec.log_format = LogFormat::Json;
                }
                spec
            })
            .collect();
        let mut host_config = HostConfig::new(LOCAL_REGION);
        host_config.endpoint_url = Some(endpoint_url.clone());
        host_config.account_id = LOCAL_ACCOUNT.to_owned();
        host_config.output = OutputSink::stderr();
        let lambda = LambdaHost::start(specs, host_config)
            .map_err(|error| LocalError::Functions(error.to_string()))?;

        gate.set_phase("opening the state directory");
        let integrations: Vec<Arc<dyn Integration>> = vec![
            Arc::new(integrations::LambdaIntegration {
                host: lambda.clone(),
            }),
            Arc::new(integrations::SnsIntegration {
                sns: Arc::clone(&sns),
            }),
            // aws-sdk:s3 tasks (and a distributed Map's ItemReader/ResultWriter)
            // go to the S3 this port serves.
            Arc::new(s3_tasks::S3Integration::new(
                match &options.s3_endpoint_url {
                    None => s3_tasks::local_client(&endpoint_url, LOCAL_REGION),
                    Some(url) => s3_tasks::client(url, LOCAL_REGION, s3_tasks::env_credentials()),
                },
            )),
        ];
        let sfn = sfn_local::Service::open_with_tokens(
            sfn_local::Config {
                state_dir: options.state_dir.clone(),
                region: LOCAL_REGION.to_owned(),
                account: LOCAL_ACCOUNT.to_owned(),
            },
            options.task_token_length,
            integrations,
        )
        .map_err(|error| LocalError::State {
            dir: options.state_dir.clone(),
            detail: error.to_string(),
        })?;
        gate.set_phase("creating the state machines");
        let mut state_machines = Vec::new();
        for machine in &stack.state_machines {
            let arn = create_or_update(&sfn, machine).await?;
            state_machines.push((machine.logical_id.clone(), arn));
        }

        // Ready: the real services answer from now on. Before the tasks in flight
        // are invoked again, since those functions call back on this port.
        let shared = Shared {
            sfn: sfn_local::api::router(Arc::clone(&sfn)),
            sns: Arc::clone(&sns),
            dynamodb,
        };
        let apis = http_api::HttpApis {
            routes: Arc::new(routes(&stack)),
            lambda: lambda.clone(),
        };
        let services = Router::new()
            .route("/", post(dispatch))
            .with_state(shared)
            .merge(lambda.router())
            .fallback_service(Router::new().fallback(http_api::handle).with_state(apis));
        let app = Router::new()
            .fallback(s3_or_services)
            .with_state(Front { s3, services });
        gate.ready(app);
        // Tasks in flight at the last stop are invoked again before the timers
        // run: an overdue timer would otherwise schedule a task that this call
        // would then take for one left from the last stop and invoke twice.
        let resumed = sfn.resume_inflight().await.unwrap_or(0);
        let timers = tokio::spawn(Arc::clone(&sfn).run_timers());

        let mut notices: Vec<String> = defaulted;
        notices.extend(stack.notices.iter().map(ToString::to_string));
        if resumed > 0 {
            notices.push(format!(
                "re-invoking {resumed} task(s) in flight at the last stop"
            ));
        }
        let summary = Summary {
            endpoint_url: endpoint_url.clone(),
            state_dir: options.state_dir.clone(),
            outbox,
            state_machines,
            topics: stack
                .topics
                .iter()
                .map(|topic| {
                    let subscriptions = stack
                        .subscriptions_of(&topic.arn)
                        .into_iter()
                        .map(|s| match &s.filter_policy {
                            Some(policy) => {
                                format!("{}:{} (filter {policy})", s.protocol, s.endpoint)
                            }
                            None => format!("{}:{}", s.protocol, s.endpoint),
                        })
                        .collect();
                    (topic.logical_id.clone(), topic.arn.clone(), subscriptions)
                })
                .collect(),
            functions: stack
                .functions
                .iter()
                .map(|function| (function.logical_id.clone(), function.name.clone()))
                .collect(),
            tables: stack
                .tables
                .iter()
                .map(|table| (table.logical_id.clone(), table.name.clone()))
                .collect(),
            buckets: stack
                .buckets
                .iter()
                .map(|bucket| (bucket.logical_id.clone(), bucket.name.clone()))
                .collect(),
            routes: stack
                .http_apis
                .iter()
                .flat_map(|api| api.routes.iter())
                .map(|route| {
                    format!(
                        "{} {}{} -> {}",
                        route.method, endpoint_url, route.path, route.function
                    )
                })
                .collect(),
            notices,
        };
        Ok(Self {
            gate,
            timers,
            sfn,
            lambda,
            summary,
            stack,
            _lock: lock,
        })
    }

    /// What was created.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The template as local mode resolved it.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// Serves until `shutdown` resolves, then stops the functions and closes the store.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), LocalError> {
        let Self {
            gate,
            timers,
            sfn,
            lambda,
            _lock: lock,
            ..
        } = self;
        let served = gate.serve_until(shutdown).await;
        timers.abort();
        lambda.shutdown().await;
        sfn.close();
        // Released only once the store is closed.
        drop(lock);
        served
    }
}

/// What the port serves once ready: S3, or everything else.
#[derive(Clone)]
struct Front {
    s3: s3_local::S3Service,
    services: Router,
}

/// Sends S3 clients' requests (their credential scope names `s3`) to S3,
/// whatever their method and path, and every other request where it went
/// before S3 was served.
async fn s3_or_services(State(front): State<Front>, request: Request) -> Response {
    if s3_local::is_s3_request(request.headers(), request.uri()) {
        return front.s3.handle(request).await;
    }
    match front.services.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The services sharing `POST /`.
#[derive(Clone)]
struct Shared {
    sfn: Router,
    sns: Arc<SnsService>,
    dynamodb: Arc<dynamodb_local::Service>,
}

/// Routes `POST /` to SNS, DynamoDB or Step Functions: SNS clients send the
/// query protocol (or an `AmazonSimpleNotificationService.*` target);
/// DynamoDB clients `X-Amz-Target: DynamoDB_20120810.*`; Step Functions
/// clients `X-Amz-Target: AWSStepFunctions.*`.
async fn dispatch(State(shared): State<Shared>, request: Request) -> Response {
    let sns = sns_local::is_sns_request(request.headers());
    if sns || dynamodb_local::is_dynamodb_request(request.headers()) {
        let (parts, body) = request.into_parts();
        return match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) if sns => sns_local::handle(&shared.sns, &parts.headers, &bytes).await,
            Ok(bytes) => dynamodb_local::handle(&shared.dynamodb, &parts.headers, &bytes).await,
            Err(error) => (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body: {error}"),
            )
                .into_response(),
        };
    }
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, Body::new(body));
    match shared.sfn.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Loads the template; a parameter without default that `local_defaults`
/// names gets that value, with a notice saying so.
fn load(
    options: &Options,
    environment: &LocalEnvironment,
) -> Result<(Stack, Vec<String>), LocalError> {
    let mut given = options.parameter_overrides.clone();
    let mut notices = Vec::new();
    loop {
        let overrides = ParameterOverrides::parse(&given)?;
        match Stack::load(&options.template, environment, &overrides) {
            Ok(stack) => return Ok((stack, notices)),
            Err(cfn_template::TemplateError::Parameter { name, message })
                if message.starts_with("has no default") && overrides.get(&name).is_none() =>
            {
                let Some((_, value)) = options.local_defaults.iter().find(|(n, _)| *n == name)
                else {
                    return Err(cfn_template::TemplateError::Parameter { name, message }.into());
                };
                notices.push(format!(
                    "parameter {name} has no default: using {value} locally \
                     (--parameter-overrides {name}=... to change it)"
                ));
                given.push(format!("{name}={value}"));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// The HTTP API routes, each naming the function (by name) that serves it.
fn routes(stack: &Stack) -> Vec<http_api::Route> {
    stack
        .http_apis
        .iter()
        .flat_map(|api| {
            api.routes.iter().filter_map(|route| {
                let function = stack.function(&route.function)?;
                Some(http_api::Route {
                    api_id: api.api_id.clone(),
                    method: route.method.clone(),
                    path: route.path.clone(),
                    function: function.name.clone(),
                })
            })
        })
        .collect()
}

/// The template's topics with their subscriptions; a `FilterPolicy` SNS
/// would refuse fails the start, as it fails the deploy.
fn topics(stack: &Stack) -> Result<Vec<TopicSpec>, LocalError> {
    let mut specs = Vec::new();
    for topic in &stack.topics {
        let mut spec = TopicSpec::new(&topic.name, &topic.arn);
        spec.display_name = topic.display_name.clone();
        for subscription in stack.subscriptions_of(&topic.arn) {
            let mut attributes = std::collections::BTreeMap::new();
            if let Some(policy) = &subscription.filter_policy {
                attributes.insert("FilterPolicy".to_owned(), policy.clone());
            }
            if let Some(scope) = &subscription.filter_policy_scope {
                attributes.insert("FilterPolicyScope".to_owned(), scope.clone());
            }
            spec = spec
                .with_subscription_attributes(
                    &subscription.protocol,
                    &subscription.endpoint,
                    attributes,
                )
                .map_err(|error| LocalError::Unsupported {
                    resource: format!(
                        "the {} subscription {} of topic {}",
                        subscription.protocol, subscription.endpoint, topic.logical_id
                    ),
                    why: format!("its subscription attributes: {error}"),
                })?;
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// Opens local DynamoDB in `<state-dir>/dynamodb` and creates the template's
/// tables that do not exist yet. A table that exists keeps its items (a
/// restart resumes reviews); one whose key schema changed in the template is
/// refused, as CloudFormation replaces such a table and local mode would
/// otherwise answer with the old one's keys.
fn open_tables(
    state_dir: &std::path::Path,
    stack: &Stack,
) -> Result<dynamodb_local::Service, LocalError> {
    let dir = state_dir.join("dynamodb");
    let service = dynamodb_local::Service::open(
        &dir,
        dynamodb_local::Config {
            region: LOCAL_REGION.to_owned(),
            account: LOCAL_ACCOUNT.to_owned(),
        },
    )
    .map_err(|error| LocalError::State {
        dir: dir.clone(),
        detail: error.to_string(),
    })?;
    for table in &stack.tables {
        let failed = |detail: String| LocalError::Table {
            name: table.logical_id.clone(),
            detail,
        };
        let key_schema: Vec<serde_json::Value> = table
            .key_schema
            .iter()
            .map(|k| serde_json::json!({"AttributeName": k.attribute_name, "KeyType": k.key_type}))
            .collect();
        let request = serde_json::json!({
            "TableName": table.name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": table
                .attribute_definitions
                .iter()
                .map(|(name, ty)| serde_json::json!({"AttributeName": name, "AttributeType": ty}))
                .collect::<Vec<_>>(),
            "KeySchema": key_schema,
        });
        match service.call("CreateTable", &request) {
            Ok(_) => {}
            Err(dynamodb_local::DynamoError::ResourceInUse(_)) => {
                let described = service
                    .call(
                        "DescribeTable",
                        &serde_json::json!({"TableName": table.name}),
                    )
                    .map_err(|error| failed(error.to_string()))?;
                if described.pointer("/Table/KeySchema")
                    != Some(&serde_json::Value::Array(key_schema))
                {
                    return Err(failed(format!(
                        "its key schema changed since {} was created; move that directory away (or use another --state-dir) to start with an empty table",
                        dir.display()
                    )));
                }
            }
            Err(error) => return Err(failed(error.to_string())),
        }
        if let Some(attribute) = &table.ttl_attribute {
            // Enabling TTL twice is an error in DynamoDB: only enable it on a new table.
            let ttl = service
                .call(
                    "DescribeTimeToLive",
                    &serde_json::json!({"TableName": table.name}),
                )
                .map_err(|error| failed(error.to_string()))?;
            if ttl
                .pointer("/TimeToLiveDescription/AttributeName")
                .and_then(|v| v.as_str())
                == Some(attribute.as_str())
            {
                continue;
            }
            service
                .call(
                    "UpdateTimeToLive",
                    &serde_json::json!({
                        "TableName": table.name,
                        "TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": true},
                    }),
                )
                .map_err(|error| failed(error.to_string()))?;
        }
    }
    Ok(service)
}

/// Opens local S3 in `<state-dir>/s3` and creates the template's buckets
/// that do not exist yet; one that exists keeps its objects (CloudFormation
/// keeps a bucket across updates unless its name changes).
fn open_buckets(
    state_dir: &std::path::Path,
    stack: &Stack,
) -> Result<s3_local::S3Service, LocalError> {
    let dir = state_dir.join("s3");
    let s3 = s3_local::S3Service::open(&dir).map_err(|error| LocalError::State {
        dir: dir.clone(),
        detail: error.to_string(),
    })?;
    for bucket in &stack.buckets {
        s3.ensure_bucket(&bucket.name, LOCAL_REGION)
            .map_err(|error| LocalError::Bucket {
                name: bucket.logical_id.clone(),
                detail: format!("{} ({}: {error})", bucket.name, error.code()),
            })?;
    }
    Ok(s3)
}

/// Creates a template's state machine, or updates it when the template's
/// definition changed since the state directory last saw it.
async fn create_or_update(
    sfn: &sfn_local::Service,
    machine: &cfn_template::StateMachine,
) -> Result<String, LocalError> {
    let definition = machine.definition.to_string();
    let failed = |detail: String| LocalError::StateMachine {
        name: machine.logical_id.clone(),
        detail,
    };
    match sfn
        .create_state_machine(
            &machine.name,
            &definition,
            &machine.role_arn,
            &machine.machine_type.to_string(),
        )
        .await
    {
        Ok(row) => Ok(row.arn),
        Err(sfn_local::ApiError::StateMachineAlreadyExists(_)) => {
            sfn.update_state_machine(&machine.arn, Some(&definition), Some(&machine.role_arn))
                .await
                .map_err(|error| failed(error.to_string()))?;
            Ok(machine.arn.clone())
        }
        Err(error) => Err(failed(error.to_string())),
    }
}
