//! The bucket operations: `ListBuckets`, `CreateBucket` (with S3's naming
//! rules and `LocationConstraint`), `HeadBucket`, `DeleteBucket` and
//! `GetBucketLocation`. Listing a bucket's objects is `listing`'s.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};

use super::body::{document, small_body};
use super::{iso, owner, with_headers, xml_response};
use crate::error::S3Error;
use crate::store::Store;
use crate::xml::{self, NAMESPACE, element};

pub(super) fn list_buckets(store: &Store) -> Response {
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

pub(super) async fn create_bucket(
    store: &Store,
    bucket: &str,
    body: Body,
) -> Result<Response, S3Error> {
    if !valid_bucket_name(bucket) {
        return Err(S3Error::InvalidBucketName {
            bucket: bucket.to_owned(),
        });
    }
    let body = small_body(body).await?;
    let mut region = "us-east-1".to_owned();
    if !body.iter().all(u8::is_ascii_whitespace) {
        let doc = document(&body, "CreateBucketConfiguration")?;
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

/// `HeadBucket`: the bucket's region in `x-amz-bucket-region`.
pub(super) fn head_bucket(store: &Store, bucket: &str) -> Result<Response, S3Error> {
    let region = store.bucket_region(bucket)?;
    Ok(with_headers(
        StatusCode::OK,
        &[("x-amz-bucket-region", region)],
        Body::empty(),
    ))
}

pub(super) fn delete_bucket(store: &Store, bucket: &str) -> Result<Response, S3Error> {
    store.delete_bucket(bucket)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) fn bucket_location(store: &Store, bucket: &str) -> Result<Response, S3Error> {
    let region = store.bucket_region(bucket)?;
    // us-east-1 is the empty constraint (GetBucketLocation).
    let region = if region == "us-east-1" { "" } else { &region };
    Ok(xml_response(format!(
        "<LocationConstraint xmlns=\"{NAMESPACE}\">{}</LocationConstraint>",
        xml::escape(region)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
