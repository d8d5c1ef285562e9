//! The local S3 of `hitl local`: buckets and objects as files under the state
//! directory, on local mode's one loopback endpoint, so `aws s3 ...
//! --endpoint-url http://127.0.0.1:PORT` works with no install.
//!
//! Contract:
//! - [`S3Service::open`] opens (creating) the store in a directory
//!   (`<state-dir>/s3` in local mode); objects, buckets and multipart uploads
//!   in progress survive a restart. Layout and crash safety: `store.rs`.
//! - [`S3Service::handle`] serves S3's REST protocol, **path-style**
//!   (`/{bucket}/{key}`; with an IP endpoint such as `http://127.0.0.1:PORT`
//!   the AWS CLI and SDKs use path-style by themselves). Operations served:
//!   `ListBuckets`, `CreateBucket` (with or without a `LocationConstraint`),
//!   `HeadBucket`, `DeleteBucket`, `GetBucketLocation`, `ListObjectsV2`
//!   (`prefix`, `delimiter`, `max-keys`, `continuation-token`, `start-after`,
//!   `encoding-type=url`, `fetch-owner`), `ListObjects` (v1, `marker`),
//!   `PutObject` (`Content-MD5` checked, `x-amz-meta-*` and the standard
//!   headers kept), `GetObject` (one byte `Range`, `If-Match`/`If-None-Match`/
//!   `If-(Un)Modified-Since`, `response-*` overrides), `HeadObject`,
//!   `DeleteObject`, `DeleteObjects`, `CopyObject` (`COPY`/`REPLACE`
//!   metadata directive), and multipart uploads: `CreateMultipartUpload`,
//!   `UploadPart`, `UploadPartCopy`, `CompleteMultipartUpload` (S3's part
//!   checks and multipart ETag), `AbortMultipartUpload`. Bodies may be plain
//!   or `aws-chunked` (signed chunks, or unsigned with a checksum trailer);
//!   `Expect: 100-continue` is answered by the HTTP server.
//! - Not served, answered `NotImplemented` (501): versioning, ACLs, policies,
//!   tagging, lifecycle, CORS, website, object lock, encryption settings,
//!   `ListParts`, `ListMultipartUploads`, and the other sub-resources
//!   (`?acl`, `?tagging`, ...). Virtual-hosted-style requests are not
//!   recognised (they would name no bucket).
//! - Errors are S3's `<Error>` documents with S3's codes and statuses
//!   ([`S3Error`]): `NoSuchBucket`, `NoSuchKey`, `NoSuchUpload`,
//!   `BucketAlreadyOwnedByYou` (409, except 200 for a us-east-1 bucket, as
//!   S3 does for legacy compatibility), `BucketNotEmpty`, `InvalidBucketName`,
//!   `InvalidRange`, `InvalidPart`, `InvalidPartOrder`, `EntityTooSmall`,
//!   `BadDigest`, `MalformedXML`, ...; HEAD errors have no body, as on S3.
//! - Signatures are not checked (no local service checks them): any
//!   credentials work. Checksums other than `Content-MD5` (`x-amz-checksum-*`,
//!   trailers) are accepted and not verified, and not given back.
//! - [`S3Service::get_object`], [`S3Service::put_object`] and
//!   [`S3Service::list_objects`] are the same operations in process, for
//!   code in local mode's own process; [`S3Service::ensure_bucket`] creates a
//!   template's bucket at start.
//! - [`is_s3_request`] tells an S3 client's request from the other services'
//!   on a shared port: its SigV4 credential scope names the service `s3`
//!   (`Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/s3/aws4_request`,
//!   or a presigned URL's `X-Amz-Credential`).
//!
//! Why written by hand rather than `s3s` + `s3s-fs` (which issue 18 asked to
//! prefer; evaluated on this machine, December 2026):
//! - s3s 0.15 and later need Rust 1.96; the workspace is on 1.95, so 0.14.1 is
//!   the newest that builds.
//! - s3s verifies SigV4 against a secret key it must be given: a user whose
//!   AWS CLI has their own credentials gets `SignatureDoesNotMatch`, while
//!   every other local service accepts any credentials. Without an auth
//!   provider every signed request is `NotImplemented`.
//! - s3s-fs ("an experimental S3 server based on file system") keeps each key
//!   as a file path, so `dir` and `dir/a.txt` cannot both exist (a `PutObject`
//!   of `dir` after `dir/a.txt` failed with `InternalError` under the AWS
//!   CLI), and its errors carry no message (the CLI prints "Unknown").
//! - It adds 28 crates to `hitl`'s dependency tree, h2 among them (which
//!   docs/build-profile.md took out): 61 s of compile units in a cold dev
//!   build, s3s alone 23 s on the critical path of `cargo run -p hitl -- local`.
//!
//! This crate adds no crate to that tree: its dependencies (xmlparser,
//! percent-encoding, http-body-util, futures-util, md-5, sha2, ...) are
//! already there.

mod api;
mod chunked;
mod error;
mod list;
mod store;
mod xml;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};

pub use error::{OpenError, S3Error};
pub use store::ObjectMeta;

/// Local S3 over one directory.
#[derive(Debug, Clone)]
pub struct S3Service {
    store: Arc<store::Store>,
}

impl S3Service {
    /// Opens (creating) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, OpenError> {
        Ok(Self {
            store: Arc::new(store::Store::open(dir)?),
        })
    }

    /// Serves one S3 request (any method and path).
    pub async fn handle(&self, request: Request) -> Response {
        api::handle(self, request).await
    }

    /// Creates `bucket` unless it exists (a template's `AWS::S3::Bucket` at
    /// start-up): `Ok(true)` when created. Its name must be valid.
    pub fn ensure_bucket(&self, bucket: &str, region: &str) -> Result<bool, S3Error> {
        if !api::valid_bucket_name(bucket) {
            return Err(S3Error::InvalidBucketName {
                bucket: bucket.to_owned(),
            });
        }
        Ok(self.store.create_bucket(bucket, region)?.is_ok())
    }

    /// `GetObject`, in process: the object's metadata and bytes (for a
    /// caller in local mode's process, such as an engine integration, that
    /// needs no HTTP round trip).
    pub fn get_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, Vec<u8>), S3Error> {
        use std::io::Read as _;
        let (meta, mut file) = self.store.open_object(bucket, key)?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| S3Error::io("reading the object", e))?;
        Ok((meta, bytes))
    }

    /// `PutObject`, in process, with an optional `Content-Type`: the same
    /// object (ETag, metadata, files) an HTTP `PutObject` stores.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, S3Error> {
        use sha2::Digest as _;
        if key.is_empty() || key.len() > store::MAX_KEY_BYTES {
            return Err(S3Error::KeyTooLong);
        }
        self.store.bucket_region(bucket)?;
        let path = self.store.temp_path();
        std::fs::write(&path, bytes).map_err(|e| S3Error::io("writing the object", e))?;
        let md5: [u8; 16] = md5::Md5::digest(bytes).into();
        let mut new = store::NewObject::default();
        if let Some(content_type) = content_type {
            new.headers
                .insert("content-type".to_owned(), content_type.to_owned());
        }
        let received = store::Received {
            path,
            size: bytes.len() as u64,
            md5,
        };
        received.give_to(|received| {
            self.store
                .put_object(bucket, key, received, store::hex(&md5), new)
        })
    }

    /// Every object whose key starts with `prefix`, in key order (what
    /// paging through `ListObjectsV2` without a delimiter gives).
    pub fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectMeta>, S3Error> {
        let mut objects = Vec::new();
        let mut query = list::Query {
            prefix: prefix.to_owned(),
            delimiter: None,
            max_keys: 1000,
            resume: None,
        };
        loop {
            let page = self
                .store
                .read_objects(bucket, |objects| list::page(objects, &query))?;
            objects.extend(page.entries.into_iter().filter_map(|entry| match entry {
                list::Entry::Object(meta) => Some(meta),
                list::Entry::CommonPrefix(_) => None,
            }));
            match page.next {
                Some(next) => query.resume = Some(next),
                None => return Ok(objects),
            }
        }
    }

    /// The bucket names, in order.
    pub fn bucket_names(&self) -> Vec<String> {
        self.store
            .list_buckets()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }
}

/// A router serving S3 on every path (for a server of its own).
pub fn router(service: S3Service) -> Router {
    Router::new()
        .fallback(
            |State(service): State<S3Service>, request: Request| async move {
                service.handle(request).await
            },
        )
        .with_state(service)
}

/// The region and service of a SigV4 request's credential scope, from the
/// `Authorization` header or a presigned URL's `X-Amz-Credential`.
pub fn signing_scope(headers: &HeaderMap, uri: &Uri) -> Option<(String, String)> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| {
            let credential = auth.split_once("Credential=")?.1;
            Some(credential.split([',', ' ']).next()?.to_owned())
        });
    let credential = from_header.or_else(|| {
        form_urlencoded::parse(uri.query()?.as_bytes())
            .find(|(k, _)| k == "X-Amz-Credential")
            .map(|(_, v)| v.into_owned())
    })?;
    // AKID/DATE/REGION/SERVICE/aws4_request (SigV4a has no REGION).
    let parts: Vec<&str> = credential.split('/').collect();
    let n = parts.len();
    if n < 4 || parts[n - 1] != "aws4_request" {
        return None;
    }
    let region = if n >= 5 { parts[n - 3] } else { "" };
    Some((region.to_owned(), parts[n - 2].to_owned()))
}

/// Whether the request comes from an S3 client: its credential scope names `s3`.
pub fn is_s3_request(headers: &HeaderMap, uri: &Uri) -> bool {
    signing_scope(headers, uri).is_some_and(|(_, service)| service == "s3")
}

/// S3's `ServiceUnavailable` (503) with `message`, for a server that is not
/// ready yet; no body for HEAD.
pub fn unavailable(message: &str, head: bool) -> Response {
    if head {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable</Code>{}{}</Error>",
        xml::element("Message", message),
        xml::element("RequestId", &uuid::Uuid::new_v4().simple().to_string()),
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_process_calls_store_what_http_reads_and_list_every_page() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s3 = S3Service::open(dir.path()).expect("open");
        assert!(matches!(
            s3.put_object("nope", "k", b"x", None),
            Err(S3Error::NoSuchBucket { .. })
        ));
        assert_eq!(s3.ensure_bucket("results", "us-east-1"), Ok(true));
        assert_eq!(s3.ensure_bucket("results", "us-east-1"), Ok(false));
        assert!(s3.ensure_bucket("Bad_Name", "us-east-1").is_err());
        for i in 0..1001 {
            s3.put_object("results", &format!("run/{i:05}.json"), b"{}", None)
                .expect("put");
        }
        let meta = s3
            .put_object(
                "results",
                "manifest.json",
                b"{\"a\":1}",
                Some("application/json"),
            )
            .expect("put");
        // The ETag is the MD5 of the bytes, as over HTTP.
        assert_eq!(meta.etag, "bb6cb5c68df4652941caf652a366f2d8");
        let (read, bytes) = s3.get_object("results", "manifest.json").expect("get");
        assert_eq!(bytes, b"{\"a\":1}");
        assert_eq!(
            read.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        let listed = s3.list_objects("results", "run/").expect("list");
        assert_eq!(listed.len(), 1001);
        assert_eq!(listed[0].key, "run/00000.json");
        assert_eq!(listed[1000].key, "run/01000.json");
        assert!(matches!(
            s3.get_object("results", "missing"),
            Err(S3Error::NoSuchKey { .. })
        ));
    }

    #[test]
    fn the_credential_scope_names_the_service_from_either_place() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/b/k".parse().expect("uri");
        assert!(!is_s3_request(&headers, &uri));
        headers.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKID/20261208/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=abc"
                .parse()
                .expect("header"),
        );
        assert_eq!(
            signing_scope(&headers, &uri),
            Some(("eu-west-1".to_owned(), "s3".to_owned()))
        );
        assert!(is_s3_request(&headers, &uri));
        headers.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKID/20261208/us-east-1/sns/aws4_request,SignedHeaders=host,Signature=abc"
                .parse()
                .expect("header"),
        );
        assert!(!is_s3_request(&headers, &uri));

        let presigned: Uri = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261208%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc"
            .parse()
            .expect("uri");
        assert!(is_s3_request(&HeaderMap::new(), &presigned));
        let other: Uri = "/review?X-Amz-Credential=nonsense".parse().expect("uri");
        assert!(!is_s3_request(&HeaderMap::new(), &other));
    }
}
