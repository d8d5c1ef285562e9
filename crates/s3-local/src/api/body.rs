//! Request bodies: an object's or a part's bytes received into a temporary
//! file (decoded from `aws-chunked` if they are, checked against
//! `Content-MD5` and `x-amz-decoded-content-length`), and the small XML
//! documents some operations take, held whole.

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use base64::Engine as _;
use http_body_util::BodyExt as _;
use sha2::Digest as _;
use tokio::io::AsyncWriteExt as _;

use crate::chunked;
use crate::error::S3Error;
use crate::store::{Received, Store};
use crate::xml::{self, Element};

/// A request body small enough to hold (XML documents): at most 1 MiB.
pub(super) async fn small_body(body: Body) -> Result<Bytes, S3Error> {
    axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|_| S3Error::MalformedXml)
}

/// A request's XML document, whose root element must be `root`.
pub(super) fn document(body: &[u8], root: &str) -> Result<Element, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| S3Error::MalformedXml)?;
    let doc = xml::parse(text).ok_or(S3Error::MalformedXml)?;
    if doc.name != root {
        return Err(S3Error::MalformedXml);
    }
    Ok(doc)
}
/// A file write that hashes what it writes.
pub(super) struct Md5Writer {
    pub(super) file: std::fs::File,
    pub(super) md5: md5::Md5,
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
pub(super) async fn receive(
    store: &Store,
    headers: &HeaderMap,
    body: Body,
) -> Result<Received, S3Error> {
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
