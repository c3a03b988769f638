//! Encryption at rest of auth connector credentials (and any other small secret the store
//! keeps): XChaCha20-Poly1305 under one 32-byte [`MasterKey`], a fresh random 24-byte nonce
//! per encryption, and associated data that binds each ciphertext to its row, so a ciphertext
//! copied into another row (another connector's id) does not decrypt.
//!
//! The stored text is `v1:` followed by standard base64 of `nonce ‖ ciphertext ‖ tag`; the
//! version names this format, so another can be read alongside it later.
//!
//! This module is pure: it does not read settings or files (where the master key comes from
//! is the caller's choice: [`MasterKey::parse`] a setting, or [`MasterKey::generate`] one and
//! store [`MasterKey::to_base64`]). Nothing here prints a key or a plaintext: `Debug` shows
//! neither, and plaintexts come back in [`Zeroizing`] so they are wiped when dropped.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// Bytes in a master key.
pub const KEY_BYTES: usize = 32;
/// Bytes in a nonce: XChaCha20's 192 bits are enough to pick each one at random.
const NONCE_BYTES: usize = 24;
/// Bytes the Poly1305 tag adds.
const TAG_BYTES: usize = 16;
/// The prefix of every ciphertext this version writes.
const VERSION_1: &str = "v1:";

/// Why a key or a ciphertext was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The master key is not base64 of exactly 32 bytes.
    #[error("the master key must be base64 of exactly {KEY_BYTES} bytes")]
    InvalidKey,
    /// The text is not `v1:` and base64 of at least a nonce and a tag.
    #[error("the encrypted secret is not in the `v1:<base64>` form")]
    Malformed,
    /// The text names a format this version does not know.
    #[error("the encrypted secret is in an unknown format (`{0}`)")]
    UnknownVersion(String),
    /// Authentication failed: another master key, other associated data (another row), or
    /// a changed ciphertext. AEAD cannot tell these apart, by design.
    #[error(
        "the secret could not be decrypted: wrong master key, another row's secret, or altered"
    )]
    Undecryptable,
    /// The operating system's random number generator failed.
    #[error("no random numbers are available to make a key or nonce")]
    RandomUnavailable,
    /// The cipher refused the input (longer than XChaCha20-Poly1305 can take).
    #[error("the secret is too long to encrypt")]
    TooLong,
}

/// The key every stored secret is encrypted under.
pub struct MasterKey {
    key: Zeroizing<[u8; KEY_BYTES]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self, SecretError> {
        let key = Key::try_generate().map_err(|_| SecretError::RandomUnavailable)?;
        let mut bytes = Zeroizing::new([0; KEY_BYTES]);
        bytes.copy_from_slice(key.as_slice());
        Ok(Self { key: bytes })
    }

    /// Reads standard base64 of 32 bytes (`openssl rand -base64 32` makes one); whitespace
    /// around it, such as a key file's last newline, is ignored.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| SecretError::InvalidKey)?,
        );
        let mut bytes = Zeroizing::new([0; KEY_BYTES]);
        if decoded.len() != KEY_BYTES {
            return Err(SecretError::InvalidKey);
        }
        bytes.copy_from_slice(&decoded);
        Ok(Self { key: bytes })
    }

    /// The key as [`MasterKey::parse`] reads it, to store once (a key file, a setting).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.key.as_slice()))
    }

    /// Encrypts `plaintext` bound to `associated_data` (say the connector's id: the same
    /// bytes must be given to decrypt). Each call picks a new nonce, so the same plaintext
    /// encrypts differently every time.
    pub fn encrypt(&self, plaintext: &str, associated_data: &[u8]) -> Result<String, SecretError> {
        let nonce = XNonce::try_generate().map_err(|_| SecretError::RandomUnavailable)?;
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretError::TooLong)?;
        let mut stored = Vec::with_capacity(NONCE_BYTES + sealed.len());
        stored.extend_from_slice(nonce.as_slice());
        stored.extend_from_slice(&sealed);
        Ok(format!("{VERSION_1}{}", STANDARD.encode(stored)))
    }

    /// Decrypts what [`MasterKey::encrypt`] made with the same `associated_data`.
    pub fn decrypt(
        &self,
        text: &str,
        associated_data: &[u8],
    ) -> Result<Zeroizing<String>, SecretError> {
        let Some(encoded) = text.strip_prefix(VERSION_1) else {
            return Err(match text.split_once(':') {
                Some((version, _)) if version.starts_with('v') && version.len() <= 8 => {
                    SecretError::UnknownVersion(version.to_owned())
                }
                _ => SecretError::Malformed,
            });
        };
        let stored = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed)?;
        if stored.len() < NONCE_BYTES + TAG_BYTES {
            return Err(SecretError::Malformed);
        }
        let (nonce, sealed) = stored.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| SecretError::Malformed)?;
        let plaintext = self
            .cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        match String::from_utf8(plaintext) {
            Ok(text) => Ok(Zeroizing::new(text)),
            // Only a key holder could have sealed non-UTF-8 bytes; wipe them all the same.
            Err(error) => {
                drop(Zeroizing::new(error.into_bytes()));
                Err(SecretError::Malformed)
            }
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        let key: &Key = (&*self.key).into();
        XChaCha20Poly1305::new(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn key() -> MasterKey {
        MasterKey::parse(KEY).expect("a valid key")
    }

    #[test]
    fn round_trips() {
        let key = key();
        for plaintext in ["", "hunter2", r#"{"type":"basic","password":"p@ss wörd"}"#] {
            let sealed = key.encrypt(plaintext, b"con_1").expect("encrypts");
            assert!(sealed.starts_with("v1:"), "{sealed}");
            assert!(!sealed.contains(plaintext) || plaintext.is_empty());
            let opened = key.decrypt(&sealed, b"con_1").expect("decrypts");
            assert_eq!(opened.as_str(), plaintext);
        }
    }

    #[test]
    fn every_encryption_uses_a_new_nonce() {
        let key = key();
        let first = key.encrypt("same", b"con_1").expect("encrypts");
        let second = key.encrypt("same", b"con_1").expect("encrypts");
        assert_ne!(first, second);
    }

    #[test]
    fn another_key_cannot_decrypt() {
        let sealed = key().encrypt("hunter2", b"con_1").expect("encrypts");
        let other = MasterKey::generate().expect("a random key");
        assert_eq!(
            other.decrypt(&sealed, b"con_1").err(),
            Some(SecretError::Undecryptable)
        );
    }

    #[test]
    fn another_rows_associated_data_cannot_decrypt() {
        let key = key();
        let sealed = key.encrypt("hunter2", b"con_1").expect("encrypts");
        for other in [&b"con_2"[..], b"", b"con_1 "] {
            assert_eq!(
                key.decrypt(&sealed, other).err(),
                Some(SecretError::Undecryptable)
            );
        }
    }

    #[test]
    fn any_changed_byte_is_refused() {
        let key = key();
        let sealed = key.encrypt("hunter2", b"con_1").expect("encrypts");
        let stored = STANDARD.decode(&sealed[3..]).expect("base64");
        // Every byte: nonce, ciphertext and tag.
        for index in 0..stored.len() {
            let mut changed = stored.clone();
            changed[index] ^= 0x01;
            let text = format!("v1:{}", STANDARD.encode(&changed));
            assert_eq!(
                key.decrypt(&text, b"con_1").err(),
                Some(SecretError::Undecryptable),
                "byte {index}"
            );
        }
        let truncated = format!("v1:{}", STANDARD.encode(&stored[..stored.len() - 1]));
        assert_eq!(
            key.decrypt(&truncated, b"con_1").err(),
            Some(SecretError::Undecryptable)
        );
    }

    #[test]
    fn malformed_texts_are_refused() {
        let key = key();
        let check = |text: &str, expected: SecretError| {
            assert_eq!(key.decrypt(text, b"").err(), Some(expected), "{text:?}");
        };
        check("", SecretError::Malformed);
        check("hunter2", SecretError::Malformed);
        check("v1:not base64!", SecretError::Malformed);
        check("v1:AAAA", SecretError::Malformed);
        check(
            &format!("v1:{}", STANDARD.encode([0; NONCE_BYTES + TAG_BYTES - 1])),
            SecretError::Malformed,
        );
        check("v2:AAAA", SecretError::UnknownVersion("v2".into()));
    }

    #[test]
    fn keys_are_base64_of_32_bytes() {
        assert_eq!(key().to_base64().as_str(), KEY);
        assert!(MasterKey::parse(&format!("  {KEY}\n")).is_ok());
        for bad in [
            "",
            "not base64",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
            "AA==",
        ] {
            assert_eq!(
                MasterKey::parse(bad).err(),
                Some(SecretError::InvalidKey),
                "{bad:?}"
            );
        }
        let generated = MasterKey::generate().expect("a random key");
        let again = MasterKey::parse(&generated.to_base64()).expect("reads back");
        let sealed = generated.encrypt("x", b"").expect("encrypts");
        assert_eq!(again.decrypt(&sealed, b"").expect("decrypts").as_str(), "x");
        assert_ne!(
            generated.to_base64().as_str(),
            MasterKey::generate()
                .expect("a random key")
                .to_base64()
                .as_str()
        );
    }

    #[test]
    fn debug_shows_no_key() {
        let key = key();
        assert_eq!(format!("{key:?}"), "MasterKey(..)");
        let error = key.decrypt("v1:AAAA", b"").expect_err("malformed");
        assert!(!format!("{error:?} {error}").contains("AAAA"));
    }
}
