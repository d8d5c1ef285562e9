//! Local AWS for the policy functions' and the review page's binary tests
//! (feature `testing`): dynamodb-local, sns-local and sfn-local on one
//! loopback port, routed by request headers as `hitl local` does, the review
//! table as the template declares it, a review topic with one filtered email
//! subscription per reviewer, and a lambda-local host running a function's
//! real binary against them with JSON logs captured. sfn-local runs with no
//! task integrations: a `.waitForTaskToken` task just waits for its token.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use lambda_local::{FunctionSpec, HostConfig, LambdaHost, LogFormat, Outcome, OutputSink};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::DynamoReviewStore;

pub const REGION: &str = "eu-west-1";
pub const ACCOUNT: &str = "123456789012";
pub const TABLE: &str = "Reviews";
pub const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:ReviewTopic";
pub const REVIEW_API_ENDPOINT: &str = "https://abc123defg.execute-api.eu-west-1.amazonaws.com";

/// Local DynamoDB, SNS and Step Functions on one port; stops when dropped.
pub struct LocalAws {
    pub endpoint: String,
    pub sns: Arc<sns_local::SnsService>,
    pub sfn: Arc<sfn_local::Service>,
    pub store: DynamoReviewStore,
    _dir: tempfile::TempDir,
}

impl LocalAws {
    /// The table, and the topic with a filtered email subscription per address.
    pub async fn start(reviewers: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ddb = Arc::new(
            dynamodb_local::Service::open(dir.path(), dynamodb_local::Config::default())
                .expect("dynamodb-local"),
        );
        ddb.call(
            "CreateTable",
            &json!({
                "TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
            }),
        )
        .expect("create table");
        let mut topic = sns_local::TopicSpec::new("ReviewTopic", TOPIC);
        for address in reviewers {
            let filter = BTreeMap::from([(
                "FilterPolicy".to_owned(),
                format!(r#"{{"reviewer": ["{address}"]}}"#),
            )]);
            topic = topic
                .with_subscription_attributes("email", *address, filter)
                .expect("filtered subscription");
        }
        let sns = Arc::new(sns_local::SnsService::new(
            sns_local::SnsConfig::new(dir.path().join("outbox"), REGION, ACCOUNT)
                .with_announce(|_| {}),
            vec![topic],
        ));
        let sfn = sfn_local::Service::open(
            sfn_local::Config {
                state_dir: dir.path().join("sfn"),
                region: REGION.into(),
                account: ACCOUNT.into(),
            },
            Vec::new(),
        )
        .expect("sfn-local");
        let routes = Routes {
            ddb,
            sns: Arc::clone(&sns),
            sfn: sfn_local::api::router(Arc::clone(&sfn)),
        };
        let app = axum::Router::new().route(
            "/",
            post(move |request: Request| {
                let routes = routes.clone();
                async move { routes.dispatch(request).await }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .http_client(aws_https::https_client())
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(REGION))
                .credentials_provider(Credentials::new("test", "test", None, None, "local"))
                .endpoint_url(&endpoint)
                .build(),
        );
        Self {
            store: DynamoReviewStore::new(client, TABLE),
            endpoint,
            sns,
            sfn,
            _dir: dir,
        }
    }

    /// The outbox's emails, oldest first.
    pub fn outbox(&self) -> Vec<sns_local::ParsedEmail> {
        sns_local::list_outbox(self.sns.outbox_dir())
            .expect("outbox")
            .iter()
            .map(|file: &PathBuf| sns_local::read_eml(file).expect("eml"))
            .collect()
    }

    /// `executable` (a function's real binary) behind lambda-local, with the
    /// environment template.yaml gives the policy functions plus `extra`.
    pub fn function(&self, executable: &str, extra: &[(&str, &str)]) -> Function {
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&lines);
        let mut config = HostConfig::new(REGION);
        config.account_id = ACCOUNT.into();
        config.endpoint_url = Some(self.endpoint.clone());
        config.shutdown_grace = Duration::from_millis(500);
        config.output = OutputSink::new(move |line| {
            if let Ok(mut lines) = sink.lock() {
                lines.push(line.line.to_owned());
            }
        });
        let mut spec = FunctionSpec::new(
            "Function",
            format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:Function"),
            executable,
        );
        spec.timeout = Duration::from_secs(20);
        // As template.yaml deploys the functions (LoggingConfig: LogFormat: JSON).
        spec.log_format = LogFormat::Json;
        for (key, value) in [
            ("REVIEW_TABLE", TABLE),
            ("REVIEW_TOPIC_ARN", TOPIC),
            ("REVIEW_API_ENDPOINT", REVIEW_API_ENDPOINT),
        ]
        .iter()
        .chain(extra)
        {
            spec.environment.insert((*key).into(), (*value).into());
        }
        Function {
            host: LambdaHost::start(vec![spec], config).expect("lambda host"),
            lines,
        }
    }
}

/// Routes a request by its headers, as `hitl local` does
/// (crates/local-stack/src/lib.rs, `dispatch`).
#[derive(Clone)]
struct Routes {
    ddb: Arc<dynamodb_local::Service>,
    sns: Arc<sns_local::SnsService>,
    sfn: axum::Router,
}

impl Routes {
    async fn dispatch(self, request: Request) -> Response {
        let headers = request.headers().clone();
        let sns = sns_local::is_sns_request(&headers);
        if sns || dynamodb_local::is_dynamodb_request(&headers) {
            let body = match axum::body::to_bytes(request.into_body(), 16 << 20).await {
                Ok(body) => body,
                Err(error) => return format!("request body: {error}").into_response(),
            };
            return if sns {
                sns_local::handle(&self.sns, &headers, &body).await
            } else {
                dynamodb_local::handle(&self.ddb, &headers, &body).await
            };
        }
        let (parts, body) = request.into_parts();
        match self
            .sfn
            .oneshot(Request::from_parts(parts, Body::new(body)))
            .await
        {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// One function's real process behind the local Runtime API.
pub struct Function {
    host: LambdaHost,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Function {
    /// Invokes it: `Ok(output)` or `Err((errorType, errorMessage))`.
    pub async fn invoke(&self, payload: &Value) -> Result<Value, (String, String)> {
        let invocation = self
            .host
            .invoke("Function", Bytes::from(payload.to_string()))
            .await
            .expect("invoke");
        match invocation.outcome {
            Outcome::Success(body) => Ok(serde_json::from_slice(&body).expect("JSON output")),
            Outcome::Error(error) => Err((error.error_type, error.error_message)),
        }
    }

    /// Stops the process and returns every log line it wrote.
    pub async fn logs(self) -> Vec<String> {
        self.host.shutdown().await;
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}
