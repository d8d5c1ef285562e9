//! `DefinitionSubstitutions`: `${Key}` in a state machine definition
//! replaced by the key's value, in the text, before it is parsed.
//!
//! A `${Name}` with no substitution is left as it is: CloudFormation only
//! replaces the keys it is given (AWS::StepFunctions::StateMachine,
//! `DefinitionSubstitutions`: "a map (string to string) that specifies the
//! mappings for placeholder variables in the state machine definition").
//! The caller reports each one as a notice, because in practice it is a typo.

use std::collections::BTreeMap;

/// Replaces every `${Key}` whose key is in `subs`, in one pass (a value is
/// never scanned again). Returns the text and the placeholders left, once each.
pub(crate) fn substitute(text: &str, subs: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut left: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let key = &after[..end];
        if let Some(value) = subs.get(key) {
            out.push_str(value);
        } else {
            let placeholder = format!("${{{key}}}");
            if is_name(key) && !left.contains(&placeholder) {
                left.push(placeholder.clone());
            }
            out.push_str(&placeholder);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, left)
}

/// Looks like a substitution key (letters, digits, `_`, `-`, `.`, `:`).
fn is_name(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn replaces_known_keys_and_leaves_the_rest() {
        let (out, left) = substitute(
            r#"{"a": "${A}", "b": "x${B}y${A}", "c": "${Missing}", "d": "${Missing}", "e": "$notvar ${ not a name } ${"#,
            &subs(&[("A", "1"), ("B", "${A}")]),
        );
        assert_eq!(
            out,
            r#"{"a": "1", "b": "x${A}y1", "c": "${Missing}", "d": "${Missing}", "e": "$notvar ${ not a name } ${"#
        );
        assert_eq!(left, vec!["${Missing}".to_owned()]);
    }
}
