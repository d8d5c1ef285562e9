//! The XML of S3's REST protocol: escaping what we write, and reading the
//! three request documents clients send (`CreateBucketConfiguration`,
//! `Delete`, `CompleteMultipartUpload`) with `xmlparser`, a small pull parser
//! already in local mode's dependency tree (the AWS SDK's XML reader uses it).

/// The namespace of every S3 response document.
pub(crate) const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Escapes text for an element's content. Not sns-local's `xml_escape`, on
/// purpose: an S3 key keeps its control characters (as character references,
/// as S3 writes them), where SNS replaces the ones XML cannot carry.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // S3 keys may hold control characters; XML 1.0 needs them as references.
            c if (c as u32) < 0x20 && !matches!(c, '\t') => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// `<Name>text</Name>`, escaped.
pub(crate) fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// A parsed element: its local name, its text, and its child elements.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// The deepest request document [`parse`] accepts.
const MAX_DEPTH: usize = 16;

/// Parses a document into its root element (namespaces dropped, entities
/// resolved). `None` when it is not well-formed or nested deeper than
/// [`MAX_DEPTH`].
pub(crate) fn parse(text: &str) -> Option<Element> {
    use xmlparser::{ElementEnd, Token};
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    for token in xmlparser::Tokenizer::from(text) {
        match token.ok()? {
            Token::ElementStart { local, .. } => {
                // S3's request documents are three levels deep; a deeper one is
                // refused, so no tree is deep enough for its recursive drop to
                // overflow a thread's stack.
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push(Element {
                    name: local.as_str().to_owned(),
                    ..Element::default()
                });
            }
            Token::ElementEnd { end, .. } => match end {
                ElementEnd::Open => {}
                ElementEnd::Close(_, local) => {
                    let done = stack.pop()?;
                    if done.name != local.as_str() {
                        return None;
                    }
                    attach(&mut stack, &mut root, done)?;
                }
                ElementEnd::Empty => {
                    let done = stack.pop()?;
                    attach(&mut stack, &mut root, done)?;
                }
            },
            Token::Text { text } => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&unescape(text.as_str())?);
                }
            }
            Token::Cdata { text, .. } => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(text.as_str());
                }
            }
            _ => {}
        }
    }
    if stack.is_empty() { root } else { None }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, done: Element) -> Option<()> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(done),
        None if root.is_none() => *root = Some(done),
        None => return None,
    }
    Some(())
}

/// Resolves the five predefined entities and character references.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';')? + at;
        let entity = &rest[at + 1..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    entity.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_documents_are_refused_not_dropped_recursively() {
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert!(parse(&deep).is_none());
        let ok = format!("{}{}", "<a>".repeat(16), "</a>".repeat(16));
        assert!(parse(&ok).is_some());
    }

    #[test]
    fn a_delete_document_reads_back_with_entities_and_namespaces() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b&#xD;&lt;c&gt;</Key></Object><Object><Key>d</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>"#;
        let root = parse(doc).expect("well-formed");
        assert_eq!(root.name, "Delete");
        let keys: Vec<&str> = root
            .all("Object")
            .filter_map(|o| o.text_of("Key"))
            .collect();
        assert_eq!(keys, ["a&b\r<c>", "d"]);
        assert_eq!(root.text_of("Quiet"), Some("true"));
    }

    #[test]
    fn broken_documents_are_refused() {
        assert_eq!(parse("<a><b></a>"), None);
        assert_eq!(parse("<a>&bogus;</a>"), None);
        assert_eq!(parse("<a/><b/>"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn escaping_round_trips_through_the_parser() {
        let key = "x<&>\"'\u{1}y/é";
        let doc = format!("<K>{}</K>", escape(key));
        assert_eq!(parse(&doc).map(|e| e.text), Some(key.to_owned()));
    }
}
