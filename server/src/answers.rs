//! Answers that come back from receivers: what a receiver's status says about an entry (as
//! Gleam reads it: `201` a new contact, `200` one it had already, anything else an error),
//! the fields a data-source endpoint's JSON answer gives the contestant (a personal promo
//! code, say), and the tokens a widget asks for that answer with.
//!
//! Pure: it must not do IO, read the clock or know HTTP routes. The delivery engine stores
//! each answer (the response's first 4 KiB, with the attempt); this module reads them.

use std::collections::BTreeMap;

use protocol::ids::AnswerToken;
use rand::distr::{Alphanumeric, SampleString as _};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Longest text of one field given to a widget; longer values are cut.
pub const MAX_FIELD_CHARS: usize = 500;

/// What a receiver's answer says about the entry it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiverAnswer {
    /// `201 Created`: the receiver made a new record (a new subscriber).
    New,
    /// `200 OK`: it had one already.
    Existing,
    /// Anything else, or no answer at all.
    Error,
}

impl ReceiverAnswer {
    /// The answer of the latest try, which got `status_code` (`None`: no response came).
    pub fn of(status_code: Option<u16>) -> Self {
        match status_code {
            Some(201) => Self::New,
            Some(200) => Self::Existing,
            _ => Self::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Existing => "existing",
            Self::Error => "error",
        }
    }
}

/// The fields of a data source's answer the contestant is shown: each of `fields` (paths,
/// `data.code`) found in the JSON `body` with a text, number or boolean value, as text (cut
/// at [`MAX_FIELD_CHARS`]), keyed by the path as written. `None` if the body is not a JSON
/// object; an empty map if it has none of the fields.
pub fn chosen_fields(body: &str, fields: &[String]) -> Option<BTreeMap<String, String>> {
    let answer: Value = serde_json::from_str(body.trim()).ok()?;
    if !answer.is_object() {
        return None;
    }
    let mut chosen = BTreeMap::new();
    for field in fields {
        let found = field
            .split('.')
            .try_fold(&answer, |value, name| value.get(name));
        let text = match found {
            Some(Value::String(text)) => text.clone(),
            Some(value @ (Value::Number(_) | Value::Bool(_))) => value.to_string(),
            _ => continue,
        };
        chosen.insert(field.clone(), text.chars().take(MAX_FIELD_CHARS).collect());
    }
    Some(chosen)
}

/// One data-source delivery of an entry, as far as it has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTry {
    /// When the delivery was made (the entry's time), unix ms.
    pub created_at: i64,
    /// How long the widget may wait for this endpoint's answer.
    pub timeout_ms: u32,
    /// Its first try is over (answered, failed, or given up).
    pub tried: bool,
    /// The chosen fields of its first 2xx JSON answer, if one came.
    pub fields: Option<BTreeMap<String, String>>,
}

/// What the widget is told, or how long to wait first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `answered` with the fields, `timeout`, or `unanswered`.
    Ready {
        status: &'static str,
        fields: BTreeMap<String, String>,
    },
    /// Nothing to say yet: look again, at the latest at this time (unix ms).
    Wait { until: i64 },
}

/// Decides at `now` what a widget waiting for `tries` is told: the fields as soon as every
/// endpoint has had its first try (all the fields found, later endpoints' winning a name
/// both give); or, once the longest timeout since the entry has passed, whatever fields came
/// (`answered`) or `timeout`. `unanswered`: every try is over and none gave a field.
pub fn decide(tries: &[SourceTry], now: i64) -> Outcome {
    let mut fields = BTreeMap::new();
    for found in tries.iter().filter_map(|attempt| attempt.fields.as_ref()) {
        fields.extend(
            found
                .iter()
                .map(|(name, value)| (name.clone(), value.clone())),
        );
    }
    let deadline = tries
        .iter()
        .map(|attempt| {
            attempt
                .created_at
                .saturating_add(i64::from(attempt.timeout_ms))
        })
        .max()
        .unwrap_or(now);
    let all_tried = tries.iter().all(|attempt| attempt.tried);
    if all_tried || now >= deadline {
        let status = match (fields.is_empty(), all_tried) {
            (false, _) => "answered",
            (true, true) => "unanswered",
            (true, false) => "timeout",
        };
        return Outcome::Ready { status, fields };
    }
    Outcome::Wait { until: deadline }
}

/// A new answer token: 32 random letters and digits (190 bits).
pub fn new_token() -> AnswerToken {
    AnswerToken::from_suffix(&Alphanumeric.sample_string(&mut rand::rng(), 32))
}

/// How a token is stored: SHA-256, hex. Tokens are long and random, so a fast hash is enough.
pub fn token_hash(token: &AnswerToken) -> String {
    Sha256::digest(token.as_str().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_gleam_reads_them() {
        for (status, expected) in [
            (Some(201), ReceiverAnswer::New),
            (Some(200), ReceiverAnswer::Existing),
            (Some(204), ReceiverAnswer::Error),
            (Some(202), ReceiverAnswer::Error),
            (Some(409), ReceiverAnswer::Error),
            (Some(500), ReceiverAnswer::Error),
            (None, ReceiverAnswer::Error),
        ] {
            assert_eq!(ReceiverAnswer::of(status), expected, "{status:?}");
        }
        assert_eq!(ReceiverAnswer::New.as_str(), "new");
    }

    fn check(body: &str, fields: &[&str], expected: Option<&[(&str, &str)]>) {
        let fields: Vec<String> = fields.iter().map(|&field| field.to_owned()).collect();
        let expected = expected.map(|pairs| {
            pairs
                .iter()
                .map(|&(name, value)| (name.to_owned(), value.to_owned()))
                .collect::<BTreeMap<_, _>>()
        });
        assert_eq!(chosen_fields(body, &fields), expected, "{body}");
    }

    #[test]
    fn chosen_fields_are_read_by_path_as_text() {
        check(
            r#"{"promocode": "SAVE-7QK2", "other": 1}"#,
            &["promocode"],
            Some(&[("promocode", "SAVE-7QK2")]),
        );
        check(
            r#"{"data": {"code": 42, "ok": true}}"#,
            &["data.code", "data.ok", "data.missing", "nope.deeper"],
            Some(&[("data.code", "42"), ("data.ok", "true")]),
        );
        check(
            r#"{"promocode": null, "list": [1], "object": {}}"#,
            &["promocode", "list", "object"],
            Some(&[]),
        );
        check("[1, 2]", &["promocode"], None);
        check("Thanks!", &["promocode"], None);
        check("", &["promocode"], None);
        let long = format!(r#"{{"code": "{}"}}"#, "x".repeat(MAX_FIELD_CHARS + 10));
        let chosen = chosen_fields(&long, &["code".to_owned()]).expect("an object");
        assert_eq!(chosen["code"].chars().count(), MAX_FIELD_CHARS);
    }

    fn source(tried: bool, fields: Option<&[(&str, &str)]>) -> SourceTry {
        SourceTry {
            created_at: 1_000,
            timeout_ms: 3_000,
            tried,
            fields: fields.map(|pairs| {
                pairs
                    .iter()
                    .map(|&(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            }),
        }
    }

    fn ready(status: &'static str, pairs: &[(&str, &str)]) -> Outcome {
        Outcome::Ready {
            status,
            fields: pairs
                .iter()
                .map(|&(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        }
    }

    #[test]
    fn the_widget_waits_for_every_first_try_until_the_timeout() {
        let code = Some(&[("promocode", "SAVE-1")][..]);
        assert_eq!(
            decide(&[source(false, None)], 2_000),
            Outcome::Wait { until: 4_000 }
        );
        assert_eq!(
            decide(&[source(true, code)], 2_000),
            ready("answered", &[("promocode", "SAVE-1")])
        );
        assert_eq!(
            decide(&[source(true, None)], 2_000),
            ready("unanswered", &[])
        );
        assert_eq!(decide(&[source(false, None)], 4_000), ready("timeout", &[]));
        // One answered, one still out: wait for it, then give what came.
        let both = [source(true, code), source(false, None)];
        assert_eq!(decide(&both, 2_000), Outcome::Wait { until: 4_000 });
        assert_eq!(
            decide(&both, 4_000),
            ready("answered", &[("promocode", "SAVE-1")])
        );
        let mut longer = source(false, None);
        longer.timeout_ms = 9_000;
        assert_eq!(
            decide(&[source(true, None), longer], 4_000),
            Outcome::Wait { until: 10_000 }
        );
    }

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let token = new_token();
        assert!(token.as_str().starts_with("ans_"));
        assert_eq!(token.as_str().len(), 36);
        assert_ne!(new_token(), token);
        let hash = token_hash(&token);
        assert_eq!(hash.len(), 64);
        assert_eq!(token_hash(&token), hash);
    }
}
