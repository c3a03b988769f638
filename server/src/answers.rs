//! Answers that come back from receivers: what a receiver's status says about an entry (as
//! Gleam reads it: `201` a new contact, `200` one it had already, anything else an error),
//! the fields a data-source endpoint's JSON answer gives the contestant (a personal promo
//! code, say), and when the entry's answer has waited long enough for them.
//!
//! Pure: it must not do IO, read the clock or know HTTP routes. The delivery engine stores
//! each answer (the response's first 4 KiB, with the attempt); this module reads them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::endpoints::DataSourceSettings;
use crate::store::AnswerDelivery;

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

impl SourceTry {
    /// A data source's delivery as stored.
    pub fn of(delivery: &AnswerDelivery) -> Self {
        let settings = delivery
            .data_source
            .as_deref()
            .and_then(|text| serde_json::from_str::<DataSourceSettings>(text).ok());
        Self {
            created_at: delivery.created_at,
            timeout_ms: settings.as_ref().map_or(0, |settings| settings.timeout_ms),
            tried: delivery.n_attempts > 0 || delivery.status != "pending",
            fields: match (&delivery.answer, &settings) {
                (Some(answer), Some(settings)) => chosen_fields(answer, &settings.fields),
                _ => None,
            },
        }
    }
}

/// What the contestant is shown, or how long to wait first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The fields that came (none: the answers were errors, had none of the fields, or did
    /// not come in time).
    Ready(Vec<(String, String)>),
    /// Nothing to say yet: look again, at the latest at this time (unix ms).
    Wait { until: i64 },
}

/// Decides at `now` what the entry's answer carries: the fields as soon as every data source
/// has had its first try (all the fields found; a later endpoint's wins a name both give), or,
/// once the longest timeout since the entry has passed, whatever fields came.
pub fn decide(tries: &[SourceTry], now: i64) -> Outcome {
    let mut fields: Vec<(String, String)> = Vec::new();
    for found in tries.iter().filter_map(|attempt| attempt.fields.as_ref()) {
        for (name, value) in found {
            fields.retain(|(known, _)| known != name);
            fields.push((name.clone(), value.clone()));
        }
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
    if tries.iter().all(|attempt| attempt.tried) || now >= deadline {
        return Outcome::Ready(fields);
    }
    Outcome::Wait { until: deadline }
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

    fn ready(pairs: &[(&str, &str)]) -> Outcome {
        Outcome::Ready(
            pairs
                .iter()
                .map(|&(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_answer_waits_for_every_first_try_until_the_timeout() {
        let code = Some(&[("promocode", "SAVE-1")][..]);
        assert_eq!(
            decide(&[source(false, None)], 2_000),
            Outcome::Wait { until: 4_000 }
        );
        assert_eq!(
            decide(&[source(true, code)], 2_000),
            ready(&[("promocode", "SAVE-1")])
        );
        assert_eq!(decide(&[source(true, None)], 2_000), ready(&[]));
        assert_eq!(decide(&[source(false, None)], 4_000), ready(&[]));
        // One answered, one still out: wait for it, then give what came.
        let both = [source(true, code), source(false, None)];
        assert_eq!(decide(&both, 2_000), Outcome::Wait { until: 4_000 });
        assert_eq!(decide(&both, 4_000), ready(&[("promocode", "SAVE-1")]));
        // Two answers naming one field: the later endpoint's.
        let other = Some(&[("promocode", "SAVE-2"), ("valid", "1 week")][..]);
        assert_eq!(
            decide(&[source(true, code), source(true, other)], 2_000),
            ready(&[("promocode", "SAVE-2"), ("valid", "1 week")])
        );
        let mut longer = source(false, None);
        longer.timeout_ms = 9_000;
        assert_eq!(
            decide(&[source(true, None), longer], 4_000),
            Outcome::Wait { until: 10_000 }
        );
    }
}
