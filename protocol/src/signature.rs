//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, the signature is `v1,` + base64 of its
//! HMAC-SHA256 under the secret (the base64 after `whsec_`), and the `webhook-signature`
//! header holds one or more such signatures separated by spaces.
//!
//! This is also the verifier receivers can use: see [`verify`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a `webhook-timestamp` may be from the receiver's clock, in seconds.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 5 * 60;

/// Why a secret or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The secret is not `whsec_` followed by base64 of at least 24 bytes.
    InvalidSecret,
    /// The `webhook-timestamp` is not an integer.
    InvalidTimestamp,
    /// The timestamp is further from now than the tolerance (replay protection).
    TimestampOutOfTolerance,
    /// No signature in the header matches.
    NoMatchingSignature,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::InvalidSecret => "the signing secret must be whsec_ followed by base64",
            Self::InvalidTimestamp => "webhook-timestamp is not a number of seconds",
            Self::TimestampOutOfTolerance => "webhook-timestamp is too far from now",
            Self::NoMatchingSignature => "no signature in webhook-signature matches",
        })
    }
}

impl std::error::Error for SignatureError {}

/// A decoded signing secret.
#[derive(Clone)]
pub struct SigningSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

impl SigningSecret {
    /// Parses `whsec_<base64>`. The key must be 24 to 64 bytes, as the spec asks.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SignatureError::InvalidSecret)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SignatureError::InvalidSecret)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SignatureError::InvalidSecret);
        }
        Ok(Self { key })
    }

    /// Makes a secret from raw key bytes (for example 32 random bytes).
    pub fn from_bytes(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// The `whsec_…` form, to show once to the owner.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// One signature, `v1,<base64>`.
    pub fn sign(&self, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
        format!(
            "v1,{}",
            STANDARD.encode(
                self.mac(webhook_id, timestamp, body)
                    .finalize()
                    .into_bytes()
            )
        )
    }

    fn mac(&self, webhook_id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(webhook_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// The `webhook-signature` header value: one signature per secret (the current one first,
/// then any previous one still valid during rotation), separated by spaces.
pub fn signature_header(
    secrets: &[SigningSecret],
    webhook_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Verifies a received webhook: the timestamp is within `tolerance_seconds` of `now` and one
/// of the `v1` signatures in `signature_header` matches (compared in constant time).
pub fn verify(
    secret: &SigningSecret,
    webhook_id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance_seconds: i64,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::InvalidTimestamp)?;
    if (now - timestamp).abs() > tolerance_seconds {
        return Err(SignatureError::TimestampOutOfTolerance);
    }
    let matches = signature_header
        .split_whitespace()
        .filter_map(|versioned| versioned.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|candidate| {
            secret
                .mac(webhook_id, timestamp, body)
                .verify_slice(&candidate)
                .is_ok()
        });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::NoMatchingSignature)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // The test vector of the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn spec_test_vector_is_byte_exact() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        assert_eq!(secret.sign(MSG_ID, TIMESTAMP, BODY), EXPECTED);
        assert_eq!(secret.to_whsec(), SECRET);
    }

    #[test]
    fn verify_accepts_any_listed_signature_and_rejects_tampering() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        let old = SigningSecret::from_bytes(&[7; 32]);
        let header = signature_header(&[old, secret.clone()], MSG_ID, TIMESTAMP, BODY);
        let ts = TIMESTAMP.to_string();
        assert_eq!(
            verify(&secret, MSG_ID, &ts, &header, BODY, TIMESTAMP, 300),
            Ok(())
        );
        assert_eq!(
            verify(
                &secret,
                MSG_ID,
                &ts,
                &header,
                br#"{"test": 1}"#,
                TIMESTAMP,
                300
            ),
            Err(SignatureError::NoMatchingSignature)
        );
        assert_eq!(
            verify(&secret, "msg_other", &ts, &header, BODY, TIMESTAMP, 300),
            Err(SignatureError::NoMatchingSignature)
        );
        assert_eq!(
            verify(&secret, MSG_ID, &ts, &header, BODY, TIMESTAMP + 301, 300),
            Err(SignatureError::TimestampOutOfTolerance)
        );
        assert_eq!(
            verify(&secret, MSG_ID, "soon", &header, BODY, TIMESTAMP, 300),
            Err(SignatureError::InvalidTimestamp)
        );
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        assert_eq!(
            SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").err(),
            Some(SignatureError::InvalidSecret)
        );
        assert_eq!(
            SigningSecret::parse("whsec_!!!").err(),
            Some(SignatureError::InvalidSecret)
        );
        assert_eq!(
            SigningSecret::parse("whsec_c2hvcnQ=").err(),
            Some(SignatureError::InvalidSecret)
        );
    }
}
