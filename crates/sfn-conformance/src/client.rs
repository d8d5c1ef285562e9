//! Step Functions over raw AWS JSON 1.0 (`POST /`, `X-Amz-Target`), and the two SNS
//! calls (query protocol) the callback case needs.
//!
//! Why not `aws-sdk-sfn`: the history is compared field by field with what AWS put on
//! the wire, and the SDK hands back typed events (no `Serialize`), which would have to be
//! turned back into wire JSON by a hand-written mapping of every event kind, a mapping
//! that could itself hide or invent differences. Raw requests give the events exactly as
//! the endpoint wrote them. They also make one HTTP request per call (no SDK retries that
//! would hide a failing endpoint). The dummy `Authorization` header only names the region
//! for servers that read it; nothing is signed (loopback endpoints only).

use std::time::Duration;

use serde_json::{Value, json};

/// Why a call failed: no answer (the endpoint is down or hung), or an error answer.
#[derive(Debug)]
pub(crate) enum CallError {
    Transport(String),
    Api { status: u16, body: String },
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "no answer: {e}"),
            Self::Api { status, body } => {
                // The error type and message, not a whole HTML page.
                let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                match (v["__type"].as_str(), v["message"].as_str()) {
                    (Some(t), Some(m)) => write!(f, "HTTP {status} {t}: {m}"),
                    _ => write!(f, "HTTP {status}: {}", one_line(body, 160)),
                }
            }
        }
    }
}

#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    url: String,
    sfn_auth: String,
    sns_auth: String,
}

impl Client {
    pub(crate) fn new(url: &str, region: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()?;
        let auth = |service: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, \
                 SignedHeaders=host, Signature=0"
            )
        };
        Ok(Self {
            http,
            url: url.to_owned(),
            sfn_auth: auth("states"),
            sns_auth: auth("sns"),
        })
    }

    /// One Step Functions API call.
    pub(crate) async fn call(&self, op: &str, body: Value) -> Result<Value, CallError> {
        let response = self
            .http
            .post(&self.url)
            .header("X-Amz-Target", format!("AWSStepFunctions.{op}"))
            .header("Content-Type", "application/x-amz-json-1.0")
            .header("Authorization", &self.sfn_auth)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| CallError::Transport(format!("{op}: {e}")))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Transport(format!("{op}: {e}")))?;
        if !status.is_success() {
            return Err(CallError::Api {
                status: status.as_u16(),
                body: text,
            });
        }
        serde_json::from_str(&text).map_err(|_| CallError::Api {
            status: status.as_u16(),
            body: format!("{op}: the answer is not JSON: {}", one_line(&text, 160)),
        })
    }

    /// Every event of an execution, following `nextToken`.
    pub(crate) async fn history(&self, execution_arn: &str) -> Result<Vec<Value>, CallError> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"executionArn": execution_arn, "maxResults": 1000});
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let page = self.call("GetExecutionHistory", body).await?;
            if let Some(list) = page["events"].as_array() {
                events.extend(list.iter().cloned());
            }
            match page["nextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(events),
            }
        }
    }

    /// One SNS query-protocol call; the answer is XML.
    async fn sns(&self, params: &[(&str, &str)]) -> Result<String, CallError> {
        let body: Vec<String> = params
            .iter()
            .chain(&[("Version", "2010-03-31")])
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect();
        let response = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", &self.sns_auth)
            .body(body.join("&"))
            .send()
            .await
            .map_err(|e| CallError::Transport(format!("SNS: {e}")))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Transport(format!("SNS: {e}")))?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(CallError::Api {
                status: status.as_u16(),
                body: text,
            })
        }
    }

    pub(crate) async fn create_topic(&self, name: &str) -> Result<String, CallError> {
        let xml = self
            .sns(&[("Action", "CreateTopic"), ("Name", name)])
            .await?;
        let arn = xml
            .split_once("<TopicArn>")
            .and_then(|(_, rest)| rest.split_once("</TopicArn>"))
            .map(|(arn, _)| arn.trim().to_owned());
        arn.ok_or_else(|| CallError::Api {
            status: 200,
            body: format!("CreateTopic: no TopicArn in {}", one_line(&xml, 160)),
        })
    }

    pub(crate) async fn delete_topic(&self, arn: &str) -> Result<(), CallError> {
        self.sns(&[("Action", "DeleteTopic"), ("TopicArn", arn)])
            .await
            .map(drop)
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Text on one line (tags and runs of blanks removed), at most `n` characters.
pub(crate) fn one_line(s: &str, n: usize) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    let squeezed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    squeezed.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(
            form_encode("arn:aws:sns:us-east-1:1:t/x y"),
            "arn%3Aaws%3Asns%3Aus-east-1%3A1%3At%2Fx%20y"
        );
    }

    #[test]
    fn error_pages_become_one_short_line() {
        assert_eq!(
            one_line("<html>\n<body><h1>502   Bad</h1></body></html>", 100),
            "502 Bad"
        );
        assert_eq!(one_line("abcdef", 3), "abc");
    }
}
