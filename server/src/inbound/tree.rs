//! The payload as one order-keeping tree, whichever format it came in: JSON is read into it
//! by serde, form data by [`super::form`].
//!
//! The order of an object's keys matters here (the email found deep in a payload is the first
//! one in document order), and `serde_json::Map` sorts its keys unless the crate-wide
//! `preserve_order` feature is on, which would change how every other module of the server
//! serialises JSON. So the tree keeps its own order and turns into a `serde_json::Value` only
//! for the caller's raw copy.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// One value of the payload. Objects keep their keys in document order; a key given twice
/// keeps its first place and its last value, as `serde_json::Value` keeps the last value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    /// Builds an object, merging repeated keys as the type's doc says.
    pub(super) fn object(entries: Vec<(String, Node)>) -> Self {
        if entries.len() < 2 {
            return Self::Object(entries);
        }
        let mut merged: Vec<(String, Node)> = Vec::with_capacity(entries.len());
        let mut places: HashMap<String, usize> = HashMap::with_capacity(entries.len());
        for (key, value) in entries {
            match places.get(&key) {
                Some(&place) => merged[place].1 = value,
                None => {
                    places.insert(key.clone(), merged.len());
                    merged.push((key, value));
                }
            }
        }
        Self::Object(merged)
    }

    /// The value of `key` when this is an object that has it.
    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Self::Object(entries) => entries
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages: "an array", "a number".
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "true or false",
            Self::Number(_) => "a number",
            Self::String(_) => "a string",
            Self::Array(_) => "an array",
            Self::Object(_) => "an object",
        }
    }

    /// The first email address in any string value, depth first in document order, already
    /// normalised by [`protocol::validate::normalize_email`].
    pub(super) fn first_email(&self) -> Option<String> {
        match self {
            Self::String(text) => email_in_text(text),
            Self::Array(items) => items.iter().find_map(Node::first_email),
            Self::Object(entries) => entries.iter().find_map(|(_, value)| value.first_email()),
            Self::Null | Self::Bool(_) | Self::Number(_) => None,
        }
    }

    pub(super) fn into_value(self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(value) => Value::Bool(value),
            Self::Number(number) => Value::Number(number),
            Self::String(text) => Value::String(text),
            Self::Array(items) => Value::Array(items.into_iter().map(Node::into_value).collect()),
            Self::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, value.into_value()))
                    .collect(),
            ),
        }
    }
}

/// The first email address written in `text`: the whole text, or a word of it such as the
/// address in `Joe Bloggs <joe@example.com>` or `mailto:joe@example.com`.
///
/// Words are split at spaces and at the characters that an address cannot contain and that
/// commonly surround one (`<>()[],;"'`); a `mailto:` prefix and a sentence's closing dot are
/// dropped. `:` does not split words, so the `user:password@host` of a URL is not an address.
pub(super) fn email_in_text(text: &str) -> Option<String> {
    if !text.contains('@') {
        return None;
    }
    text.split(|c: char| c.is_whitespace() || "<>()[],;\"'".contains(c))
        .filter(|word| word.contains('@'))
        .find_map(|word| {
            let word = strip_prefix_ignore_case(word, "mailto:").unwrap_or(word);
            protocol::validate::normalize_email(word.trim_end_matches('.')).ok()
        })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        // JSON has no NaN or infinity, so every float it yields is a number.
        Ok(Number::from_f64(value).map_or(Node::Null, Node::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::String(value))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Node>()? {
            entries.push(entry);
        }
        Ok(Node::object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Node {
        serde_json::from_str(text).expect("test JSON parses")
    }

    #[test]
    fn objects_keep_document_order_and_the_last_of_a_repeated_key() {
        let node = json(r#"{"z": 1, "a": 2, "z": 3}"#);
        let Node::Object(entries) = &node else {
            panic!("not an object: {node:?}");
        };
        let keys: Vec<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["z", "a"]);
        assert_eq!(node.get("z"), Some(&Node::Number(3.into())));
        assert_eq!(
            node.into_value(),
            serde_json::from_str::<Value>(r#"{"z": 1, "a": 2, "z": 3}"#).expect("parses")
        );
    }

    #[test]
    fn first_email_is_depth_first_in_document_order() {
        let check = |text: &str, expected: Option<&str>| {
            assert_eq!(json(text).first_email().as_deref(), expected, "{text}");
        };
        check(
            r#"{"z": {"deep": ["x", "z@example.com"]}, "a": "a@example.com"}"#,
            Some("z@example.com"),
        );
        check(
            r#"{"a": 1, "b": [true, null, {"c": "Joe <Joe@Example.COM>"}]}"#,
            Some("Joe@example.com"),
        );
        check(
            r#"{"contact": "mailto:joe@example.com"}"#,
            Some("joe@example.com"),
        );
        check(
            r#"{"note": "Write to joe@example.com."}"#,
            Some("joe@example.com"),
        );
        check(r#"{"link": "https://user:pw@example.com/x", "n": 5}"#, None);
        check(
            r#"{"bad": "joe@", "good": "ann@example.org"}"#,
            Some("ann@example.org"),
        );
        check(r#"{"joe@example.com": "key, not value"}"#, None);
        check(r#"[]"#, None);
    }
}
