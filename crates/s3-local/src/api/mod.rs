//! S3's REST protocol, path-style: `/{bucket}` and `/{bucket}/{key}`, the
//! operation picked by method, path and sub-resource query parameters, as
//! the Amazon S3 API Reference defines each operation's request.
//!
//! This module owns the dispatch: it parses the request into a [`Ctx`],
//! refuses the sub-resources local mode does not serve, picks the operation
//! and turns an [`S3Error`] into S3's `<Error>` document; and the response
//! helpers every operation shares (XML documents, headers, dates, the
//! owner). The operations live beside it:
//! - `buckets`: `ListBuckets`, `CreateBucket`, `HeadBucket`, `DeleteBucket`,
//!   `GetBucketLocation`, and S3's bucket naming rules;
//! - `listing`: `ListObjectsV2` and `ListObjects` (v1);
//! - `objects`: `PutObject`, `GetObject`/`HeadObject`, `DeleteObject(s)`,
//!   `CopyObject`, and what a new object takes from its request;
//! - `multipart`: `CreateMultipartUpload`, `UploadPart(Copy)`,
//!   `CompleteMultipartUpload`, `AbortMultipartUpload`;
//! - `body`: request bodies, received into temporary files (aws-chunked
//!   decoded, `Content-MD5` checked) or held whole (XML documents).

mod body;
mod buckets;
mod listing;
mod multipart;
mod objects;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str};

use crate::S3Service;
use crate::error::S3Error;
use crate::store::{MAX_KEY_BYTES, Store};
use crate::xml::element;

pub(crate) use buckets::valid_bucket_name;

/// The owner every bucket and object has locally (a fixed canonical user id).
const OWNER_ID: &str = "6c6f63616c2d6d6f64652d6f776e65722d6f662d65766572792d6275636b6574";
const OWNER_NAME: &str = "local";

/// Sub-resources we know S3 has and local mode does not serve: a request for
/// one is `NotImplemented`, not a wrong answer from the plain operation.
const UNSERVED: [&str; 24] = [
    "acl",
    "accelerate",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "website",
];

/// What every handler needs from the request.
struct Ctx {
    method: Method,
    bucket: Option<String>,
    key: Option<String>,
    query: BTreeMap<String, String>,
    headers: HeaderMap,
    host: String,
}

impl Ctx {
    fn q(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    fn has(&self, name: &str) -> bool {
        self.query.contains_key(name)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `/bucket` or `/bucket/key`, for `<Resource>`.
    fn resource(&self) -> String {
        match (&self.bucket, &self.key) {
            (Some(b), Some(k)) => format!("/{b}/{k}"),
            (Some(b), None) => format!("/{b}"),
            _ => "/".to_owned(),
        }
    }
}

/// What an operation on an object acts on: the store, the request, and the
/// bucket and key the request names.
#[derive(Clone, Copy)]
struct ObjectRequest<'a>(&'a Arc<Store>, &'a Ctx, &'a str, &'a str);

/// Serves one S3 request.
pub(crate) async fn handle(service: &S3Service, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let request_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_ascii_uppercase();
    let path = parts.uri.path().trim_start_matches('/');
    let (bucket, key) = match path.split_once('/') {
        Some((bucket, key)) => (bucket, Some(key)),
        None => (path, None),
    };
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let ctx = Ctx {
        method: parts.method.clone(),
        bucket: Some(decode(bucket)).filter(|b| !b.is_empty()),
        // `/bucket/` is the bucket itself; an empty key is no key.
        key: key.map(decode).filter(|k| !k.is_empty()),
        query: parts
            .uri
            .query()
            .map(|q| {
                let mut map = BTreeMap::new();
                for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                    map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
                }
                map
            })
            .unwrap_or_default(),
        headers: parts.headers,
        host: parts
            .uri
            .authority()
            .map(ToString::to_string)
            .unwrap_or_default(),
    };
    let mut ctx = ctx;
    if ctx.host.is_empty() {
        ctx.host = ctx.header("host").unwrap_or("localhost").to_owned();
    }
    let head = ctx.method == Method::HEAD;
    let mut response = match route(service, &ctx, body).await {
        Ok(response) => response,
        Err(error) => {
            if matches!(error, S3Error::Internal(_)) {
                tracing::warn!(resource = %ctx.resource(), %error, "local S3 failed");
            }
            error_response(&error, &ctx.resource(), &request_id, head)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amz-request-id", value);
    }
    response
}

async fn route(service: &S3Service, ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    // A web page can send a "simple" cross-origin request to loopback with no
    // preflight, and S3 clients never send `Origin`: a write that carries one is
    // refused, so a page the developer opens cannot delete or overwrite objects.
    if !matches!(ctx.method, Method::GET | Method::HEAD) && ctx.header("origin").is_some() {
        return Err(S3Error::AccessDenied(
            "local mode's S3 takes no writes from web pages (the request has an Origin header)"
                .to_owned(),
        ));
    }
    if let Some(name) = UNSERVED.iter().find(|name| ctx.has(name)) {
        return Err(S3Error::NotImplemented(format!("The ?{name} sub-resource")));
    }
    let store = &service.store;
    let Some(bucket) = ctx.bucket.as_deref() else {
        return match ctx.method {
            Method::GET => Ok(buckets::list_buckets(store)),
            _ => Err(S3Error::MethodNotAllowed),
        };
    };
    let Some(key) = ctx.key.as_deref() else {
        return match ctx.method {
            // `x-id` names the operation (the Rust SDK adds it); it changes nothing.
            Method::PUT if ctx.query.keys().all(|k| k == "x-id") => {
                buckets::create_bucket(store, bucket, body).await
            }
            Method::PUT => Err(not_served(ctx, "PUT on a bucket")),
            Method::HEAD => buckets::head_bucket(store, bucket),
            Method::DELETE => buckets::delete_bucket(store, bucket),
            Method::GET if ctx.has("location") => buckets::bucket_location(store, bucket),
            Method::GET if ctx.has("uploads") || ctx.has("versions") || ctx.has("versioning") => {
                Err(not_served(ctx, "this GET on a bucket"))
            }
            Method::GET => listing::list_objects(store, ctx, bucket),
            Method::POST if ctx.has("delete") => {
                objects::delete_objects(store, ctx, bucket, body).await
            }
            _ => Err(S3Error::MethodNotAllowed),
        };
    };
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLong);
    }
    let request = ObjectRequest(store, ctx, bucket, key);
    match ctx.method {
        Method::PUT if ctx.has("uploadId") => multipart::upload_part(request, body).await,
        Method::PUT if ctx.header("x-amz-copy-source").is_some() => {
            objects::copy_object(request).await
        }
        Method::PUT if ctx.query.keys().all(|k| k == "x-id") => {
            objects::put_object(request, body).await
        }
        Method::PUT => Err(not_served(ctx, "this PUT on an object")),
        Method::GET if ctx.has("uploadId") => Err(not_served(ctx, "ListParts")),
        Method::GET | Method::HEAD => objects::get_object(request).await,
        Method::DELETE if ctx.has("uploadId") => multipart::abort_upload(request),
        Method::DELETE => objects::delete_object(store, bucket, key),
        Method::POST if ctx.has("uploads") => multipart::create_upload(request),
        Method::POST if ctx.has("uploadId") => multipart::complete_upload(request, body).await,
        _ => Err(S3Error::MethodNotAllowed),
    }
}

fn not_served(ctx: &Ctx, what: &str) -> S3Error {
    let params: Vec<&str> = ctx.query.keys().map(String::as_str).collect();
    S3Error::NotImplemented(format!("{what} (query: {})", params.join("&")))
}

/// The characters `EncodingType=url` leaves as they are (and a
/// `<Location>`'s key).
const URL_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn xml_response(document: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{document}"),
    )
        .into_response()
}

fn with_headers(status: StatusCode, headers: &[(&str, String)], body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// S3's `<Error>` document (no body for HEAD, as S3 sends none).
pub(crate) fn error_response(
    error: &S3Error,
    resource: &str,
    request_id: &str,
    head: bool,
) -> Response {
    let status = error.status();
    if head || status == StatusCode::NOT_MODIFIED {
        return status.into_response();
    }
    let details: String = error
        .details()
        .iter()
        .map(|(name, value)| element(name, value))
        .collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>{}{}{details}{}{}</Error>",
        element("Code", error.code()),
        element("Message", &error.to_string()),
        element("Resource", resource),
        element("RequestId", request_id),
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn iso(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn http_date(time: &DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn owner() -> String {
    format!(
        "<Owner>{}{}</Owner>",
        element("ID", OWNER_ID),
        element("DisplayName", OWNER_NAME)
    )
}
