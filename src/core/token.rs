//! Approval tokens: the secret an approver's mail carries so that an approval can be
//! checked even when a mail client drops the reply headers. 128 bits from the OS (drawn by
//! the shell), shown in base32 so it survives being typed or reflowed, stored only as a
//! SHA-256 hash, compared in constant time.

use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The length of a token as written: 16 bytes in unpadded base32.
pub const TOKEN_CHARS: usize = 26;

#[derive(Clone, PartialEq, Eq)]
pub struct Token([u8; 16]);

impl std::fmt::Debug for Token {
    /// Never prints the secret: a token in a log line is a token anyone can use.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// What the store keeps instead of the token.
pub type TokenHash = [u8; 32];

impl Token {
    pub fn from_bytes(bytes: [u8; 16]) -> Token {
        Token(bytes)
    }
    /// The form written into the approval request's subject.
    pub fn reveal(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }
    pub fn hash(&self) -> TokenHash {
        Sha256::digest(self.0).into()
    }
    /// Every well-formed token written in `text`, in order. Case-insensitive because some
    /// clients and people lower-case subjects.
    pub fn find_all(text: &str) -> Vec<Token> {
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() == TOKEN_CHARS)
            .filter_map(|w| BASE32_NOPAD.decode(w.to_ascii_uppercase().as_bytes()).ok())
            .filter_map(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
            .map(Token)
            .collect()
    }
    /// Constant time, so the time a check takes says nothing about how close a guess was.
    pub fn matches(&self, hash: &TokenHash) -> bool {
        self.hash().ct_eq(hash).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_through_a_subject_and_matches_only_its_hash() {
        let t = Token::from_bytes([7; 16]);
        let other = Token::from_bytes([8; 16]);
        let subject = format!("Re: [LKT-2026-0001] Persetujuan (kode {})", t.reveal().to_lowercase());
        let found = Token::find_all(&subject);
        assert_eq!(found.len(), 1);
        assert!(found[0].matches(&t.hash()));
        assert!(!found[0].matches(&other.hash()));
        assert_eq!(t.reveal().len(), TOKEN_CHARS);
        assert_eq!(format!("{t:?}"), "Token(..)");
    }

    #[test]
    fn words_that_are_not_tokens_are_not_found() {
        for s in
            ["", "SETUJU", "AAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAA", "11111111111111111111111111"]
        {
            assert!(Token::find_all(s).is_empty(), "{s}");
        }
    }
}
