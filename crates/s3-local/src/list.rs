//! One page of `ListObjectsV2` / `ListObjects` over a bucket's sorted keys.
//!
//! Relied on: Amazon S3 API Reference, `ListObjectsV2`: keys are returned in
//! UTF-8 binary order; with a `Delimiter`, keys that hold it after the
//! `Prefix` are rolled up into one `CommonPrefixes` entry (the prefix up to
//! and including the first delimiter), which "count as a single return when
//! calculating the number of returns" against `MaxKeys`; `StartAfter` starts
//! after that key; `ContinuationToken` is opaque and continues where the last
//! page stopped. Rust's `String` order is byte order, that is UTF-8 binary order.

use std::collections::BTreeMap;
use std::ops::Bound;

use base64::Engine as _;

use crate::error::S3Error;
use crate::store::ObjectMeta;

/// Where a page starts: after a key, or after every key under a common prefix
/// that the last page ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
    After(String),
    PastPrefix(String),
}

impl Resume {
    /// The opaque `NextContinuationToken`.
    pub(crate) fn token(&self) -> String {
        let raw = match self {
            Self::After(key) => format!("K{key}"),
            Self::PastPrefix(prefix) => format!("P{prefix}"),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    /// Reads a token this module made.
    pub(crate) fn from_token(token: &str) -> Result<Self, S3Error> {
        let invalid =
            || S3Error::InvalidArgument("The continuation token provided is incorrect".into());
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        match raw.split_at_checked(1) {
            Some(("K", key)) => Ok(Self::After(key.to_owned())),
            Some(("P", prefix)) => Ok(Self::PastPrefix(prefix.to_owned())),
            _ => Err(invalid()),
        }
    }

    fn key(&self) -> &str {
        match self {
            Self::After(key) | Self::PastPrefix(key) => key,
        }
    }
}

/// What a listing asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub(crate) prefix: String,
    pub(crate) delimiter: Option<String>,
    pub(crate) max_keys: usize,
    pub(crate) resume: Option<Resume>,
}

/// One entry of a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    Object(ObjectMeta),
    CommonPrefix(String),
}

/// A page: its entries in order, and where the next one starts if truncated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page {
    pub(crate) entries: Vec<Entry>,
    pub(crate) next: Option<Resume>,
}

/// Lists one page of `objects`.
pub(crate) fn page(objects: &BTreeMap<String, ObjectMeta>, query: &Query) -> Page {
    let mut entries = Vec::new();
    if query.max_keys == 0 {
        return Page {
            entries,
            next: None,
        };
    }
    // Start at the later of the prefix and the resume point.
    let start = match &query.resume {
        Some(resume) if resume.key() >= query.prefix.as_str() => {
            Bound::Excluded(resume.key().to_owned())
        }
        _ => Bound::Included(query.prefix.clone()),
    };
    let skip_under = match &query.resume {
        Some(Resume::PastPrefix(prefix)) => Some(prefix.as_str()),
        _ => None,
    };
    let mut last: Option<Resume> = None;
    for (key, meta) in objects.range::<String, _>((start, Bound::Unbounded)) {
        if !key.starts_with(&query.prefix) {
            break;
        }
        if skip_under.is_some_and(|p| key.starts_with(p)) {
            continue;
        }
        let rolled = query
            .delimiter
            .as_deref()
            .filter(|d| !d.is_empty())
            .and_then(|d| {
                key[query.prefix.len()..]
                    .find(d)
                    .map(|at| key[..query.prefix.len() + at + d.len()].to_owned())
            });
        if let (Some(prefix), Some(Resume::PastPrefix(previous))) = (&rolled, &last)
            && prefix == previous
        {
            continue;
        }
        if entries.len() == query.max_keys {
            return Page {
                entries,
                next: last,
            };
        }
        match rolled {
            Some(prefix) => {
                last = Some(Resume::PastPrefix(prefix.clone()));
                entries.push(Entry::CommonPrefix(prefix));
            }
            None => {
                last = Some(Resume::After(key.clone()));
                entries.push(Entry::Object(meta.clone()));
            }
        }
    }
    Page {
        entries,
        next: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(keys: &[&str]) -> BTreeMap<String, ObjectMeta> {
        keys.iter()
            .map(|k| ((*k).to_owned(), ObjectMeta::for_test(k)))
            .collect()
    }

    fn names(page: &Page) -> Vec<String> {
        page.entries
            .iter()
            .map(|e| match e {
                Entry::Object(meta) => meta.key.clone(),
                Entry::CommonPrefix(prefix) => format!("[{prefix}]"),
            })
            .collect()
    }

    fn query(prefix: &str, delimiter: Option<&str>, max_keys: usize) -> Query {
        Query {
            prefix: prefix.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            max_keys,
            resume: None,
        }
    }

    /// Pages through everything, giving each page's names.
    fn all_pages(objects: &BTreeMap<String, ObjectMeta>, mut q: Query) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        loop {
            let page = page(objects, &q);
            pages.push(names(&page));
            match page.next {
                // Through the token, as a client sends it back.
                Some(next) => q.resume = Some(Resume::from_token(&next.token()).expect("token")),
                None => return pages,
            }
        }
    }

    #[test]
    fn a_delimiter_rolls_keys_up_and_each_prefix_counts_once() {
        let objects = bucket(&["a", "dir/x", "dir/y", "dir/z/1", "e", "f/1"]);
        let page = page(&objects, &query("", Some("/"), 1000));
        assert_eq!(names(&page), ["a", "[dir/]", "e", "[f/]"]);
        assert_eq!(page.next, None);
        let page = super::page(&objects, &query("dir/", Some("/"), 1000));
        assert_eq!(names(&page), ["dir/x", "dir/y", "[dir/z/]"]);
        let page = super::page(&objects, &query("dir/", None, 1000));
        assert_eq!(names(&page), ["dir/x", "dir/y", "dir/z/1"]);
    }

    #[test]
    fn pages_continue_past_a_common_prefix_without_repeating_it() {
        let objects = bucket(&["a", "dir/x", "dir/y", "dir/z/1", "e", "f/1"]);
        assert_eq!(
            all_pages(&objects, query("", Some("/"), 2)),
            [vec!["a", "[dir/]"], vec!["e", "[f/]"]]
        );
        assert_eq!(
            all_pages(&objects, query("", None, 4)),
            [vec!["a", "dir/x", "dir/y", "dir/z/1"], vec!["e", "f/1"]]
        );
        // A page that ends exactly at the last key is not truncated.
        assert_eq!(all_pages(&objects, query("", None, 6)).len(), 1);
    }

    #[test]
    fn start_after_and_max_keys_zero() {
        let objects = bucket(&["a", "b", "c"]);
        let mut q = query("", None, 1000);
        q.resume = Some(Resume::After("a".into()));
        assert_eq!(names(&page(&objects, &q)), ["b", "c"]);
        // A StartAfter before the prefix starts at the prefix.
        let mut q = query("b", None, 1000);
        q.resume = Some(Resume::After("a".into()));
        assert_eq!(names(&page(&objects, &q)), ["b"]);
        assert_eq!(page(&objects, &query("", None, 0)).entries, []);
    }

    #[test]
    fn keys_sort_in_utf8_binary_order() {
        let objects = bucket(&["é", "z", "Z", "a"]);
        assert_eq!(
            names(&page(&objects, &query("", None, 10))),
            ["Z", "a", "z", "é"]
        );
    }

    #[test]
    fn a_token_we_did_not_make_is_an_invalid_argument() {
        assert!(matches!(
            Resume::from_token("not a token!"),
            Err(S3Error::InvalidArgument(_))
        ));
        let token = Resume::PastPrefix("p/".into()).token();
        assert_eq!(
            Resume::from_token(&token),
            Ok(Resume::PastPrefix("p/".into()))
        );
    }
}
