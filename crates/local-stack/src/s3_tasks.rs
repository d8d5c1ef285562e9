//! The `aws-sdk:s3` Task integration: `arn:aws:states:::aws-sdk:s3:<action>` for
//! `getObject`, `putObject`, `listObjectsV2`, `headObject` and `deleteObject`, run
//! through aws-sdk-s3 against local mode's own S3 (crates/s3-local, on the same
//! port), or another S3-compatible server given by `Options::s3_endpoint_url`
//! (`hitl local --s3-endpoint-url`), with the environment's credentials.
//!
//! A distributed Map's `ItemReader` and `ResultWriter` reach S3 through the same
//! resources (the contract is in crates/asl-engine/src/interp/reader.rs), so a
//! user's own `aws-sdk:s3:*` Task states and the Map read and write the same
//! objects.
//!
//! Shapes, from AWS's recordings (LocalStack's AWS-validated snapshots):
//! - `getObject` succeeds with the object's metadata and `Body` as text:
//!   `{"AcceptRanges", "Body", "ContentLength", "ContentType", "ETag",
//!   "LastModified", "Metadata"}` (test_aws_sdk_task_service.snapshot.json,
//!   `test_s3_get_object[str]`). A body that is not UTF-8 is given with its
//!   invalid bytes replaced (AWS's behaviour for those is not recorded).
//! - A service error fails the task with `S3.<Code>Exception` and the cause
//!   `<message> (Service: S3, Status Code: <status>, Request ID: <id>, Extended
//!   Request ID: <id>)` (test_aws_sdk.snapshot.json: `S3.NoSuchBucketException`,
//!   `S3.NoSuchKeyException`). A request that never reached S3 fails with
//!   `S3.SdkClientException`, the Java SDK's name for that, which is what
//!   Step Functions runs.
//!
//! Other parameters and results follow the S3 API's own member names, as every
//! AWS SDK integration does.

use asl_engine::ports::{BoxFuture, Integration, TaskOutcome, TaskRequest};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, DateTime, DateTimeFormat};
use serde_json::{Map, Value, json};

const PREFIX: &str = "arn:aws:states:::aws-sdk:s3:";
const ACTIONS: [&str; 5] = [
    "getObject",
    "putObject",
    "listObjectsV2",
    "headObject",
    "deleteObject",
];

/// `aws-sdk:s3` resources through one S3 client.
pub(crate) struct S3Integration {
    client: Client,
}

impl S3Integration {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }
}

/// The client for local mode's own S3: dummy credentials (local mode checks no
/// signature); see [`client`].
pub(crate) fn local_client(endpoint: &str, region: &str) -> Client {
    client(
        endpoint,
        region,
        Credentials::new("local", "local", None, None, "local-mode"),
    )
}

/// The credentials in the environment, for another S3 server; dummy ones when
/// none are set (a server that checks no signature, as local ones often do).
pub(crate) fn env_credentials() -> Credentials {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Credentials::new(
        var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "local".to_owned()),
        var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "local".to_owned()),
        var("AWS_SESSION_TOKEN"),
        None,
        "environment",
    )
}

/// A client of the S3 at `endpoint`: path-style (an IP or `localhost` endpoint
/// resolves no bucket host names; S3-compatible servers accept it), and checksums
/// only where S3 requires them, so requests stay plain (S3 computes its own).
pub(crate) fn client(endpoint: &str, region: &str, credentials: Credentials) -> Client {
    use aws_sdk_s3::config::{
        BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    };
    let config = aws_sdk_s3::Config::builder()
        .http_client(aws_https::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    Client::from_conf(config)
}

impl Integration for S3Integration {
    fn handles(&self, resource: &str) -> bool {
        resource
            .strip_prefix(PREFIX)
            .is_some_and(|action| ACTIONS.contains(&action))
    }

    fn invoke(&self, request: TaskRequest) -> BoxFuture<TaskOutcome> {
        let client = self.client.clone();
        Box::pin(async move {
            let action = request.resource.strip_prefix(PREFIX).unwrap_or_default();
            let p = &request.parameters;
            let result = match action {
                "getObject" => get_object(&client, p).await,
                "putObject" => put_object(&client, p).await,
                "listObjectsV2" => list_objects_v2(&client, p).await,
                "headObject" => head_object(&client, p).await,
                "deleteObject" => delete_object(&client, p).await,
                other => Err(client_error(format!(
                    "local mode does not run aws-sdk:s3:{other}"
                ))),
            };
            match result {
                Ok(value) => TaskOutcome::Succeeded(value),
                Err(failure) => failure,
            }
        })
    }
}

type Outcome = Result<Value, TaskOutcome>;

fn client_error(cause: impl Into<String>) -> TaskOutcome {
    TaskOutcome::Failed {
        error: "S3.SdkClientException".into(),
        cause: cause.into(),
    }
}

/// AWS's failure for an S3 error (see the module doc).
fn failed<E>(error: SdkError<E, HttpResponse>) -> TaskOutcome
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let SdkError::ServiceError(service) = &error else {
        return client_error(format!(
            "Unable to execute HTTP request: {}",
            DisplayErrorContext(&error)
        ));
    };
    let status = service.raw().status().as_u16();
    let code = error.code().unwrap_or("S3");
    let message = error.message().unwrap_or("S3 error");
    let exception = if code.ends_with("Exception") {
        code.to_owned()
    } else {
        format!("{code}Exception")
    };
    let request_id = uuid::Uuid::new_v4();
    TaskOutcome::Failed {
        error: format!("S3.{exception}"),
        cause: format!(
            "{message} (Service: S3, Status Code: {status}, Request ID: {request_id}, \
             Extended Request ID: {request_id})"
        ),
    }
}

fn string<'a>(p: &'a Value, key: &str) -> Result<Option<&'a str>, TaskOutcome> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(client_error(format!(
            "The parameter {key} must be a string, not {other}"
        ))),
    }
}

fn required<'a>(p: &'a Value, key: &str) -> Result<&'a str, TaskOutcome> {
    string(p, key)?
        .ok_or_else(|| client_error(format!("The parameter {key} is required (Parameters: {p})")))
}

fn timestamp(t: Option<&DateTime>) -> Value {
    t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
        .map_or(Value::Null, Value::String)
}

/// Puts the fields that are present, in the order given.
fn object(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

fn metadata(m: Option<&std::collections::HashMap<String, String>>) -> Value {
    json!(m.cloned().unwrap_or_default())
}

/// The fields `getObject` and `headObject` share: two SDK output types with the
/// same accessors, hence a macro rather than a function.
macro_rules! object_metadata {
    ($output:expr) => {
        vec![
            ("AcceptRanges", json!($output.accept_ranges())),
            ("ContentLength", json!($output.content_length())),
            ("ContentType", json!($output.content_type())),
            ("ETag", json!($output.e_tag())),
            ("LastModified", timestamp($output.last_modified())),
            ("Metadata", metadata($output.metadata())),
        ]
    };
}

async fn get_object(client: &Client, p: &Value) -> Outcome {
    let output = client
        .get_object()
        .bucket(required(p, "Bucket")?)
        .key(required(p, "Key")?)
        .set_version_id(string(p, "VersionId")?.map(str::to_owned))
        .set_range(string(p, "Range")?.map(str::to_owned))
        .send()
        .await
        .map_err(failed)?;
    let mut fields = object_metadata!(output);
    fields.push(("VersionId", json!(output.version_id())));
    let mut value = object(fields);
    let body = output
        .body
        .collect()
        .await
        .map_err(|e| client_error(format!("Unable to read the object's body: {e}")))?
        .into_bytes();
    if let Value::Object(map) = &mut value {
        map.insert(
            "Body".into(),
            Value::String(String::from_utf8_lossy(&body).into_owned()),
        );
    }
    Ok(value)
}

async fn put_object(client: &Client, p: &Value) -> Outcome {
    // A JSON body is stored as its JSON text, as Step Functions sends it.
    let body = match p.get("Body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    let output = client
        .put_object()
        .bucket(required(p, "Bucket")?)
        .key(required(p, "Key")?)
        .set_content_type(string(p, "ContentType")?.map(str::to_owned))
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(failed)?;
    Ok(object(vec![
        ("ETag", json!(output.e_tag())),
        ("VersionId", json!(output.version_id())),
    ]))
}

async fn list_objects_v2(client: &Client, p: &Value) -> Outcome {
    let max_keys = match p.get("MaxKeys") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| client_error(format!("MaxKeys must be an integer, not {v}")))?,
        ),
    };
    let output = client
        .list_objects_v2()
        .bucket(required(p, "Bucket")?)
        .set_prefix(string(p, "Prefix")?.map(str::to_owned))
        .set_delimiter(string(p, "Delimiter")?.map(str::to_owned))
        .set_continuation_token(string(p, "ContinuationToken")?.map(str::to_owned))
        .set_start_after(string(p, "StartAfter")?.map(str::to_owned))
        .set_max_keys(max_keys)
        .send()
        .await
        .map_err(failed)?;
    let contents: Vec<Value> = output
        .contents()
        .iter()
        .map(|o| {
            object(vec![
                ("ETag", json!(o.e_tag())),
                ("Key", json!(o.key())),
                ("LastModified", timestamp(o.last_modified())),
                ("Size", json!(o.size())),
                ("StorageClass", json!(o.storage_class().map(|c| c.as_str()))),
            ])
        })
        .collect();
    let prefixes: Vec<Value> = output
        .common_prefixes()
        .iter()
        .map(|c| json!({"Prefix": c.prefix()}))
        .collect();
    Ok(object(vec![
        (
            "CommonPrefixes",
            if prefixes.is_empty() {
                Value::Null
            } else {
                json!(prefixes)
            },
        ),
        (
            "Contents",
            if contents.is_empty() {
                Value::Null
            } else {
                json!(contents)
            },
        ),
        ("ContinuationToken", json!(output.continuation_token())),
        ("Delimiter", json!(output.delimiter())),
        ("IsTruncated", json!(output.is_truncated().unwrap_or(false))),
        ("KeyCount", json!(output.key_count())),
        ("MaxKeys", json!(output.max_keys())),
        ("Name", json!(output.name())),
        (
            "NextContinuationToken",
            json!(output.next_continuation_token()),
        ),
        ("Prefix", json!(output.prefix())),
        ("StartAfter", json!(output.start_after())),
    ]))
}

async fn head_object(client: &Client, p: &Value) -> Outcome {
    let output = client
        .head_object()
        .bucket(required(p, "Bucket")?)
        .key(required(p, "Key")?)
        .send()
        .await
        .map_err(failed)?;
    Ok(object(object_metadata!(output)))
}

async fn delete_object(client: &Client, p: &Value) -> Outcome {
    let output = client
        .delete_object()
        .bucket(required(p, "Bucket")?)
        .key(required(p, "Key")?)
        .send()
        .await
        .map_err(failed)?;
    Ok(object(vec![
        ("DeleteMarker", json!(output.delete_marker())),
        ("VersionId", json!(output.version_id())),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_the_s3_actions_it_runs_only() {
        let s3 = S3Integration::new(local_client("http://127.0.0.1:9", "us-east-1"));
        for action in ACTIONS {
            assert!(s3.handles(&format!("{PREFIX}{action}")), "{action}");
        }
        assert!(!s3.handles("arn:aws:states:::aws-sdk:s3:createBucket"));
        assert!(!s3.handles("arn:aws:states:::aws-sdk:sns:publish"));
        assert!(!s3.handles("arn:aws:states:::s3:getObject"));
    }

    #[tokio::test]
    async fn missing_parameters_and_unreachable_endpoints_are_client_errors() {
        let s3 = S3Integration::new(local_client("http://127.0.0.1:9", "us-east-1"));
        let request = |parameters: Value| TaskRequest {
            resource: format!("{PREFIX}getObject"),
            parameters,
            task_token: None,
            region: "us-east-1".into(),
        };
        match s3.invoke(request(json!({"Key": "k"}))).await {
            TaskOutcome::Failed { error, cause } => {
                assert_eq!(error, "S3.SdkClientException");
                assert!(cause.contains("Bucket is required"), "{cause}");
            }
            other => panic!("{other:?}"),
        }
        // Port 9 (discard) is closed on loopback: the request never reaches S3.
        match s3.invoke(request(json!({"Bucket": "b", "Key": "k"}))).await {
            TaskOutcome::Failed { error, cause } => {
                assert_eq!(error, "S3.SdkClientException");
                assert!(
                    cause.starts_with("Unable to execute HTTP request"),
                    "{cause}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
