//! S3's REST protocol, path-style: `/{bucket}` and `/{bucket}/{key}`, the
//! operation picked by method, path and sub-resource query parameters, as
//! the Amazon S3 API Reference defines each operation's request.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _, Write as _};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::Digest as _;
use tokio::io::AsyncWriteExt as _;

use crate::error::S3Error;
use crate::list::{self, Entry, Resume};
use crate::store::{MAX_KEY_BYTES, NewObject, ObjectMeta, Received, Store, hex};
use crate::xml::{self, NAMESPACE, element};
use crate::{S3Service, chunked};

/// The owner every bucket and object has locally (a fixed canonical user id).
const OWNER_ID: &str = "6c6f63616c2d6d6f64652d6f776e65722d6f662d65766572792d6275636b6574";
const OWNER_NAME: &str = "local";

/// The object headers S3 stores and gives back (besides `x-amz-meta-*`).
const STORED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
];

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
    if let Some(name) = UNSERVED.iter().find(|name| ctx.has(name)) {
        return Err(S3Error::NotImplemented(format!("The ?{name} sub-resource")));
    }
    let store = &service.store;
    let Some(bucket) = ctx.bucket.as_deref() else {
        return match ctx.method {
            Method::GET => Ok(list_buckets(store)),
            _ => Err(S3Error::MethodNotAllowed),
        };
    };
    let Some(key) = ctx.key.as_deref() else {
        return match ctx.method {
            // `x-id` names the operation (the Rust SDK adds it); it changes nothing.
            Method::PUT if ctx.query.keys().all(|k| k == "x-id") => {
                create_bucket(store, bucket, body).await
            }
            Method::PUT => Err(not_served(ctx, "PUT on a bucket")),
            Method::HEAD => {
                let region = store.bucket_region(bucket)?;
                Ok(with_headers(
                    StatusCode::OK,
                    &[("x-amz-bucket-region", region)],
                    Body::empty(),
                ))
            }
            Method::DELETE => {
                store.delete_bucket(bucket)?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            Method::GET if ctx.has("location") => {
                let region = store.bucket_region(bucket)?;
                // us-east-1 is the empty constraint (GetBucketLocation).
                let region = if region == "us-east-1" { "" } else { &region };
                Ok(xml_response(format!(
                    "<LocationConstraint xmlns=\"{NAMESPACE}\">{}</LocationConstraint>",
                    xml::escape(region)
                )))
            }
            Method::GET if ctx.has("uploads") || ctx.has("versions") || ctx.has("versioning") => {
                Err(not_served(ctx, "this GET on a bucket"))
            }
            Method::GET => list_objects(store, ctx, bucket),
            Method::POST if ctx.has("delete") => delete_objects(store, bucket, body).await,
            _ => Err(S3Error::MethodNotAllowed),
        };
    };
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLong);
    }
    match ctx.method {
        Method::PUT if ctx.has("uploadId") => upload_part(store, ctx, bucket, key, body).await,
        Method::PUT if ctx.header("x-amz-copy-source").is_some() => {
            copy_object(store, ctx, bucket, key).await
        }
        Method::PUT if ctx.query.keys().all(|k| k == "x-id") => {
            put_object(store, ctx, bucket, key, body).await
        }
        Method::PUT => Err(not_served(ctx, "this PUT on an object")),
        Method::GET if ctx.has("uploadId") => Err(not_served(ctx, "ListParts")),
        Method::GET | Method::HEAD => get_object(store, ctx, bucket, key).await,
        Method::DELETE if ctx.has("uploadId") => {
            store.abort_upload(bucket, key, ctx.q("uploadId").unwrap_or_default())?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Method::DELETE => {
            store.delete_object(bucket, key)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Method::POST if ctx.has("uploads") => {
            let id = store.create_upload(bucket, key, new_object(&ctx.headers))?;
            Ok(xml_response(format!(
                "<InitiateMultipartUploadResult xmlns=\"{NAMESPACE}\">{}{}{}</InitiateMultipartUploadResult>",
                element("Bucket", bucket),
                element("Key", key),
                element("UploadId", &id)
            )))
        }
        Method::POST if ctx.has("uploadId") => complete_upload(store, ctx, bucket, key, body).await,
        _ => Err(S3Error::MethodNotAllowed),
    }
}

fn not_served(ctx: &Ctx, what: &str) -> S3Error {
    let params: Vec<&str> = ctx.query.keys().map(String::as_str).collect();
    S3Error::NotImplemented(format!("{what} (query: {})", params.join("&")))
}

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

fn list_buckets(store: &Store) -> Response {
    let buckets: String = store
        .list_buckets()
        .iter()
        .map(|(name, created)| {
            format!(
                "<Bucket>{}{}</Bucket>",
                element("Name", name),
                element("CreationDate", &iso(created))
            )
        })
        .collect();
    xml_response(format!(
        "<ListAllMyBucketsResult xmlns=\"{NAMESPACE}\">{}<Buckets>{buckets}</Buckets></ListAllMyBucketsResult>",
        owner()
    ))
}

/// S3's naming rules for general purpose buckets (Amazon S3 User Guide,
/// "General purpose bucket naming rules").
pub(crate) fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !["xn--", "sthree-", "amzn-s3-demo-"]
            .iter()
            .any(|p| name.starts_with(p))
        && !["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
            .iter()
            .any(|s| name.ends_with(s))
}

async fn create_bucket(store: &Store, bucket: &str, body: Body) -> Result<Response, S3Error> {
    if !valid_bucket_name(bucket) {
        return Err(S3Error::InvalidBucketName {
            bucket: bucket.to_owned(),
        });
    }
    let body = small_body(body).await?;
    let mut region = "us-east-1".to_owned();
    if !body.iter().all(u8::is_ascii_whitespace) {
        let text = std::str::from_utf8(&body).map_err(|_| S3Error::MalformedXml)?;
        let doc = xml::parse(text).ok_or(S3Error::MalformedXml)?;
        if doc.name != "CreateBucketConfiguration" {
            return Err(S3Error::MalformedXml);
        }
        if let Some(constraint) = doc.text_of("LocationConstraint").filter(|c| !c.is_empty()) {
            // "us-east-1" is not a valid constraint on S3: it is the absence of one.
            if constraint == "us-east-1" {
                return Err(S3Error::InvalidArgument(
                    "The specified location-constraint is not valid".into(),
                ));
            }
            region = constraint.to_owned();
        }
    }
    match store.create_bucket(bucket, &region)? {
        Ok(()) => {}
        // BucketAlreadyOwnedByYou: "Amazon S3 returns this error in all AWS
        // Regions except in the North Virginia Region. For legacy
        // compatibility, if you re-create an existing bucket that you already
        // own in the North Virginia Region, Amazon S3 returns 200 OK".
        Err(existing) if existing == "us-east-1" && region == "us-east-1" => {}
        Err(_) => {
            return Err(S3Error::BucketAlreadyOwnedByYou {
                bucket: bucket.to_owned(),
            });
        }
    }
    Ok(with_headers(
        StatusCode::OK,
        &[("location", format!("/{bucket}"))],
        Body::empty(),
    ))
}

/// The characters `EncodingType=url` leaves as they are.
const URL_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn list_objects(store: &Store, ctx: &Ctx, bucket: &str) -> Result<Response, S3Error> {
    let v2 = ctx.q("list-type") == Some("2");
    let url = match ctx.q("encoding-type") {
        None => false,
        Some("url") => true,
        Some(_) => {
            return Err(S3Error::InvalidArgument(
                "Invalid Encoding Method specified in Request".into(),
            ));
        }
    };
    let max_keys = match ctx.q("max-keys") {
        None => 1000,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                S3Error::InvalidArgument(
                    "Provided max-keys not an integer or within integer range".into(),
                )
            })?
            .min(1000) as usize,
    };
    let resume = if v2 {
        match (ctx.q("continuation-token"), ctx.q("start-after")) {
            (Some(token), _) => Some(Resume::from_token(token)?),
            (None, Some(after)) if !after.is_empty() => Some(Resume::After(after.to_owned())),
            _ => None,
        }
    } else {
        // A marker that ends with the delimiter is a common prefix we gave as
        // NextMarker: the next page starts after every key under it, or the
        // prefix would come back on every page.
        let prefix = ctx.q("prefix").unwrap_or_default();
        let delimiter = ctx.q("delimiter").filter(|d| !d.is_empty());
        ctx.q("marker")
            .filter(|m| !m.is_empty())
            .map(|m| match delimiter {
                Some(d) if m.len() > prefix.len() && m.starts_with(prefix) && m.ends_with(d) => {
                    Resume::PastPrefix(m.to_owned())
                }
                _ => Resume::After(m.to_owned()),
            })
    };
    let query = list::Query {
        prefix: ctx.q("prefix").unwrap_or_default().to_owned(),
        delimiter: ctx
            .q("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        max_keys,
        resume,
    };
    let page = store.list(bucket, &query)?;
    let enc = |text: &str| -> String {
        if url {
            utf8_percent_encode(text, URL_KEEP).to_string()
        } else {
            text.to_owned()
        }
    };
    let with_owner = !v2 || ctx.q("fetch-owner") == Some("true");
    let mut contents = String::new();
    let mut prefixes = String::new();
    for entry in &page.entries {
        match entry {
            Entry::Object(meta) => contents.push_str(&format!(
                "<Contents>{}{}{}{}{}<StorageClass>STANDARD</StorageClass></Contents>",
                element("Key", &enc(&meta.key)),
                element("LastModified", &iso(&meta.last_modified)),
                element("ETag", &format!("\"{}\"", meta.etag)),
                element("Size", &meta.size.to_string()),
                if with_owner { owner() } else { String::new() },
            )),
            Entry::CommonPrefix(prefix) => prefixes.push_str(&format!(
                "<CommonPrefixes>{}</CommonPrefixes>",
                element("Prefix", &enc(prefix))
            )),
        }
    }
    let mut head = format!(
        "{}{}",
        element("Name", bucket),
        element("Prefix", &enc(&query.prefix))
    );
    if let Some(delimiter) = &query.delimiter {
        head.push_str(&element("Delimiter", &enc(delimiter)));
    }
    head.push_str(&element("MaxKeys", &max_keys.to_string()));
    if url {
        head.push_str("<EncodingType>url</EncodingType>");
    }
    head.push_str(&element(
        "IsTruncated",
        if page.next.is_some() { "true" } else { "false" },
    ));
    if v2 {
        head.push_str(&element("KeyCount", &page.entries.len().to_string()));
        if let Some(token) = ctx.q("continuation-token") {
            head.push_str(&element("ContinuationToken", token));
        }
        if let Some(next) = &page.next {
            head.push_str(&element("NextContinuationToken", &next.token()));
        }
        if let Some(after) = ctx.q("start-after") {
            head.push_str(&element("StartAfter", &enc(after)));
        }
    } else {
        head.push_str(&element(
            "Marker",
            &enc(ctx.q("marker").unwrap_or_default()),
        ));
        // ListObjects gives NextMarker only with a delimiter; without one the
        // client continues from the last key.
        if let (Some(next), Some(_)) = (&page.next, &query.delimiter) {
            let marker = match next {
                Resume::After(key) | Resume::PastPrefix(key) => key,
            };
            head.push_str(&element("NextMarker", &enc(marker)));
        }
    }
    Ok(xml_response(format!(
        "<ListBucketResult xmlns=\"{NAMESPACE}\">{head}{contents}{prefixes}</ListBucketResult>"
    )))
}

async fn delete_objects(store: &Store, bucket: &str, body: Body) -> Result<Response, S3Error> {
    let body = small_body(body).await?;
    let text = std::str::from_utf8(&body).map_err(|_| S3Error::MalformedXml)?;
    let doc = xml::parse(text).ok_or(S3Error::MalformedXml)?;
    if doc.name != "Delete" {
        return Err(S3Error::MalformedXml);
    }
    let keys: Vec<&str> = doc.all("Object").filter_map(|o| o.text_of("Key")).collect();
    // DeleteObjects: "up to 1,000 keys".
    if keys.is_empty() || keys.len() > 1000 {
        return Err(S3Error::MalformedXml);
    }
    store.bucket_region(bucket)?;
    let quiet = doc
        .text_of("Quiet")
        .is_some_and(|q| q.eq_ignore_ascii_case("true"));
    let mut result = String::new();
    for key in keys {
        match store.delete_object(bucket, key) {
            Ok(()) if quiet => {}
            Ok(()) => result.push_str(&format!("<Deleted>{}</Deleted>", element("Key", key))),
            Err(error) => result.push_str(&format!(
                "<Error>{}{}{}</Error>",
                element("Key", key),
                element("Code", error.code()),
                element("Message", &error.to_string())
            )),
        }
    }
    Ok(xml_response(format!(
        "<DeleteResult xmlns=\"{NAMESPACE}\">{result}</DeleteResult>"
    )))
}

/// A request body small enough to hold (XML documents): at most 1 MiB.
async fn small_body(body: Body) -> Result<Bytes, S3Error> {
    axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|_| S3Error::MalformedXml)
}

/// The headers and user metadata a new object takes from its request.
fn new_object(headers: &HeaderMap) -> NewObject {
    let mut new = NewObject::default();
    for name in STORED_HEADERS {
        let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let value = if name == "content-encoding" {
            // aws-chunked is the upload's framing, not the object's encoding.
            let kept: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && *e != "aws-chunked")
                .collect();
            if kept.is_empty() {
                continue;
            }
            kept.join(", ")
        } else {
            value.to_owned()
        };
        new.headers.insert(name.to_owned(), value);
    }
    for (name, value) in headers {
        if let (Some(meta), Ok(value)) = (name.as_str().strip_prefix("x-amz-meta-"), value.to_str())
        {
            new.metadata.insert(meta.to_owned(), value.to_owned());
        }
    }
    new
}

/// A file write that hashes what it writes.
struct Md5Writer {
    file: std::fs::File,
    md5: md5::Md5,
}

impl std::io::Write for Md5Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Receives a request body into a temporary file: decoded from aws-chunked
/// if it is, checked against `Content-MD5` and `x-amz-decoded-content-length`.
async fn receive(store: &Store, headers: &HeaderMap, body: Body) -> Result<Received, S3Error> {
    let raw = store.temp_path();
    let result = receive_into(store, headers, body, &raw).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&raw).await;
    }
    let received = result?;
    if let Err(error) = check(headers, &received) {
        let _ = tokio::fs::remove_file(&received.path).await;
        return Err(error);
    }
    Ok(received)
}

async fn receive_into(
    store: &Store,
    headers: &HeaderMap,
    mut body: Body,
    raw: &std::path::Path,
) -> Result<Received, S3Error> {
    let failed = |e: std::io::Error| S3Error::io("receiving the body", e);
    let chunked = chunked::is_aws_chunked(headers);
    let mut file = tokio::fs::File::create(raw).await.map_err(failed)?;
    let mut md5 = md5::Md5::new();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        // The client went away or sent less than its Content-Length.
        let frame = frame.map_err(|_| S3Error::IncompleteBody)?;
        if let Ok(data) = frame.into_data() {
            if !chunked {
                md5.update(&data);
            }
            size += data.len() as u64;
            file.write_all(&data).await.map_err(failed)?;
        }
    }
    file.flush().await.map_err(failed)?;
    drop(file);
    if !chunked {
        return Ok(Received {
            path: raw.to_owned(),
            size,
            md5: md5.finalize().into(),
        });
    }
    let decoded = store.temp_path();
    let (raw, out) = (raw.to_owned(), decoded.clone());
    let result = tokio::task::spawn_blocking(move || {
        let input = std::fs::File::open(&raw)?;
        let mut writer = Md5Writer {
            file: std::fs::File::create(&out)?,
            md5: md5::Md5::new(),
        };
        let decoded = chunked::decode(std::io::BufReader::new(input), &mut writer);
        let _ = std::fs::remove_file(&raw);
        Ok::<_, std::io::Error>(decoded.map(|size| (size, writer.md5.finalize().into())))
    })
    .await
    .map_err(|e| S3Error::io("decoding the body", e))?
    .map_err(failed)?;
    match result {
        Ok((size, md5)) => Ok(Received {
            path: decoded,
            size,
            md5,
        }),
        Err(error) => {
            let _ = tokio::fs::remove_file(&decoded).await;
            Err(match error {
                Some(io) => failed(io),
                None => S3Error::IncompleteBody,
            })
        }
    }
}

fn check(headers: &HeaderMap, received: &Received) -> Result<(), S3Error> {
    if let Some(expected) = headers
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && expected != received.size
    {
        return Err(S3Error::IncompleteBody);
    }
    if let Some(md5) = headers.get("content-md5").and_then(|v| v.to_str().ok()) {
        let given = base64::engine::general_purpose::STANDARD
            .decode(md5.trim())
            .ok()
            .filter(|d| d.len() == 16)
            .ok_or(S3Error::InvalidDigest)?;
        if given != received.md5 {
            return Err(S3Error::BadDigest);
        }
    }
    Ok(())
}

async fn put_object(
    store: &Store,
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    body: Body,
) -> Result<Response, S3Error> {
    // Before reading the body: a missing bucket answers at once.
    store.bucket_region(bucket)?;
    let received = receive(store, &ctx.headers, body).await?;
    let etag = hex(&received.md5);
    let new = new_object(&ctx.headers);
    let path = received.path.clone();
    let meta = store
        .put_object(bucket, key, received, etag, new)
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })?;
    Ok(with_headers(
        StatusCode::OK,
        &[("etag", format!("\"{}\"", meta.etag))],
        Body::empty(),
    ))
}

async fn upload_part(
    store: &Store,
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    body: Body,
) -> Result<Response, S3Error> {
    let upload_id = ctx.q("uploadId").unwrap_or_default();
    let number = ctx
        .q("partNumber")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::InvalidArgument(
                "Part number must be an integer between 1 and 10000, inclusive".into(),
            )
        })?;
    let (received, copy) = match ctx.header("x-amz-copy-source") {
        // UploadPartCopy: the part is (a range of) another object.
        Some(source) => {
            let (src_bucket, src_key) = copy_source(source)?;
            let range = ctx.header("x-amz-copy-source-range").map(str::to_owned);
            let received = copy_bytes(store, &src_bucket, &src_key, range).await?;
            (received, true)
        }
        None => (receive(store, &ctx.headers, body).await?, false),
    };
    let etag = hex(&received.md5);
    let path = received.path.clone();
    store
        .put_part(bucket, key, upload_id, number, received, etag.clone())
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })?;
    if copy {
        return Ok(xml_response(format!(
            "<CopyPartResult xmlns=\"{NAMESPACE}\">{}{}</CopyPartResult>",
            element("LastModified", &iso(&Utc::now())),
            element("ETag", &format!("\"{etag}\""))
        )));
    }
    Ok(with_headers(
        StatusCode::OK,
        &[("etag", format!("\"{etag}\""))],
        Body::empty(),
    ))
}

async fn complete_upload(
    store: &Arc<Store>,
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    body: Body,
) -> Result<Response, S3Error> {
    let upload_id = ctx.q("uploadId").unwrap_or_default().to_owned();
    let body = small_body(body).await?;
    let text = std::str::from_utf8(&body).map_err(|_| S3Error::MalformedXml)?;
    let doc = xml::parse(text).ok_or(S3Error::MalformedXml)?;
    if doc.name != "CompleteMultipartUpload" {
        return Err(S3Error::MalformedXml);
    }
    let mut parts = Vec::new();
    for part in doc.all("Part") {
        let number = part
            .text_of("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or(S3Error::MalformedXml)?;
        let etag = part.text_of("ETag").ok_or(S3Error::MalformedXml)?;
        parts.push((number, etag.trim().to_owned()));
    }
    let store_bucket = bucket.to_owned();
    let store_key = key.to_owned();
    let meta = {
        let store = Arc::clone(store);
        tokio::task::spawn_blocking(move || {
            store.complete_upload(&store_bucket, &store_key, &upload_id, &parts)
        })
        .await
        .map_err(|e| S3Error::io("completing the upload", e))??
    };
    let location = format!(
        "http://{}/{bucket}/{}",
        ctx.host,
        utf8_percent_encode(key, URL_KEEP)
    );
    Ok(xml_response(format!(
        "<CompleteMultipartUploadResult xmlns=\"{NAMESPACE}\">{}{}{}{}</CompleteMultipartUploadResult>",
        element("Location", &location),
        element("Bucket", bucket),
        element("Key", key),
        element("ETag", &format!("\"{}\"", meta.etag))
    )))
}

/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, maybe
/// with `?versionId=`.
fn copy_source(value: &str) -> Result<(String, String), S3Error> {
    let value = value.split('?').next().unwrap_or_default();
    let decoded = percent_decode_str(value.trim_start_matches('/'))
        .decode_utf8()
        .map_err(|_| S3Error::InvalidArgument("Invalid copy source encoding".into()))?;
    match decoded.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
            Ok((bucket.to_owned(), key.to_owned()))
        }
        _ => Err(S3Error::InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey".into(),
        )),
    }
}

/// Copies an object's bytes (or a `bytes=a-b` range of them) to a temporary file.
async fn copy_bytes(
    store: &Store,
    bucket: &str,
    key: &str,
    range: Option<String>,
) -> Result<Received, S3Error> {
    let (meta, mut file) = store.open_object(bucket, key)?;
    let (start, len) = match range {
        Some(range) => match parse_range(&range, meta.size)? {
            Some((start, end)) => (start, end - start + 1),
            None => {
                return Err(S3Error::InvalidArgument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last".into(),
                ));
            }
        },
        None => (0, meta.size),
    };
    let target = store.temp_path();
    let out = target.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<Received> {
        file.seek(std::io::SeekFrom::Start(start))?;
        let mut writer = Md5Writer {
            file: std::fs::File::create(&out)?,
            md5: md5::Md5::new(),
        };
        let size = std::io::copy(&mut file.take(len), &mut writer)?;
        writer.flush()?;
        Ok(Received {
            path: out,
            size,
            md5: writer.md5.finalize().into(),
        })
    })
    .await
    .map_err(|e| S3Error::io("copying", e))?
    .map_err(|e| {
        let _ = std::fs::remove_file(&target);
        S3Error::io("copying", e)
    })
}

async fn copy_object(
    store: &Store,
    ctx: &Ctx,
    bucket: &str,
    key: &str,
) -> Result<Response, S3Error> {
    let (src_bucket, src_key) = copy_source(ctx.header("x-amz-copy-source").unwrap_or_default())?;
    store.bucket_region(bucket)?;
    let replace = match ctx.header("x-amz-metadata-directive") {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(_) => {
            return Err(S3Error::InvalidArgument(
                "Unknown metadata directive.".into(),
            ));
        }
    };
    if src_bucket == bucket && src_key == key && !replace {
        return Err(S3Error::InvalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".into(),
        ));
    }
    let source = store.head_object(&src_bucket, &src_key)?;
    let received = copy_bytes(store, &src_bucket, &src_key, None).await?;
    let new = if replace {
        new_object(&ctx.headers)
    } else {
        NewObject {
            headers: source.headers.clone(),
            metadata: source.metadata.clone(),
        }
    };
    // A copy keeps the source's ETag (a multipart one included): same bytes.
    let etag = source.etag.clone();
    let path = received.path.clone();
    let meta = store
        .put_object(bucket, key, received, etag, new)
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })?;
    Ok(xml_response(format!(
        "<CopyObjectResult>{}{}</CopyObjectResult>",
        element("LastModified", &iso(&meta.last_modified)),
        element("ETag", &format!("\"{}\"", meta.etag))
    )))
}

/// A `Range: bytes=...` header against an object of `size` bytes: the
/// inclusive range to send, `None` to send everything (no single byte range:
/// RFC 9110 lets a server ignore a Range it does not support), or
/// `InvalidRange` when it starts past the end.
pub(crate) fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let unsatisfiable = Err(S3Error::InvalidRange { size });
    if first.is_empty() {
        // The last N bytes.
        let Ok(n) = last.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || size == 0 {
            return unsatisfiable;
        }
        return Ok(Some((size.saturating_sub(n), size - 1)));
    }
    let Ok(start) = first.parse::<u64>() else {
        return Ok(None);
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => end,
            _ => return Ok(None),
        }
    };
    if start >= size {
        return unsatisfiable;
    }
    Ok(Some((start, end.min(size - 1))))
}

fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn etag_matches(condition: &str, etag: &str) -> bool {
    condition
        .split(',')
        .map(|c| c.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|c| c == "*" || c == etag)
}

/// GetObject's conditional headers, in S3's order of precedence
/// (GetObject: If-Match true with If-Unmodified-Since false gives 200;
/// If-None-Match false with If-Modified-Since true gives 304).
fn preconditions(ctx: &Ctx, meta: &ObjectMeta) -> Result<(), S3Error> {
    let modified = meta.last_modified.timestamp();
    if let Some(condition) = ctx.header("if-match") {
        if !etag_matches(condition, &meta.etag) {
            return Err(S3Error::PreconditionFailed);
        }
    } else if let Some(since) = ctx.header("if-unmodified-since").and_then(parse_http_date)
        && modified > since.timestamp()
    {
        return Err(S3Error::PreconditionFailed);
    }
    if let Some(condition) = ctx.header("if-none-match") {
        if etag_matches(condition, &meta.etag) {
            return Err(S3Error::NotModified);
        }
    } else if let Some(since) = ctx.header("if-modified-since").and_then(parse_http_date)
        && modified <= since.timestamp()
    {
        return Err(S3Error::NotModified);
    }
    Ok(())
}

async fn get_object(
    store: &Store,
    ctx: &Ctx,
    bucket: &str,
    key: &str,
) -> Result<Response, S3Error> {
    let (meta, mut file) = store.open_object(bucket, key)?;
    preconditions(ctx, &meta)?;
    let range = match ctx.header("range") {
        Some(value) => parse_range(value, meta.size)?,
        None => None,
    };
    let mut headers: Vec<(&str, String)> = vec![
        ("etag", format!("\"{}\"", meta.etag)),
        ("last-modified", http_date(&meta.last_modified)),
        ("accept-ranges", "bytes".to_owned()),
    ];
    let mut stored = meta.headers.clone();
    stored
        .entry("content-type".to_owned())
        .or_insert_with(|| "binary/octet-stream".to_owned());
    // GetObject's response-* parameters override the stored headers.
    for name in STORED_HEADERS {
        if let Some(value) = ctx.q(&format!("response-{name}")) {
            stored.insert(name.to_owned(), value.to_owned());
        }
    }
    for (name, value) in &stored {
        if let Some(name) = STORED_HEADERS.iter().find(|n| **n == name.as_str()) {
            headers.push((name, value.clone()));
        }
    }
    let meta_headers: Vec<(String, String)> = meta
        .metadata
        .iter()
        .map(|(name, value)| (format!("x-amz-meta-{name}"), value.clone()))
        .collect();
    let (status, start, len) = match range {
        Some((start, end)) => {
            headers.push((
                "content-range",
                format!("bytes {start}-{end}/{}", meta.size),
            ));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        None => (StatusCode::OK, 0, meta.size),
    };
    headers.push(("content-length", len.to_string()));
    let body = if ctx.method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        file.seek(std::io::SeekFrom::Start(start))
            .map_err(|e| S3Error::io("reading the object", e))?;
        file_body(file, len)
    };
    let mut response = with_headers(status, &headers, body);
    for (name, value) in meta_headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

/// `len` bytes of `file` from where it is, streamed in 64 KiB reads.
fn file_body(file: std::fs::File, len: u64) -> Body {
    use tokio::io::AsyncReadExt as _;
    let state = (tokio::fs::File::from_std(file), len);
    let stream = futures_util::stream::try_unfold(state, |(mut file, remaining)| async move {
        if remaining == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        let mut buf = vec![0u8; remaining.min(64 * 1024) as usize];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the object's file is shorter than its size",
            ));
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), (file, remaining - n as u64))))
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_s3_and_rfc_9110() {
        assert_eq!(parse_range("bytes=0-4", 10), Ok(Some((0, 4))));
        assert_eq!(parse_range("bytes=5-", 10), Ok(Some((5, 9))));
        assert_eq!(parse_range("bytes=8-100", 10), Ok(Some((8, 9))));
        assert_eq!(parse_range("bytes=-3", 10), Ok(Some((7, 9))));
        assert_eq!(parse_range("bytes=-30", 10), Ok(Some((0, 9))));
        assert_eq!(
            parse_range("bytes=10-", 10),
            Err(S3Error::InvalidRange { size: 10 })
        );
        assert_eq!(
            parse_range("bytes=-0", 10),
            Err(S3Error::InvalidRange { size: 10 })
        );
        // Not a single byte range: the whole object.
        assert_eq!(parse_range("bytes=0-1,4-5", 10), Ok(None));
        assert_eq!(parse_range("items=0-1", 10), Ok(None));
        assert_eq!(parse_range("bytes=5-2", 10), Ok(None));
    }

    #[test]
    fn bucket_names_follow_the_general_purpose_rules() {
        for good in ["abc", "my-bucket.data", "a1b", &"a".repeat(63)] {
            assert!(valid_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "MyBucket",
            "my_bucket",
            "-abc",
            "abc-",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "sthree-abc",
            "abc-s3alias",
            "abc--ol-s3",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn copy_sources_are_decoded_with_or_without_a_slash_and_version() {
        assert_eq!(
            copy_source("/b/dir/a%20b.txt?versionId=x"),
            Ok(("b".to_owned(), "dir/a b.txt".to_owned()))
        );
        assert_eq!(copy_source("b/k"), Ok(("b".to_owned(), "k".to_owned())));
        assert!(copy_source("b").is_err());
    }

    #[test]
    fn user_metadata_and_stored_headers_are_taken_and_aws_chunked_is_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/csv"));
        headers.insert("content-encoding", HeaderValue::from_static("aws-chunked"));
        headers.insert("x-amz-meta-owner", HeaderValue::from_static("team-a"));
        headers.insert("x-amz-acl", HeaderValue::from_static("private"));
        let new = new_object(&headers);
        assert_eq!(
            new.headers,
            BTreeMap::from([("content-type".to_owned(), "text/csv".to_owned())])
        );
        assert_eq!(
            new.metadata,
            BTreeMap::from([("owner".to_owned(), "team-a".to_owned())])
        );
    }
}
