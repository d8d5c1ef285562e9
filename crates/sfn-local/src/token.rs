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
//!
//! Tokens are 732 characters by default. [`TokenLength`] pads them with more filler, up
//! to the 2,048 characters the API allows, so integrations can be tested with the
//! longest tokens AWS may send. The filler is the same keyed digest stream, so a
//! padded token proves itself in the same way; [`TokenKey::check`] reads every length
//! a [`TokenLength`] allows, so tokens issued before a restart with another length
//! still work.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Bytes before the task id by default: a multiple of 3, so prefix and task id are one
/// base64 string. 540 bytes make 720 characters, and 732 with the task id: about as long
/// as AWS's tokens, well under the API's limit (2,048 characters).
const PREFIX_BYTES: usize = 540;
/// Characters of the encoded task id that ends every token ([`asl_engine::token`]).
const TASK_ID_CHARS: usize = 12;
const HEADER: [u8; 6] = [0x01, 0x00, 0x00, 0xFB, 0xEF, 0xFF];
/// Header, seq and its pad byte.
const SEQ_END: usize = HEADER.len() + 9;
/// Per-execution random bytes (15, so the prefix stays aligned to 3 bytes).
pub const NONCE_BYTES: usize = 15;
const NONCE_END: usize = SEQ_END + NONCE_BYTES;

/// How long the task tokens a service issues are, in characters: from the default
/// (732) to 2,048, the longest `taskToken` the API accepts (SendTaskSuccess reference:
/// 1 to 2,048 characters), in steps of 4 so a token stays one base64 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLength(usize);

impl TokenLength {
    /// Today's tokens.
    pub const DEFAULT: usize = PREFIX_BYTES / 3 * 4 + TASK_ID_CHARS;
    /// The API's limit.
    pub const MAX: usize = 2048;

    /// `chars` characters, if tokens can be that long.
    pub fn new(chars: usize) -> Result<Self, TokenLengthError> {
        if !(Self::DEFAULT..=Self::MAX).contains(&chars) || !chars.is_multiple_of(4) {
            return Err(TokenLengthError(chars.to_string()));
        }
        Ok(Self(chars))
    }

    /// Characters per token.
    pub fn get(self) -> usize {
        self.0
    }

    /// Bytes before the task id: its base64 is the token less the task id.
    fn prefix_bytes(self) -> usize {
        (self.0 - TASK_ID_CHARS) / 4 * 3
    }
}

impl Default for TokenLength {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

impl std::fmt::Display for TokenLength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TokenLength {
    type Err = TokenLengthError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let chars = text
            .trim()
            .parse()
            .map_err(|_| TokenLengthError(text.to_owned()))?;
        Self::new(chars)
    }
}

/// A token length outside what [`TokenLength`] allows (as given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "task tokens can be {min} to {max} characters, in steps of 4 (a token is one base64 \
     string), not {0}; AWS's SendTaskSuccess takes tokens of at most {max} characters, so \
     {max} tests with the longest tokens AWS may send",
    min = TokenLength::DEFAULT,
    max = TokenLength::MAX
)]
pub struct TokenLengthError(String);

/// This database's token key.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The token prefix of the execution numbered `seq`, with its random `nonce`, for
    /// tokens of the default length.
    pub fn prefix(&self, seq: i64, nonce: [u8; NONCE_BYTES]) -> String {
        self.prefix_of(seq, nonce, TokenLength::default())
    }

    /// The token prefix of the execution numbered `seq`, with its random `nonce`, for
    /// tokens of `length` characters.
    pub fn prefix_of(&self, seq: i64, nonce: [u8; NONCE_BYTES], length: TokenLength) -> String {
        STANDARD.encode(self.prefix_bytes(seq, &nonce, length.prefix_bytes()))
    }

    /// Header, seq, nonce, then the keyed digest stream up to `len` bytes. The stream
    /// does not depend on `len`: a longer prefix only has more of it.
    fn prefix_bytes(&self, seq: i64, nonce: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&HEADER);
        out.extend_from_slice(&seq.to_be_bytes());
        out.push(0);
        out.extend_from_slice(nonce);
        let mut block = 0u32;
        while out.len() < len {
            let digest = Sha256::new()
                .chain_update(self.0)
                .chain_update(seq.to_be_bytes())
                .chain_update(nonce)
                .chain_update(block.to_be_bytes())
                .finalize();
            let take = (len - out.len()).min(digest.len());
            out.extend_from_slice(&digest[..take]);
            block += 1;
        }
        out
    }

    /// The execution `seq`, token prefix and task id of a token this key made; `None` for
    /// anything else (forged, damaged, truncated, from another database).
    pub fn check<'t>(&self, token: &'t str) -> Option<(i64, &'t str, u64)> {
        let length = TokenLength::new(token.len()).ok()?;
        let (prefix, task_id) = asl_engine::token::split_task_token(token)?;
        let bytes = STANDARD.decode(prefix).ok()?;
        if bytes.len() != length.prefix_bytes() || bytes[..HEADER.len()] != HEADER {
            return None;
        }
        let seq = i64::from_be_bytes(bytes[HEADER.len()..HEADER.len() + 8].try_into().ok()?);
        let nonce = &bytes[SEQ_END..NONCE_END];
        (bytes == self.prefix_bytes(seq, nonce, bytes.len())).then_some((seq, prefix, task_id))
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
    fn padded_tokens_are_as_long_as_asked_and_prove_themselves_alike() {
        let k = key(1);
        for chars in [TokenLength::DEFAULT, 736, 1024, TokenLength::MAX] {
            let length = TokenLength::new(chars).unwrap();
            let prefix = k.prefix_of(11, NONCE, length);
            let token = task_token(&prefix, 4);
            assert_eq!(token.len(), chars);
            assert!(token.starts_with("AQAA++//") && token.ends_with('='));
            assert!(STANDARD.decode(&token).is_ok(), "one base64 string");
            assert_eq!(k.check(&token), Some((11, prefix.as_str(), 4)));
            // Another database's key, and a change anywhere in the padding.
            assert_eq!(
                k.check(&task_token(&key(2).prefix_of(11, NONCE, length), 4)),
                None
            );
            let at = chars - 20;
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            assert_eq!(k.check(&String::from_utf8(bytes).unwrap()), None, "{chars}");
        }
        // The default is today's token, so tokens issued before the option still work.
        assert_eq!(
            k.prefix_of(3, NONCE, TokenLength::default()),
            k.prefix(3, NONCE)
        );
    }

    #[test]
    fn a_padded_token_cut_or_grown_is_not_another_valid_token() {
        let k = key(1);
        let long = task_token(&k.prefix_of(5, NONCE, TokenLength::new(2048).unwrap()), 2);
        // Not base64 lengths, and over the API's limit.
        assert_eq!(k.check(&long[..2047]), None);
        assert_eq!(k.check(&format!("AAAA{long}")), None);
        assert_eq!(
            k.check(&format!("{}AAAA{}", &long[..2036], &long[2036..])),
            None
        );
        // Cut at a base64 boundary inside the padding, with its task id kept: the tag
        // still verifies (it is the same stream), which is why the service also
        // compares the prefix with the one its execution holds.
        let cut = format!("{}{}", &long[..1020], &long[2036..]);
        let (seq, prefix, task) = k.check(&cut).unwrap();
        assert_eq!((seq, task), (5, 2));
        assert_ne!(prefix, &long[..2036]);
    }

    #[test]
    fn only_lengths_a_token_can_have_are_accepted() {
        for ok in ["732", "736", " 2048 "] {
            let length: TokenLength = ok.parse().unwrap();
            assert_eq!(length.to_string(), ok.trim());
        }
        assert_eq!(TokenLength::default().get(), 732);
        for bad in [
            "731",
            "728",
            "2049",
            "2050",
            "2052",
            "0",
            "-1",
            "long",
            "99999999999999999999",
        ] {
            let error = bad.parse::<TokenLength>().unwrap_err().to_string();
            assert!(
                error.contains("732 to 2048 characters") && error.contains(bad.trim()),
                "{error}"
            );
        }
    }

    #[test]
    fn executions_with_the_same_seq_get_different_prefixes() {
        // A restored database can hand out a seq again; the nonce tells them apart.
        let k = key(1);
        assert_ne!(k.prefix(5, NONCE), k.prefix(5, [8; NONCE_BYTES]));
    }
}
