//! Task tokens shaped like AWS's, that this service can check without a token table.
//!
//! AWS's task tokens are long (several hundred characters), opaque, standard base64 with
//! `+`, `/` and `=` in them. Reviewers paste them into shells and emails carry them in
//! URLs, where exactly those characters break naive code; local tokens have the same
//! shape so local mode meets those edge cases too. A token here is the base64 of:
//!
//! ```text
//! 01 00 00 | FB EF FF | seq (8 bytes, BE) 00 | nonce (15 bytes) | tag + filler | task id (8 bytes, BE)
//!   "AQAA"      "++//"
//! ```
//!
//! The nonce is random per execution. Tag and filler are SHA-256 of this database's
//! secret key, `seq` and the nonce, so a token proves itself: a forged or damaged
//! prefix is `InvalidToken` whether its execution is running, finished or gone (before,
//! a forged token for a finished execution read as `TaskTimedOut`), and a valid one leads
//! to its execution by `seq` in one indexed lookup. The service also compares the
//! prefix with the one its execution holds, so a token from before a database restore
//! that reused `seq` numbers cannot answer another execution. The key is created with
//! the database and kept in it, so tokens issued before a restart still work after it.
//! The prefix (everything before the task id) is
//! [`asl_engine::ExecInfo::token_prefix`]; [`asl_engine::token`] appends the task id,
//! which is not signed: a token with another task id of the same execution reads as a
//! task that is over (`TaskTimedOut`), as for any task that is not waiting.
//!
//! Keyed SHA-256 of a fixed-length message is not length-extendable, so it serves as a
//! MAC here; this is a local tool, and the key only has to stop accidents and guesses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Bytes before the task id: a multiple of 3, so prefix and task id are one base64 string.
/// 540 bytes make 720 characters, and 732 with the task id: about as long as AWS's
/// tokens, well under the API's limit (2,048 characters).
const PREFIX_BYTES: usize = 540;
const HEADER: [u8; 6] = [0x01, 0x00, 0x00, 0xFB, 0xEF, 0xFF];
/// Header, seq and its pad byte.
const SEQ_END: usize = HEADER.len() + 9;
/// Per-execution random bytes (15, so the prefix stays aligned to 3 bytes).
pub const NONCE_BYTES: usize = 15;
const NONCE_END: usize = SEQ_END + NONCE_BYTES;

/// This database's token key.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The token prefix of the execution numbered `seq`, with its random `nonce`.
    pub fn prefix(&self, seq: i64, nonce: [u8; NONCE_BYTES]) -> String {
        STANDARD.encode(self.prefix_bytes(seq, &nonce))
    }

    fn prefix_bytes(&self, seq: i64, nonce: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(PREFIX_BYTES);
        out.extend_from_slice(&HEADER);
        out.extend_from_slice(&seq.to_be_bytes());
        out.push(0);
        out.extend_from_slice(nonce);
        let mut block = 0u32;
        while out.len() < PREFIX_BYTES {
            let digest = Sha256::new()
                .chain_update(self.0)
                .chain_update(seq.to_be_bytes())
                .chain_update(nonce)
                .chain_update(block.to_be_bytes())
                .finalize();
            let take = (PREFIX_BYTES - out.len()).min(digest.len());
            out.extend_from_slice(&digest[..take]);
            block += 1;
        }
        out
    }

    /// The execution `seq`, token prefix and task id of a token this key made; `None` for
    /// anything else (forged, damaged, truncated, from another database).
    pub fn check<'t>(&self, token: &'t str) -> Option<(i64, &'t str, u64)> {
        let (prefix, task_id) = asl_engine::token::split_task_token(token)?;
        if prefix.len() != PREFIX_BYTES / 3 * 4 {
            return None;
        }
        let bytes = STANDARD.decode(prefix).ok()?;
        if bytes.len() != PREFIX_BYTES || bytes[..HEADER.len()] != HEADER {
            return None;
        }
        let seq = i64::from_be_bytes(bytes[HEADER.len()..HEADER.len() + 8].try_into().ok()?);
        let nonce = &bytes[SEQ_END..NONCE_END];
        (bytes == self.prefix_bytes(seq, nonce)).then_some((seq, prefix, task_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asl_engine::token::task_token;

    fn key(b: u8) -> TokenKey {
        TokenKey::new([b; 32])
    }

    const NONCE: [u8; NONCE_BYTES] = [9; NONCE_BYTES];

    #[test]
    fn tokens_look_like_aws_tokens() {
        let token = task_token(&key(1).prefix(7, NONCE), 3);
        assert_eq!(token.len(), 732);
        assert!(token.starts_with("AQAA++//"), "{}", &token[..8]);
        assert!(token.ends_with('='));
        assert!(STANDARD.decode(&token).is_ok(), "one base64 string");
    }

    #[test]
    fn a_token_proves_its_execution_and_task() {
        let k = key(1);
        for (seq, task) in [(1, 1), (42, 7), (i64::MAX, u64::MAX)] {
            let prefix = k.prefix(seq, NONCE);
            assert_eq!(
                k.check(&task_token(&prefix, task)),
                Some((seq, prefix.as_str(), task))
            );
        }
    }

    #[test]
    fn forged_damaged_and_foreign_tokens_are_rejected() {
        let k = key(1);
        let token = task_token(&k.prefix(5, NONCE), 2);
        // Another database's key.
        assert_eq!(k.check(&task_token(&key(2).prefix(5, NONCE), 2)), None);
        // One character changed in the seq, the nonce, the tag, the filler.
        for at in [12, 25, 60, 400] {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let damaged = String::from_utf8(bytes).unwrap();
            assert_eq!(k.check(&damaged), None, "changed at {at}");
        }
        // Truncated, extended, empty, the old short format.
        assert_eq!(k.check(&token[1..]), None);
        assert_eq!(k.check(&format!("A{token}")), None);
        assert_eq!(k.check(""), None);
        assert_eq!(k.check("5.0123456789abcdef0123456789abcdef.2"), None);
    }

    #[test]
    fn executions_with_the_same_seq_get_different_prefixes() {
        // A restored database can hand out a seq again; the nonce tells them apart.
        let k = key(1);
        assert_ne!(k.prefix(5, NONCE), k.prefix(5, [8; NONCE_BYTES]));
    }
}
