//! Form data (`application/x-www-form-urlencoded`) read into the same [`Node`] tree as JSON,
//! with PHP-style brackets for nesting, so `products[0][name]=T-Shirt` means what
//! `{"products": [{"name": "T-Shirt"}]}` means.
//!
//! The rules, those of PHP and Rack where they agree:
//! - `a=1&a=2` keeps the last value; every value is a string (`price=55` is `"55"`).
//! - `a[b][c]=1` nests objects. A group whose keys are all indices (`0`, `1`, `12`) becomes
//!   an array in index order, gaps closed; any other key keeps it an object.
//! - `a[]=x` appends. `a[][name]=x&a[][link]=y` builds one element and starts the next when a
//!   key repeats (Rack's rule; PHP would make two half-empty elements).
//! - A name whose brackets do not close, or that starts with `[`, is a plain key, bracket and
//!   all. A name that is both a value and a group (`a=1&a[b]=2`) is an error, as is nesting
//!   deeper than [`MAX_DEPTH`].
//! - Names and values are percent-decoded after `+` becomes a space, and must be UTF-8.

use std::collections::HashMap;

use percent_encoding::percent_decode;

use super::InboundError;
use super::tree::Node;

/// The deepest nesting accepted: `a[1][2]…[32]`.
pub const MAX_DEPTH: usize = 32;

pub(super) fn parse(body: &[u8]) -> Result<Node, InboundError> {
    let mut root = Group::default();
    for pair in body.split(|&byte| byte == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&byte| byte == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode(name)?;
        if name.is_empty() {
            continue;
        }
        let value = decode(value)?;
        let segments = split_name(&name);
        if segments.len() > MAX_DEPTH + 1 {
            return Err(InboundError::InvalidForm {
                problem: format!(
                    "`{}` is nested more than {MAX_DEPTH} levels deep",
                    shorten(&name)
                ),
            });
        }
        root.insert(&segments, value)
            .map_err(|Conflict| InboundError::InvalidForm {
                problem: format!(
                    "`{}` is given both as a value and as a group of fields",
                    shorten(&name)
                ),
            })?;
    }
    Ok(root.into_node())
}

/// A name cut to 60 characters for an error message.
fn shorten(name: &str) -> String {
    match name.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_owned(),
    }
}

fn decode(raw: &[u8]) -> Result<String, InboundError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&byte| if byte == b'+' { b' ' } else { byte })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| InboundError::InvalidForm {
            problem: "a name or value is not UTF-8 once percent-decoded".to_owned(),
        })
}

/// `a[b][]` → `["a", "b", ""]`; a name without well-formed brackets → `[name]`.
fn split_name(name: &str) -> Vec<&str> {
    let literal = vec![name];
    let Some(open) = name.find('[') else {
        return literal;
    };
    if open == 0 {
        return literal;
    }
    let mut segments = vec![&name[..open]];
    let mut rest = &name[open..];
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return literal;
        };
        let Some(close) = inner.find(']') else {
            return literal;
        };
        let segment = &inner[..close];
        if segment.contains('[') {
            return literal;
        }
        segments.push(segment);
        rest = &inner[close + 1..];
    }
    segments
}

/// A name used both as a value and as a group.
#[derive(Debug)]
struct Conflict;

#[derive(Debug)]
enum Slot {
    Value(String),
    Group(Group),
}

#[derive(Debug, Default)]
struct Group {
    entries: Vec<(String, Slot)>,
    places: HashMap<String, usize>,
    /// The highest index key so far, where `[]` appends after.
    last_index: Option<u32>,
}

impl Group {
    fn insert(&mut self, segments: &[&str], value: String) -> Result<(), Conflict> {
        let Some((&segment, rest)) = segments.split_first() else {
            return Ok(());
        };
        let key = if segment.is_empty() {
            self.append_key(rest)
        } else {
            segment.to_owned()
        };
        if rest.is_empty() {
            return match self.slot_mut(&key) {
                Some(Slot::Group(_)) => Err(Conflict),
                Some(slot) => {
                    *slot = Slot::Value(value);
                    Ok(())
                }
                None => {
                    self.push(key, Slot::Value(value));
                    Ok(())
                }
            };
        }
        if self.slot_mut(&key).is_none() {
            self.push(key.clone(), Slot::Group(Group::default()));
        }
        match self.slot_mut(&key) {
            Some(Slot::Group(group)) => group.insert(rest, value),
            _ => Err(Conflict),
        }
    }

    /// The key `[]` stands for: the last element while it lacks the rest of the name, else a
    /// new index after the highest one.
    fn append_key(&self, rest: &[&str]) -> String {
        if let Some(last) = self.last_index {
            let key = last.to_string();
            if let Some(Slot::Group(group)) = self.slot(&key)
                && !rest.is_empty()
                && !group.has(rest)
            {
                return key;
            }
            return last.saturating_add(1).to_string();
        }
        "0".to_owned()
    }

    /// Whether the name `rest` is already set here (a `[]` in it never is).
    fn has(&self, rest: &[&str]) -> bool {
        let Some((&segment, rest)) = rest.split_first() else {
            return true;
        };
        if segment.is_empty() {
            return false;
        }
        match self.slot(segment) {
            None => false,
            Some(Slot::Value(_)) => true,
            Some(Slot::Group(group)) => group.has(rest),
        }
    }

    fn slot(&self, key: &str) -> Option<&Slot> {
        self.places.get(key).map(|&place| &self.entries[place].1)
    }

    fn slot_mut(&mut self, key: &str) -> Option<&mut Slot> {
        let place = *self.places.get(key)?;
        Some(&mut self.entries[place].1)
    }

    fn push(&mut self, key: String, slot: Slot) {
        if let Some(index) = as_index(&key) {
            self.last_index = Some(self.last_index.map_or(index, |last| last.max(index)));
        }
        self.places.insert(key.clone(), self.entries.len());
        self.entries.push((key, slot));
    }

    fn into_node(self) -> Node {
        let all_indices =
            !self.entries.is_empty() && self.entries.iter().all(|(key, _)| as_index(key).is_some());
        if all_indices {
            let mut items: Vec<(u32, Slot)> = self
                .entries
                .into_iter()
                .filter_map(|(key, slot)| Some((as_index(&key)?, slot)))
                .collect();
            items.sort_by_key(|(index, _)| *index);
            return Node::Array(
                items
                    .into_iter()
                    .map(|(_, slot)| slot.into_node())
                    .collect(),
            );
        }
        Node::Object(
            self.entries
                .into_iter()
                .map(|(key, slot)| (key, slot.into_node()))
                .collect(),
        )
    }
}

impl Slot {
    fn into_node(self) -> Node {
        match self {
            Self::Value(text) => Node::String(text),
            Self::Group(group) => group.into_node(),
        }
    }
}

/// `0`, `7`, `12` (no sign, no leading zero, at most nine digits) as an index.
fn as_index(key: &str) -> Option<u32> {
    let canonical = !key.is_empty()
        && key.len() <= 9
        && key.bytes().all(|byte| byte.is_ascii_digit())
        && (key == "0" || !key.starts_with('0'));
    canonical.then(|| key.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str, expected_json: &str) {
        let node = parse(body.as_bytes()).expect("form parses");
        let expected: Node = serde_json::from_str(expected_json).expect("expected JSON parses");
        assert_eq!(node, expected, "{body}");
    }

    fn check_error(body: &str, expected_problem: &str) {
        match parse(body.as_bytes()) {
            Err(InboundError::InvalidForm { problem }) => {
                assert_eq!(problem, expected_problem, "{body}");
            }
            other => panic!("{body}: expected an invalid_form error, got {other:?}"),
        }
    }

    #[test]
    fn flat_fields() {
        check("", "{}");
        check("email=joe%40example.com", r#"{"email": "joe@example.com"}"#);
        check(
            "a=1&b=two+words&c=%C3%BC",
            r#"{"a": "1", "b": "two words", "c": "ü"}"#,
        );
        check("a=1&a=2", r#"{"a": "2"}"#);
        check("flag&&=x&b=", r#"{"flag": "", "b": ""}"#);
        check("z=1&a=2", r#"{"z": "1", "a": "2"}"#);
        check("plus=%2B&eq=a=b", r#"{"plus": "+", "eq": "a=b"}"#);
    }

    #[test]
    fn brackets_nest() {
        check(
            "products%5B0%5D%5Bname%5D=T-Shirt&products%5B0%5D%5Bprice%5D=55",
            r#"{"products": [{"name": "T-Shirt", "price": "55"}]}"#,
        );
        check(
            "products[1][name]=B&products[0][name]=A",
            r#"{"products": [{"name": "A"}, {"name": "B"}]}"#,
        );
        check("p[5][n]=x&p[9][n]=y", r#"{"p": [{"n": "x"}, {"n": "y"}]}"#);
        check("tags[]=a&tags[]=b", r#"{"tags": ["a", "b"]}"#);
        check(
            "p[][name]=A&p[][link]=a&p[][name]=B&p[][link]=b",
            r#"{"p": [{"name": "A", "link": "a"}, {"name": "B", "link": "b"}]}"#,
        );
        check("p[0][n]=A&p[][n]=B", r#"{"p": [{"n": "A"}, {"n": "B"}]}"#);
        check(
            "user[address][city]=Miami",
            r#"{"user": {"address": {"city": "Miami"}}}"#,
        );
        check("m[0]=a&m[x]=b", r#"{"m": {"0": "a", "x": "b"}}"#);
        check("m[00]=a&m[-1]=b", r#"{"m": {"00": "a", "-1": "b"}}"#);
    }

    #[test]
    fn malformed_brackets_are_plain_keys() {
        check("a[b=1", r#"{"a[b": "1"}"#);
        check("[a]=1", r#"{"[a]": "1"}"#);
        check("a[b]c=1", r#"{"a[b]c": "1"}"#);
        check("a[[b]]=1", r#"{"a[[b]]": "1"}"#);
    }

    #[test]
    fn errors() {
        check_error(
            "a=1&a[b]=2",
            "`a[b]` is given both as a value and as a group of fields",
        );
        check_error(
            "a[b]=2&a=1",
            "`a` is given both as a value and as a group of fields",
        );
        check_error(
            "name=%FF",
            "a name or value is not UTF-8 once percent-decoded",
        );
        let deep = format!("a{}", "[x]".repeat(MAX_DEPTH + 1));
        check_error(
            &format!("{deep}=1"),
            &format!("`{}…` is nested more than 32 levels deep", &deep[..60]),
        );
        let long = "n".repeat(100);
        check_error(
            &format!("{long}=1&{long}[x]=2"),
            &format!(
                "`{}…` is given both as a value and as a group of fields",
                &long[..60]
            ),
        );
        let deepest = format!("a{}=1", "[x]".repeat(MAX_DEPTH));
        assert!(parse(deepest.as_bytes()).is_ok());
    }
}
