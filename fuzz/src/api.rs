//! The `api_request` target: sfn-local's router in process (no network). Its body is
//! [`api_request`], so `fuzz_targets/api_request.rs` and the replay test
//! (`crates/sfn-local/tests/fuzz_replay.rs`, which includes this file) run the same
//! code. Depends on `sfn_local`, `axum`, `tokio`, `tower`, `http_body_util` and
//! `serde_json` only.

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

/// The operations the first input byte picks.
pub const OPS: &[&str] = &[
    "CreateStateMachine",
    "DescribeStateMachine",
    "ListStateMachines",
    "UpdateStateMachine",
    "DeleteStateMachine",
    "ValidateStateMachineDefinition",
    "StartExecution",
    "DescribeExecution",
    "ListExecutions",
    "StopExecution",
    "GetExecutionHistory",
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "DescribeStateMachineForExecution",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

static API: OnceLock<Api> = OnceLock::new();

/// `api_request`: the first byte picks the operation (or, past [`OPS`], the rest of the
/// first line names it); the remainder is the body, with `@SM@` and `@EX@` replaced by
/// the shared state machine's and execution's ARNs. Every answer must be JSON, an error
/// must carry `__type`, and nothing may answer 500 or panic ([`Api::call`]).
pub fn api_request(data: &[u8]) {
    let api = API.get_or_init(Api::new);
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let (op, body) = match OPS.get(usize::from(first)) {
        Some(op) => ((*op).to_owned(), rest),
        None => {
            let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let op = String::from_utf8_lossy(&rest[..end]).into_owned();
            (op, rest.get(end + 1..).unwrap_or_default())
        }
    };
    // Deleting or stopping the shared fixtures would make later inputs less useful.
    if op == "DeleteStateMachine" || op == "StopExecution" {
        return;
    }
    let body = String::from_utf8_lossy(body)
        .replace("@SM@", &api.sm_arn)
        .replace("@EX@", &api.exec_arn);
    let _ = api.call(&op, body.as_bytes());
}

/// One sfn-local service on a temporary state directory with a state machine and an
/// execution already created, plus the runtime that drives it. Built once per process.
pub struct Api {
    pub rt: tokio::runtime::Runtime,
    pub router: axum::Router,
    pub sm_arn: String,
    pub exec_arn: String,
    pub svc: Arc<sfn_local::Service>,
}

impl Api {
    pub fn new() -> Api {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = std::env::temp_dir().join(format!("sfn-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("state dir");
        let cfg = sfn_local::Config {
            state_dir: dir,
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let svc = rt
            .block_on(async { sfn_local::Service::open(cfg, Vec::new()) })
            .expect("open service");
        let router = sfn_local::api::router(svc.clone());
        let mut api = Api {
            rt,
            router,
            sm_arn: String::new(),
            exec_arn: String::new(),
            svc,
        };
        let def = json!({"StartAt": "W", "States": {
            "W": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                  "Parameters": {"t.$": "$$.Task.Token"}, "End": true}}});
        let created = api.call(
            "CreateStateMachine",
            json!({"name": "sm", "definition": def.to_string(),
                   "roleArn": "arn:aws:iam::000000000000:role/r"})
            .to_string()
            .as_bytes(),
        );
        api.sm_arn = created["stateMachineArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let started = api.call(
            "StartExecution",
            json!({"stateMachineArn": api.sm_arn, "name": "e", "input": "{}"})
                .to_string()
                .as_bytes(),
        );
        api.exec_arn = started["executionArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        api
    }

    /// Sends one request (`X-Amz-Target: AWSStepFunctions.<op>`) and returns the body as
    /// JSON. Asserts the protocol: a JSON body, 200 or a 4xx/5xx with `__type`.
    pub fn call(&self, op: &str, body: &[u8]) -> Value {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/")
            .header("x-amz-target", format!("AWSStepFunctions.{op}"))
            .header("content-type", "application/x-amz-json-1.0")
            .body(axum::body::Body::from(body.to_vec()));
        let Ok(req) = req else {
            return Value::Null; // op is not a valid header value
        };
        let router = self.router.clone();
        self.rt.block_on(async move {
            let resp = router.oneshot(req).await.expect("infallible router");
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let v: Value = serde_json::from_slice(&bytes).expect("responses are JSON");
            if !status.is_success() {
                assert!(v.get("__type").is_some(), "error without __type: {v}");
                assert_ne!(status.as_u16(), 500, "internal error: {v}");
            }
            v
        })
    }
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}
