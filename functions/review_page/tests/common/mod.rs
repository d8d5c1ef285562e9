//! What the handler tests share: the sample events, a fake Step Functions,
//! and calling the handler.
#![allow(dead_code, unreachable_pub, unused_imports)] // each test binary uses a part of it.

pub(crate) use std::sync::Mutex;

pub(crate) use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
pub(crate) use aws_lambda_events::encodings::Body;
pub(crate) use base64::Engine;
pub(crate) use chrono::{DateTime, Utc};
pub(crate) use lambda_runtime::{Context, LambdaEvent};
pub(crate) use review_page::handler;
pub(crate) use review_page::review::{Event, EventKind, Execution, SfnError, StepFunctions};
pub(crate) use serde_json::{Value, json};

pub(crate) const GET: &str = include_str!("../../../../events/review_page_get.json");
pub(crate) const POST: &str = include_str!("../../../../events/review_page_post.json");
pub(crate) const START: &str = include_str!("../../../../events/start_execution.json");

pub(crate) const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:HumanReviewStateMachine-AbCdEf123456:refund-1042";
/// The token in both events.
pub(crate) const TOKEN: &str =
    "AQCEAAAAKgAAAAMAAAAAAAAAAXr0Q1kZ4tJ+7sAmPlEtOkEn/Sample+Task/Token+WithPlusSlashAndEquals==";

/// A fake Step Functions: one execution, its history, and what
/// SendTaskSuccess answers. Records every SendTaskSuccess.
pub(crate) struct FakeSfn {
    pub(crate) execution: Result<Execution, SfnError>,
    pub(crate) history: Mutex<Vec<Event>>,
    pub(crate) send: Result<(), SfnError>,
    /// What the history becomes after a SendTaskSuccess (another answer raced ours).
    pub(crate) history_after_send: Option<Vec<Event>>,
    sent: Mutex<Vec<(String, String)>>,
}

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub(crate) fn scheduled(token: &str) -> Event {
    let email = format!(
        "A request is waiting for your review.\n...\nApprove:\nhttp://127.0.0.1:3000/review?d=approve&e={ARN}&t={token}\n...\nTask token: {token}\n"
    );
    Event {
        id: 4,
        timestamp: at("2026-11-25T12:00:00Z"),
        kind: EventKind::TaskScheduled {
            parameters: json!({"TopicArn": "arn:aws:sns:eu-west-1:123456789012:ReviewTopic", "Subject": "Review requested: refund-1042", "Message": email}).to_string(),
            timeout_seconds: Some(259_200),
        },
    }
}

pub(crate) fn other(id: i64) -> Event {
    Event {
        id,
        timestamp: at("2026-11-25T12:00:00Z"),
        kind: EventKind::Other,
    }
}

impl FakeSfn {
    pub(crate) fn running() -> Self {
        FakeSfn {
            execution: Ok(Execution {
                status: "RUNNING".to_owned(),
                input: Some(START.to_owned()),
            }),
            history: Mutex::new(vec![
                other(1),
                other(2),
                other(3),
                scheduled(TOKEN),
                other(5),
            ]),
            send: Ok(()),
            history_after_send: None,
            sent: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn with_event(self, kind: EventKind) -> Self {
        self.history.lock().unwrap().push(Event {
            id: 9,
            timestamp: at("2026-11-25T13:00:00Z"),
            kind,
        });
        self
    }

    pub(crate) fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap().clone()
    }
}

impl StepFunctions for FakeSfn {
    async fn describe_execution(&self, execution_arn: &str) -> Result<Execution, SfnError> {
        if execution_arn != ARN {
            return Err(SfnError::NoSuchExecution(
                "ExecutionDoesNotExist".to_owned(),
            ));
        }
        self.execution.clone()
    }

    async fn history(&self, _execution_arn: &str) -> Result<Vec<Event>, SfnError> {
        Ok(self.history.lock().unwrap().clone())
    }

    async fn send_task_success(&self, token: &str, output: &str) -> Result<(), SfnError> {
        self.sent
            .lock()
            .unwrap()
            .push((token.to_owned(), output.to_owned()));
        if let Some(after) = &self.history_after_send {
            *self.history.lock().unwrap() = after.clone();
        }
        self.send.clone()
    }
}

pub(crate) fn request(json: &str) -> ApiGatewayV2httpRequest {
    serde_json::from_str(json).unwrap()
}

pub(crate) async fn call(
    sfn: &FakeSfn,
    request: ApiGatewayV2httpRequest,
) -> (i64, String, ApiGatewayV2httpResponse) {
    // No review table: these are `e=&t=` links, which never read it.
    let store = None::<&hitl_domain::policy_flow::memory::MemoryStore>;
    let response = handler(sfn, store, LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();
    let html = match &response.body {
        Some(Body::Text(text)) => text.clone(),
        other => panic!("expected an HTML body, got {other:?}"),
    };
    (response.status_code, html, response)
}

pub(crate) fn with_query(query: &str) -> ApiGatewayV2httpRequest {
    let mut get = request(GET);
    get.raw_query_string = Some(query.to_owned());
    get
}

pub(crate) fn with_form(form: &str) -> ApiGatewayV2httpRequest {
    let mut post = request(POST);
    post.body = Some(base64::engine::general_purpose::STANDARD.encode(form));
    post
}
