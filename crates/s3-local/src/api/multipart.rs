//! Multipart uploads: `CreateMultipartUpload`, `UploadPart` and
//! `UploadPartCopy` (a part from a range of another object),
//! `CompleteMultipartUpload` (S3's checks and multipart ETag are the
//! store's) and `AbortMultipartUpload`.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use chrono::Utc;
use percent_encoding::utf8_percent_encode;

use super::body::{document, receive, small_body};
use super::objects::{copy_bytes, copy_source, new_object};
use super::{ObjectRequest, URL_KEEP, iso, with_headers, xml_response};
use crate::error::S3Error;
use crate::store::hex;
use crate::xml::{NAMESPACE, element};

pub(super) fn create_upload(request: ObjectRequest<'_>) -> Result<Response, S3Error> {
    let ObjectRequest(store, ctx, bucket, key) = request;
    let id = store.create_upload(bucket, key, new_object(&ctx.headers))?;
    Ok(xml_response(format!(
        "<InitiateMultipartUploadResult xmlns=\"{NAMESPACE}\">{}{}{}</InitiateMultipartUploadResult>",
        element("Bucket", bucket),
        element("Key", key),
        element("UploadId", &id)
    )))
}

pub(super) async fn upload_part(
    request: ObjectRequest<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let ObjectRequest(store, ctx, bucket, key) = request;
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
    received.give_to(|received| {
        store.put_part(bucket, key, upload_id, number, received, etag.clone())
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

pub(super) async fn complete_upload(
    request: ObjectRequest<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let ObjectRequest(store, ctx, bucket, key) = request;
    let upload_id = ctx.q("uploadId").unwrap_or_default().to_owned();
    let body = small_body(body).await?;
    let doc = document(&body, "CompleteMultipartUpload")?;
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
        let store = std::sync::Arc::clone(store);
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

pub(super) fn abort_upload(request: ObjectRequest<'_>) -> Result<Response, S3Error> {
    let ObjectRequest(store, ctx, bucket, key) = request;
    store.abort_upload(bucket, key, ctx.q("uploadId").unwrap_or_default())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
