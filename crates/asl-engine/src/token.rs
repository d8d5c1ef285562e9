//! The shape of task tokens.
//!
//! A token is the execution's `ExecInfo::token_prefix` followed by the task id, written
//! as the standard base64 of its 8 big-endian bytes (12 characters, the last one `=`).
//! The driver picks the prefix; when the prefix is itself the base64 of a multiple of
//! 3 bytes, the whole token is one valid base64 string, as AWS's tokens are (long,
//! opaque, with `+`, `/` and `=` in them), so code that carries tokens in URLs, shells
//! and emails meets the same characters locally as on AWS.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Length of the encoded task id at the end of every token.
const TASK_ID_LEN: usize = 12;

/// The token of task `task_id` in the execution whose tokens start with `prefix`.
pub fn task_token(prefix: &str, task_id: u64) -> String {
    let mut token = String::with_capacity(prefix.len() + TASK_ID_LEN);
    token.push_str(prefix);
    STANDARD.encode_string(task_id.to_be_bytes(), &mut token);
    token
}

/// Splits a token made by [`task_token`] into its prefix and task id; `None` when the
/// token does not end in an encoded task id.
pub fn split_task_token(token: &str) -> Option<(&str, u64)> {
    let cut = token.len().checked_sub(TASK_ID_LEN)?;
    if !token.is_char_boundary(cut) {
        return None;
    }
    let (prefix, tail) = token.split_at(cut);
    let bytes: [u8; 8] = STANDARD.decode(tail).ok()?.try_into().ok()?;
    Some((prefix, u64::from_be_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_splits_back_into_its_prefix_and_task_id() {
        for id in [0, 1, 255, 1 << 40, u64::MAX] {
            let token = task_token("AQAA++//", id);
            assert_eq!(token.len(), 8 + TASK_ID_LEN);
            assert!(token.ends_with('='), "{token}");
            assert_eq!(split_task_token(&token), Some(("AQAA++//", id)));
        }
    }

    #[test]
    fn an_aligned_prefix_makes_the_whole_token_one_base64_string() {
        let prefix = STANDARD.encode([7u8; 30]);
        let token = task_token(&prefix, 42);
        let bytes = STANDARD.decode(&token).expect("one base64 string");
        assert_eq!(bytes.len(), 38);
        assert_eq!(bytes[30..], 42u64.to_be_bytes());
    }

    #[test]
    fn damaged_tokens_do_not_split() {
        assert_eq!(split_task_token(""), None);
        assert_eq!(split_task_token("short"), None);
        assert_eq!(split_task_token("prefix-AAAAAAAAAA!="), None);
        // Cutting inside a multi-byte character must not panic.
        assert_eq!(split_task_token("ééééééééééé"), None);
        let token = task_token("p", 9);
        assert_eq!(split_task_token(&token[..token.len() - 1]), None);
    }
}
