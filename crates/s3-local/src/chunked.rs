//! The `aws-chunked` content encoding of streaming uploads.
//!
//! An SDK that streams a body (SigV4 `x-amz-content-sha256:
//! STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `STREAMING-UNSIGNED-PAYLOAD-TRAILER`
//! and the other `STREAMING-*` values, with `Content-Encoding: aws-chunked`)
//! frames it as `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, repeated,
//! then a zero-size chunk, then trailing headers (`x-amz-checksum-crc32:...`,
//! `x-amz-trailer-signature:...`), each ending `\r\n`, then `\r\n`. Relied on:
//! Amazon S3 API Reference, "Signature calculations for the Authorization
//! header: Transferring payload in multiple chunks" and "... Including
//! trailing headers". HTTP's own `Transfer-Encoding: chunked` is removed by
//! the server before we see the body; this framing is not.
//!
//! Local mode does not check signatures (no local service does), so chunk
//! signatures and trailers are read and dropped; the object's ETag is
//! computed from the decoded bytes.

use std::io::{BufRead, Write};

/// Whether the request's body is `aws-chunked`.
pub(crate) fn is_aws_chunked(headers: &axum::http::HeaderMap) -> bool {
    let sha = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    sha.starts_with("STREAMING-")
        || headers
            .get(axum::http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim() == "aws-chunked"))
}

/// Decodes `input` into `output`; gives the number of payload bytes.
/// `Err(None)` when the framing is broken, `Err(Some(io))` on an I/O error.
pub(crate) fn decode(
    mut input: impl BufRead,
    mut output: impl Write,
) -> Result<u64, Option<std::io::Error>> {
    let mut total = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        read_line(&mut input, &mut line)?;
        let header = std::str::from_utf8(&line).map_err(|_| None)?;
        let size_text = header.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size_text, 16).map_err(|_| None)?;
        if size == 0 {
            // Trailing headers, up to the empty line (or the end: some clients
            // stop right after the last chunk).
            loop {
                line.clear();
                if read_line(&mut input, &mut line).is_err() || line.is_empty() {
                    return Ok(total);
                }
            }
        }
        let copied =
            std::io::copy(&mut std::io::Read::take(&mut input, size), &mut output).map_err(Some)?;
        if copied != size {
            return Err(None);
        }
        total += size;
        line.clear();
        read_line(&mut input, &mut line)?;
        if !line.is_empty() {
            return Err(None);
        }
    }
}

/// The longest chunk-header or trailer line read: a chunk size and its
/// signature, or a checksum trailer, are well under it.
const MAX_LINE: u64 = 8192;

/// Reads one `\r\n`-terminated line into `line`, without its terminator; a
/// longer line than [`MAX_LINE`] is a malformed body, not a reason to hold it all.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Result<(), Option<std::io::Error>> {
    let read = std::io::Read::take(&mut *input, MAX_LINE)
        .read_until(b'\n', line)
        .map_err(Some)?;
    if read == 0 || !line.ends_with(b"\r\n") {
        return Err(None);
    }
    line.truncate(line.len() - 2);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(raw: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        decode(raw, &mut out).ok()?;
        Some(out)
    }

    #[test]
    fn a_header_line_without_an_end_is_refused_without_reading_it_all() {
        let raw = vec![b'1'; 1 << 20];
        assert_eq!(decoded(&raw), None);
    }

    #[test]
    fn an_unsigned_body_with_a_crc32_trailer_decodes_to_its_payload() {
        // What botocore sends for STREAMING-UNSIGNED-PAYLOAD-TRAILER.
        let raw = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        assert_eq!(decoded(raw).as_deref(), Some(&b"hello world"[..]));
    }

    #[test]
    fn signed_chunks_decode_and_their_signatures_are_dropped() {
        let sig = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
        let raw = format!("4;chunk-signature={sig}\r\nabcd\r\n0;chunk-signature={sig}\r\n\r\n");
        assert_eq!(decoded(raw.as_bytes()).as_deref(), Some(&b"abcd"[..]));
        // Ending right after the last chunk is accepted too.
        assert_eq!(decoded(b"2\r\nok\r\n0\r\n").as_deref(), Some(&b"ok"[..]));
    }

    #[test]
    fn broken_framing_is_an_error_not_data() {
        assert_eq!(decoded(b"5\r\nhel"), None, "short chunk");
        assert_eq!(decoded(b"zz\r\nhello\r\n0\r\n\r\n"), None, "bad size");
        assert_eq!(
            decoded(b"2\r\nokX\r\n0\r\n\r\n"),
            None,
            "no CRLF after data"
        );
        assert_eq!(decoded(b""), None, "empty");
    }

    #[test]
    fn the_encoding_is_recognised_by_either_header() {
        let mut headers = axum::http::HeaderMap::new();
        assert!(!is_aws_chunked(&headers));
        headers.insert(
            "x-amz-content-sha256",
            axum::http::HeaderValue::from_static("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        );
        assert!(is_aws_chunked(&headers));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "content-encoding",
            axum::http::HeaderValue::from_static("gzip, aws-chunked"),
        );
        assert!(is_aws_chunked(&headers));
    }
}
