//! The object operations: `PutObject`, `GetObject` and `HeadObject` (one
//! byte range, conditional headers, `response-*` overrides, the bytes
//! streamed from the file), `DeleteObject`, `DeleteObjects` and
//! `CopyObject`; and what they share with multipart uploads: the headers and
//! user metadata a new object takes from its request, and a copy source's
//! bytes.

use std::io::{Read as _, Seek as _, Write as _};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use sha2::Digest as _;

use super::body::{Md5Writer, document, receive, small_body};
use super::{Ctx, ObjectRequest, http_date, iso, with_headers, xml_response};
use crate::error::S3Error;
use crate::store::{NewObject, ObjectMeta, Received, Store, hex};
use crate::xml::{NAMESPACE, element};

/// The object headers S3 stores and gives back (besides `x-amz-meta-*`).
const STORED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
];

/// The headers and user metadata a new object takes from its request.
pub(super) fn new_object(headers: &HeaderMap) -> NewObject {
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

pub(super) async fn put_object(
    request: ObjectRequest<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let ObjectRequest(store, ctx, bucket, key) = request;
    // Before reading the body: a missing bucket answers at once.
    store.bucket_region(bucket)?;
    let received = receive(store, &ctx.headers, body).await?;
    let etag = hex(&received.md5);
    let new = new_object(&ctx.headers);
    let meta = received.give_to(|received| store.put_object(bucket, key, received, etag, new))?;
    Ok(with_headers(
        StatusCode::OK,
        &[("etag", format!("\"{}\"", meta.etag))],
        Body::empty(),
    ))
}
/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, maybe
/// with `?versionId=`.
pub(super) fn copy_source(value: &str) -> Result<(String, String), S3Error> {
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
pub(super) async fn copy_bytes(
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

pub(super) async fn copy_object(request: ObjectRequest<'_>) -> Result<Response, S3Error> {
    let ObjectRequest(store, ctx, bucket, key) = request;
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
    // The copy is a new single-part object: its ETag is the MD5 of its bytes, even
    // when the source's was a multipart one (S3 API Reference, Object: objects
    // "created by the PUT Object, POST Object, or Copy operation ... have ETags that
    // are an MD5 digest of their object data").
    let etag = hex(&received.md5);
    let meta = received.give_to(|received| store.put_object(bucket, key, received, etag, new))?;
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
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
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

pub(super) async fn get_object(request: ObjectRequest<'_>) -> Result<Response, S3Error> {
    let ObjectRequest(store, ctx, bucket, key) = request;
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

/// `DeleteObject`; deleting a key that is not there succeeds, as on S3.
pub(super) fn delete_object(store: &Store, bucket: &str, key: &str) -> Result<Response, S3Error> {
    store.delete_object(bucket, key)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete_objects(
    store: &Store,
    ctx: &Ctx,
    bucket: &str,
    body: Body,
) -> Result<Response, S3Error> {
    // DeleteObjects: "The Content-MD5 or x-amz-checksum-* header is required for all
    // Multi-Object Delete requests" (the SDKs and the CLI send one).
    let checksummed = ctx.header("content-md5").is_some()
        || ctx.headers.keys().any(|name| {
            name.as_str().starts_with("x-amz-checksum-") || name == "x-amz-sdk-checksum-algorithm"
        });
    if !checksummed {
        return Err(S3Error::InvalidRequest(
            "Missing required header for this request: Content-MD5 OR x-amz-checksum-*".to_owned(),
        ));
    }
    let body = small_body(body).await?;
    let doc = document(&body, "Delete")?;
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
#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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
