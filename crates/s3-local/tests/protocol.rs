//! What SDKs other than the AWS CLI send, through [`S3Service::handle`]:
//! `aws-chunked` bodies (signed chunks, and unsigned with a checksum
//! trailer, as the Rust and Java SDKs stream them), `Content-MD5`, and the
//! XML shapes of listings and errors.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use s3_local::S3Service;

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20261208/us-east-1/s3/aws4_request, \
                    SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0";

async fn call(
    s3: &S3Service,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", AUTH);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body.into()).expect("a request");
    let response = s3.handle(request).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("a body");
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn aws_chunked_bodies_are_stored_decoded_with_the_etag_of_the_payload() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s3 = S3Service::open(dir.path()).expect("open");
    let (status, _, _) = call(&s3, Method::PUT, "/bkt", &[], Body::empty()).await;
    assert_eq!(status, StatusCode::OK);

    // Unsigned, with a CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
    let payload = b"hello, chunked world";
    let raw = format!(
        "a\r\n{}\r\na\r\n{}\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        std::str::from_utf8(&payload[..10]).expect("utf8"),
        std::str::from_utf8(&payload[10..]).expect("utf8"),
    );
    let (status, headers, body) = call(
        &s3,
        Method::PUT,
        "/bkt/chunked.txt",
        &[
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "20"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
            ("content-type", "text/plain"),
        ],
        raw,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"], format!("\"{}\"", md5_hex(payload)));

    let (status, headers, body) =
        call(&s3, Method::GET, "/bkt/chunked.txt", &[], Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_bytes(), payload);
    assert_eq!(headers["content-type"], "text/plain");
    // aws-chunked was the upload's framing, not the object's encoding.
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");

    // Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).
    let sig = "0".repeat(64);
    let raw = format!("5;chunk-signature={sig}\r\nabcde\r\n0;chunk-signature={sig}\r\n\r\n");
    let (status, _, body) = call(
        &s3,
        Method::PUT,
        "/bkt/signed.txt",
        &[
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("x-amz-decoded-content-length", "5"),
        ],
        raw,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, body) = call(&s3, Method::GET, "/bkt/signed.txt", &[], Body::empty()).await;
    assert_eq!(body, "abcde");

    // A decoded length that does not match is IncompleteBody, and nothing is stored.
    let (status, _, body) = call(
        &s3,
        Method::PUT,
        "/bkt/short.txt",
        &[
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("x-amz-decoded-content-length", "99"),
        ],
        "3\r\nabc\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("<Code>IncompleteBody</Code>"), "{body}");
    let (status, _, _) = call(&s3, Method::HEAD, "/bkt/short.txt", &[], Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nothing left behind in the temporary directory either.
    let leftovers = std::fs::read_dir(dir.path().join("tmp"))
        .expect("tmp")
        .count();
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn content_md5_is_checked_and_errors_are_s3_error_documents() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s3 = S3Service::open(dir.path()).expect("open");
    call(&s3, Method::PUT, "/bkt", &[], Body::empty()).await;

    // The base64 of MD5("data"), sent with other bytes.
    let (status, _, body) = call(
        &s3,
        Method::PUT,
        "/bkt/k",
        &[("content-md5", "jXd/OF09/siBXSD3SWAm3A==")],
        "not data",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");
    let (status, _, body) = call(
        &s3,
        Method::PUT,
        "/bkt/k",
        &[("content-md5", "not base64")],
        "data",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("<Code>InvalidDigest</Code>"), "{body}");

    let (status, headers, body) =
        call(&s3, Method::GET, "/bkt/missing%20key", &[], Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/xml");
    assert!(headers.contains_key("x-amz-request-id"));
    assert!(
        body.starts_with("<?xml")
            && body.contains(
                "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
            )
            && body.contains("<Key>missing key</Key>")
            && body.contains("<Resource>/bkt/missing key</Resource>"),
        "{body}"
    );
    let (status, _, body) = call(&s3, Method::GET, "/nope?list-type=2", &[], Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.contains("<Code>NoSuchBucket</Code>")
            && body.contains("<BucketName>nope</BucketName>"),
        "{body}"
    );
    // HEAD errors carry no body, as on S3.
    let (status, _, body) = call(&s3, Method::HEAD, "/bkt/missing", &[], Body::empty()).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, ""));
    // A sub-resource local S3 does not serve is NotImplemented, not a wrong answer.
    let (status, _, body) = call(&s3, Method::GET, "/bkt?tagging", &[], Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(body.contains("<Code>NotImplemented</Code>"), "{body}");
}

#[tokio::test]
async fn list_objects_v2_encodes_keys_for_url_encoding_and_pages_with_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s3 = S3Service::open(dir.path()).expect("open");
    call(&s3, Method::PUT, "/bkt", &[], Body::empty()).await;
    for key in ["a%20b%2Bc", "dir/1", "dir/2", "z"] {
        let (status, _, body) = call(&s3, Method::PUT, &format!("/bkt/{key}"), &[], "x").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, _, body) = call(
        &s3,
        Method::GET,
        "/bkt?list-type=2&encoding-type=url&delimiter=%2F&max-keys=2",
        &[],
        Body::empty(),
    )
    .await;
    assert!(
        body.contains("<Key>a%20b%2Bc</Key>")
            && body.contains("<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>")
            && body.contains("<KeyCount>2</KeyCount>")
            && body.contains("<IsTruncated>true</IsTruncated>")
            && body.contains("<EncodingType>url</EncodingType>"),
        "{body}"
    );
    let token = body
        .split_once("<NextContinuationToken>")
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(token, _)| token.to_owned())
        .expect("a token");
    let (_, _, body) = call(
        &s3,
        Method::GET,
        &format!("/bkt?list-type=2&delimiter=%2F&max-keys=2&continuation-token={token}"),
        &[],
        Body::empty(),
    )
    .await;
    assert!(
        body.contains("<Key>z</Key>")
            && body.contains("<KeyCount>1</KeyCount>")
            && body.contains("<IsTruncated>false</IsTruncated>")
            && !body.contains("dir/"),
        "{body}"
    );

    // ListObjects (v1) pages with NextMarker, past a common prefix too.
    let mut marker = String::new();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let (_, _, body) = call(
            &s3,
            Method::GET,
            &format!("/bkt?delimiter=%2F&max-keys=1&marker={marker}"),
            &[],
            Body::empty(),
        )
        .await;
        for (open, close) in [("<Key>", "</Key>"), ("<Prefix>", "</Prefix>")] {
            for piece in body.split(open).skip(1) {
                if let Some((value, _)) = piece.split_once(close)
                    && !value.is_empty()
                {
                    seen.push(value.to_owned());
                }
            }
        }
        match body
            .split_once("<NextMarker>")
            .and_then(|(_, rest)| rest.split_once('<'))
        {
            Some((next, _)) => {
                marker = next
                    .replace('/', "%2F")
                    .replace(' ', "%20")
                    .replace('+', "%2B")
            }
            None => break,
        }
    }
    assert_eq!(seen, ["a b+c", "dir/", "z"]);
}

#[tokio::test]
async fn writes_from_web_pages_and_unchecksummed_multi_deletes_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s3 = S3Service::open(dir.path()).expect("open");
    let (status, _, _) = call(&s3, Method::PUT, "/bkt", &[], Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&s3, Method::PUT, "/bkt/k", &[], "v").await;
    assert_eq!(status, StatusCode::OK);
    let delete = "<Delete><Object><Key>k</Key></Object></Delete>";

    // A page's cross-origin "simple" POST carries Origin: refused, nothing deleted.
    let (status, _, body) = call(
        &s3,
        Method::POST,
        "/bkt?delete",
        &[("origin", "https://example.com"), ("content-md5", "x")],
        delete,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    // DeleteObjects needs Content-MD5 or x-amz-checksum-* (as on S3).
    let (status, _, body) = call(&s3, Method::POST, "/bkt?delete", &[], delete).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("<Code>InvalidRequest</Code>"), "{body}");
    let (status, _, body) = call(&s3, Method::GET, "/bkt/k", &[], Body::empty()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "v"));

    // With a checksum header, as the SDKs send it, the delete goes through.
    let (status, _, body) = call(
        &s3,
        Method::POST,
        "/bkt?delete",
        &[("x-amz-checksum-crc32", "AAAAAA==")],
        delete,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<Deleted><Key>k</Key></Deleted>"), "{body}");
}
