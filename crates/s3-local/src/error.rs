//! S3's errors, with S3's codes, status codes and wording.
//!
//! Relied on: Amazon S3 API Reference, "Error responses" (the `<Error>`
//! document with `Code`, `Message`, `Resource`, `RequestId`, and the list of
//! error codes with their HTTP status codes and messages), and
//! `BucketAlreadyOwnedByYou` in the SDKs' error docs.

use axum::http::StatusCode;
use thiserror::Error;

/// An error S3 would return. The `Display` text is S3's message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum S3Error {
    /// 404 `NoSuchBucket`.
    #[error("The specified bucket does not exist")]
    NoSuchBucket { bucket: String },
    /// 404 `NoSuchKey`.
    #[error("The specified key does not exist.")]
    NoSuchKey { key: String },
    /// 404 `NoSuchUpload`.
    #[error(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload { upload_id: String },
    /// 409 `BucketAlreadyOwnedByYou` (outside us-east-1; see `CreateBucket`).
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou { bucket: String },
    /// 409 `BucketNotEmpty`.
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty { bucket: String },
    /// 400 `InvalidBucketName`.
    #[error("The specified bucket is not valid.")]
    InvalidBucketName { bucket: String },
    /// 400 `KeyTooLongError`.
    #[error("Your key is too long")]
    KeyTooLong,
    /// 400 `InvalidArgument`.
    #[error("{0}")]
    InvalidArgument(String),
    /// 400 `InvalidRequest`.
    #[error("{0}")]
    InvalidRequest(String),
    /// 403 `AccessDenied`.
    #[error("{0}")]
    AccessDenied(String),
    /// 400 `MalformedXML`.
    #[error(
        "The XML you provided was not well-formed or did not validate against our published schema"
    )]
    MalformedXml,
    /// 400 `InvalidDigest`: a `Content-MD5` that is not the base64 of 16 bytes.
    #[error("The Content-MD5 you specified was invalid.")]
    InvalidDigest,
    /// 400 `BadDigest`: the body does not match its `Content-MD5`.
    #[error("The Content-MD5 you specified did not match what we received.")]
    BadDigest,
    /// 400 `InvalidPart`.
    #[error(
        "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."
    )]
    InvalidPart,
    /// 400 `InvalidPartOrder`.
    #[error(
        "The list of parts was not in ascending order. Parts list must be specified in order by part number."
    )]
    InvalidPartOrder,
    /// 400 `EntityTooSmall`: a part but the last under 5 MiB.
    #[error("Your proposed upload is smaller than the minimum allowed object size.")]
    EntityTooSmall,
    /// 400 `IncompleteBody`: fewer bytes than `Content-Length` or
    /// `x-amz-decoded-content-length` said, or a broken aws-chunked body.
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header.")]
    IncompleteBody,
    /// 416 `InvalidRange`.
    #[error("The requested range is not satisfiable")]
    InvalidRange { size: u64 },
    /// 412 `PreconditionFailed`.
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    /// 304 Not Modified (`If-None-Match`, `If-Modified-Since`): no body.
    #[error("Not Modified")]
    NotModified,
    /// 405 `MethodNotAllowed`.
    #[error("The specified method is not allowed against this resource.")]
    MethodNotAllowed,
    /// 501 `NotImplemented`: an operation local S3 does not serve.
    #[error("{0} is not served by local mode's S3 (docs/architecture.md lists what is).")]
    NotImplemented(String),
    /// 500 `InternalError`: the state directory failed us.
    #[error("We encountered an internal error. Please try again. ({0})")]
    Internal(String),
}

impl S3Error {
    /// S3's error code, as `<Code>` carries it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchBucket { .. } => "NoSuchBucket",
            Self::NoSuchKey { .. } => "NoSuchKey",
            Self::NoSuchUpload { .. } => "NoSuchUpload",
            Self::BucketAlreadyOwnedByYou { .. } => "BucketAlreadyOwnedByYou",
            Self::BucketNotEmpty { .. } => "BucketNotEmpty",
            Self::InvalidBucketName { .. } => "InvalidBucketName",
            Self::KeyTooLong => "KeyTooLongError",
            Self::InvalidArgument(_) => "InvalidArgument",
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::AccessDenied(_) => "AccessDenied",
            Self::MalformedXml => "MalformedXML",
            Self::InvalidDigest => "InvalidDigest",
            Self::BadDigest => "BadDigest",
            Self::InvalidPart => "InvalidPart",
            Self::InvalidPartOrder => "InvalidPartOrder",
            Self::EntityTooSmall => "EntityTooSmall",
            Self::IncompleteBody => "IncompleteBody",
            Self::InvalidRange { .. } => "InvalidRange",
            Self::PreconditionFailed => "PreconditionFailed",
            Self::NotModified => "NotModified",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::NotImplemented(_) => "NotImplemented",
            Self::Internal(_) => "InternalError",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoSuchBucket { .. } | Self::NoSuchKey { .. } | Self::NoSuchUpload { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::BucketAlreadyOwnedByYou { .. } | Self::BucketNotEmpty { .. } => {
                StatusCode::CONFLICT
            }
            Self::InvalidRange { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::NotModified => StatusCode::NOT_MODIFIED,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::AccessDenied(_) => StatusCode::FORBIDDEN,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The extra elements S3 adds to `<Error>` for this code.
    pub(crate) fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::NoSuchBucket { bucket }
            | Self::BucketAlreadyOwnedByYou { bucket }
            | Self::BucketNotEmpty { bucket }
            | Self::InvalidBucketName { bucket } => vec![("BucketName", bucket.clone())],
            Self::NoSuchKey { key } => vec![("Key", key.clone())],
            Self::NoSuchUpload { upload_id } => vec![("UploadId", upload_id.clone())],
            Self::InvalidRange { size } => vec![("ActualObjectSize", size.to_string())],
            _ => Vec::new(),
        }
    }

    pub(crate) fn io(context: &str, error: impl std::fmt::Display) -> Self {
        Self::Internal(format!("{context}: {error}"))
    }
}

/// Why the store could not open.
#[derive(Debug, Error)]
#[error("{path}: {source}")]
pub struct OpenError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}
