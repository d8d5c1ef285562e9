//! A Step Functions client over raw AWS JSON 1.0 (`POST /`, `X-Amz-Target`), the same for
//! every server under test.
//!
//! Why not `aws-sdk-sfn`: the client shares the 2 cores with the server, and the SDK signs
//! every request (SigV4 over the body) and runs its retry and middleware stack, which
//! would be charged to whichever server is measured. Raw requests cost the least and the
//! same for all three servers, and exactly one HTTP request per API call is made (SDK
//! retries would hide errors and throttling). The `Authorization` header carries a dummy
//! credential scope only so that moto and LocalStack pick the region and account.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub(crate) const ROLE: &str = "arn:aws:iam::123456789012:role/bench";
const AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/states/aws4_request, \
                    SignedHeaders=host;x-amz-target, Signature=0";
const SNS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, \
                        SignedHeaders=host, Signature=0";

#[derive(Clone)]
pub(crate) struct Sfn {
    http: reqwest::Client,
    url: String,
}

impl Sfn {
    pub(crate) fn new(url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .context("could not build the HTTP client")?;
        Ok(Self {
            http,
            url: url.to_owned(),
        })
    }

    /// The endpoint, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// One API call; a non-2xx answer is an error naming the operation and the body.
    pub(crate) async fn call(&self, op: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(&self.url)
            .header("X-Amz-Target", format!("AWSStepFunctions.{op}"))
            .header("Content-Type", "application/x-amz-json-1.0")
            .header("Authorization", AUTH)
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("{op}: no answer from {}", self.url))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("{op}: body"))?;
        if !status.is_success() {
            bail!("{op}: HTTP {status}: {text}");
        }
        serde_json::from_str(&text).with_context(|| format!("{op}: not JSON: {text}"))
    }

    /// Whether the server answers `ListStateMachines` yet.
    pub(crate) async fn ready(&self) -> bool {
        self.call("ListStateMachines", json!({})).await.is_ok()
    }

    pub(crate) async fn create_state_machine(
        &self,
        name: &str,
        definition: &Value,
    ) -> anyhow::Result<String> {
        let v = self
            .call(
                "CreateStateMachine",
                json!({"name": name, "definition": definition.to_string(), "roleArn": ROLE}),
            )
            .await?;
        str_field(&v, "stateMachineArn")
    }

    /// Starts a named execution (moto names an unnamed execution `None`, so every
    /// execution gets a name here).
    pub(crate) async fn start(&self, machine: &str, input: &Value) -> anyhow::Result<String> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let v = self
            .call(
                "StartExecution",
                json!({"stateMachineArn": machine, "name": name, "input": input.to_string()}),
            )
            .await?;
        str_field(&v, "executionArn")
    }

    /// Polls `DescribeExecution` until the execution leaves RUNNING; returns its status.
    pub(crate) async fn wait_done(&self, execution: &str) -> anyhow::Result<String> {
        str_field(&self.wait_described(execution).await?, "status")
    }

    /// Polls `DescribeExecution` until the execution leaves RUNNING; returns the answer
    /// (status, output, error).
    pub(crate) async fn wait_described(&self, execution: &str) -> anyhow::Result<Value> {
        let mut pause = Duration::from_millis(1);
        loop {
            let v = self
                .call("DescribeExecution", json!({"executionArn": execution}))
                .await?;
            if str_field(&v, "status")? != "RUNNING" {
                return Ok(v);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Polls `GetExecutionHistory` until the `TaskScheduled` event is there and returns
    /// the task token from its parameters (`Message.t`, see `callback_definition`). This
    /// works alike on the three servers: each records the resolved parameters.
    pub(crate) async fn task_token(&self, execution: &str) -> anyhow::Result<String> {
        let mut pause = Duration::from_millis(1);
        for _ in 0..2_000 {
            let v = self
                .call("GetExecutionHistory", json!({"executionArn": execution}))
                .await?;
            let scheduled = v["events"].as_array().and_then(|events| {
                events
                    .iter()
                    .find(|e| e["type"] == "TaskScheduled")
                    .and_then(|e| {
                        e["taskScheduledEventDetails"]["parameters"]
                            .as_str()
                            .map(str::to_owned)
                    })
            });
            if let Some(parameters) = scheduled {
                let p: Value = serde_json::from_str(&parameters)
                    .context("TaskScheduled parameters are not JSON")?;
                return p["Message"]["t"]
                    .as_str()
                    .map(str::to_owned)
                    .context("TaskScheduled parameters hold no Message.t token");
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        bail!("{execution}: no TaskScheduled event after 2,000 polls")
    }

    pub(crate) async fn send_task_success(&self, token: &str) -> anyhow::Result<()> {
        self.call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"result\":true}"}),
        )
        .await
        .map(|_| ())
    }

    /// Counts a machine's executions with `status`, following `nextToken`.
    pub(crate) async fn count(&self, machine: &str, status: &str) -> anyhow::Result<usize> {
        let mut total = 0;
        let mut next: Option<String> = None;
        loop {
            let mut body =
                json!({"stateMachineArn": machine, "statusFilter": status, "maxResults": 1000});
            if let Some(token) = &next {
                body["nextToken"] = json!(token);
            }
            let v = self.call("ListExecutions", body).await?;
            total += v["executions"].as_array().map_or(0, Vec::len);
            match v["nextToken"].as_str() {
                Some(token) if !token.is_empty() => next = Some(token.to_owned()),
                _ => return Ok(total),
            }
        }
    }

    /// SNS `CreateTopic` (query protocol) on the same endpoint: moto and LocalStack run the
    /// callback machine's `sns:publish` for real, so its topic must exist. Returns its ARN
    /// (LocalStack's account is 000000000000).
    pub(crate) async fn create_topic(&self, name: &str) -> anyhow::Result<String> {
        let response = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", SNS_AUTH)
            .body(format!("Action=CreateTopic&Name={name}&Version=2010-03-31"))
            .send()
            .await
            .context("CreateTopic: no answer")?;
        let status = response.status();
        let text = response.text().await.context("CreateTopic: body")?;
        if !status.is_success() {
            bail!("CreateTopic: HTTP {status}: {text}");
        }
        text.split_once("<TopicArn>")
            .and_then(|(_, rest)| rest.split_once("</TopicArn>"))
            .map(|(arn, _)| arn.trim().to_owned())
            .with_context(|| format!("CreateTopic: no TopicArn in {text}"))
    }
}

fn str_field(v: &Value, field: &str) -> anyhow::Result<String> {
    v[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("answer has no {field}: {v}"))
}

/// The 10-state Pass/Choice machine of issue 3: six Pass and three Choice states, then
/// Succeed. Each Choice tests `$.n`, so the input must hold a number `n`.
pub(crate) fn pass_choice_definition() -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..9 {
        let next = format!("S{}", i + 1);
        let state = if i % 3 == 2 {
            json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": next}], "Default": next})
        } else {
            json!({"Type": "Pass", "Next": next})
        };
        states.insert(format!("S{i}"), state);
    }
    states.insert("S9".into(), json!({"Type": "Succeed"}));
    json!({"StartAt": "S0", "States": states})
}

pub(crate) const TOPIC: &str = "hitl-bench";

/// One task waiting for its token, as the review workflow's Request Review: the token
/// goes out in an SNS message to `topic_arn`. sfn-local alone has no SNS and simply waits.
pub(crate) fn callback_definition(topic_arn: &str) -> Value {
    json!({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
        "Parameters": {
            "TopicArn": topic_arn,
            "Message": {"t.$": "$$.Task.Token"}
        },
        "End": true
    }}})
}
