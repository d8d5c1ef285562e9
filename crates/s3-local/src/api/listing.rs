//! `ListObjectsV2` and `ListObjects` (v1) on a bucket: the query
//! parameters (`prefix`, `delimiter`, `max-keys`, `continuation-token`,
//! `start-after`, `marker`, `encoding-type=url`, `fetch-owner`) turned into a
//! `list::Query`, and the page `list` gives back written as
//! `<ListBucketResult>`.

use axum::response::Response;
use percent_encoding::utf8_percent_encode;

use super::{Ctx, URL_KEEP, iso, owner, xml_response};
use crate::error::S3Error;
use crate::list::{self, Entry, Resume};
use crate::store::Store;
use crate::xml::{NAMESPACE, element};

pub(super) fn list_objects(store: &Store, ctx: &Ctx, bucket: &str) -> Result<Response, S3Error> {
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
    let page = store.read_objects(bucket, |objects| list::page(objects, &query))?;
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
