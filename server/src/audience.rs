//! Audience filters: an endpoint may send only the events whose body matches conditions on
//! entry and contestant fields (`user.country_code == "AU"`, `entry.worth >= 2`), all of them
//! or any. This module owns the condition syntax, the checks made when an endpoint is saved
//! ([`Filter::parse`]), the stored JSON form (serde), evaluation against one webhook body
//! ([`Filter::matches`]) and counting a sample ([`preview`]). It is pure: it must not do IO,
//! read the clock or know HTTP. Bodies are plain [`serde_json::Value`]s, so the same filter
//! reads an entry payload or a conversion.
//!
//! # Stored form
//!
//! ```json
//! {"match": "all", "conditions": ["user.country_code == \"AU\"", "entry.worth >= 2"]}
//! ```
//!
//! Conditions are stored as text, in the canonical form [`Condition`]'s `Display` writes
//! (what the admin console shows and people type); reading the JSON parses and checks them
//! again. `match` is `all` (the default) or `any`. A filter without conditions lets every
//! event through, whichever `match` says.
//!
//! # Syntax
//!
//! `path operator value`, with any whitespace between the parts.
//!
//! - The path is written as in templates: dot-separated names, bare (letters, digits, `_`,
//!   `-`) or double-quoted with `\"` and `\\` as the only escapes, the first one bare:
//!   `user.details."How are you?"`. It must be one of the template variables (but `event.*`,
//!   which is not in the body), or `reward`, `coupon`, `entry.upload`, `social_links`,
//!   `social_links.provider|uid|reference`, or any path under `conversion` (whose shape is
//!   open); any question may follow `user.details.`.
//! - Operators: `==` `!=` `<` `<=` `>` `>=`, `contains`, `not contains`, `starts with`,
//!   `ends with`, `in`, `not in`, `exists`, `not exists`.
//! - Values: text in double quotes (same escapes, on one line), JSON numbers, `true`,
//!   `false`, `null`, and for `in` a list of those but `null`: `["AU", "NZ"]`. Bare text is
//!   refused (`== AU`), with a hint to quote it.
//! - Operator words and `true`/`false`/`null` ignore case; the canonical form is lower case
//!   with single spaces.
//!
//! Which values an operator takes: `==` `!=` any; `<` `<=` `>` `>=` a number or text (not
//! text that reads as a number: `< "2"` is refused, write `< 2`); `contains`, `starts with`,
//! `ends with` text; `in` a list; `exists` nothing.
//!
//! # Semantics
//!
//! - **The value decides how a field is compared.** A number compares numerically with a
//!   number field or with text that reads as a number (`"8282"`, `" 42 "`). Quoted text
//!   compares with the field's text: a string as it is, a number or boolean as JSON writes it
//!   (`8282`, `true`). `true`/`false` match a boolean field or the text `true`/`false` in
//!   any case (Gleam's `"I have read the terms and conditions": "true"`).
//! - **Case**: `==`, `!=`, `in`, `not in` and the orderings are exact (`"au"` is not `"AU"`;
//!   text orders by code point, which orders `entry.created_at` by time); `contains`,
//!   `starts with` and `ends with` ignore case.
//! - **Missing fields**: a field that is absent or `null` has no value. Every positive
//!   operator (`==`, `<`…, `contains`, `starts with`, `ends with`, `in`, `exists`) is false
//!   on it, and each `not` operator (`!=`, `not contains`, `not in`, `not exists`) is exactly
//!   the negation of its positive one, so it is true: `user.country_code != "AU"` includes
//!   contestants whose country is unknown, as "everyone but Australians" means. `== null` is
//!   true only when the field has no value. A field whose type does not fit the value (`<`
//!   on text that is not a number) is like a missing one.
//! - **`exists`** is true when the field has content: not missing, and not text that is empty
//!   or only spaces, nor an empty list or object. (Webhook bodies always carry every key, an
//!   unknown country being `""`, so `exists` is the useful test of whether one is known.)
//! - **Lists**: a path that reaches a list reaches each of its elements, at any step, and a
//!   positive operator holds if it holds for any of them: `social_links.provider == "twitter"`
//!   is true when one of the links is Twitter, `!=` when none is; `contains` on a list of
//!   texts looks for the substring in each element. Objects have no text; only `exists`
//!   tests them.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::templating::{self, ANY_NAME, Position, is_name_char};

/// Paths a filter may use besides the template variables: parts that are objects or lists,
/// which a template cannot render but `exists` can test, and the fields of social links.
const FILTER_ONLY_PATHS: &[&str] = &[
    "reward",
    "coupon",
    "entry.upload",
    "social_links",
    "social_links.provider",
    "social_links.uid",
    "social_links.reference",
];

/// The root of the template variables that are not part of the body.
const EVENT_ROOT: &str = "event";

/// The root under which any path is accepted: conversions have no fixed shape.
const OPEN_ROOT: &str = "conversion";

/// Whether an event must match every condition or at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    #[default]
    All,
    Any,
}

impl Match {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Any => "any",
        }
    }
}

/// An endpoint's audience: which event bodies it sends.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "StoredFilter", into = "StoredFilter")]
pub struct Filter {
    match_mode: Match,
    conditions: Vec<Condition>,
}

/// The JSON a filter is stored and exchanged as.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredFilter {
    #[serde(rename = "match", default)]
    match_mode: Match,
    #[serde(default)]
    conditions: Vec<String>,
}

impl TryFrom<StoredFilter> for Filter {
    type Error = FilterError;

    fn try_from(stored: StoredFilter) -> Result<Self, Self::Error> {
        Self::parse(stored.match_mode, &stored.conditions)
    }
}

impl From<Filter> for StoredFilter {
    fn from(filter: Filter) -> Self {
        Self {
            match_mode: filter.match_mode,
            conditions: filter.conditions.iter().map(ToString::to_string).collect(),
        }
    }
}

impl Filter {
    /// The filter that lets every event through.
    pub fn everyone() -> Self {
        Self::default()
    }

    /// Parses conditions as people type them; rejects the first bad one with its index and
    /// the position of the problem in it.
    pub fn parse<S: AsRef<str>>(match_mode: Match, conditions: &[S]) -> Result<Self, FilterError> {
        let conditions = conditions
            .iter()
            .enumerate()
            .map(|(index, source)| {
                let source = source.as_ref();
                Parser::new(source)
                    .parse_condition()
                    .map_err(|error| FilterError {
                        index,
                        kind: error.kind,
                        position: Position::at(source, error.offset),
                        message: error.message,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            match_mode,
            conditions,
        })
    }

    pub fn match_mode(&self) -> Match {
        self.match_mode
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Whether the endpoint should send this event body.
    pub fn matches(&self, body: &Value) -> bool {
        if self.conditions.is_empty() {
            return true;
        }
        match self.match_mode {
            Match::All => self.conditions.iter().all(|c| c.matches(body)),
            Match::Any => self.conditions.iter().any(|c| c.matches(body)),
        }
    }
}

/// The conditions joined by `and` or `or`, or `everyone`: a one-line summary.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conditions.is_empty() {
            return f.write_str("everyone");
        }
        let joiner = match self.match_mode {
            Match::All => " and ",
            Match::Any => " or ",
        };
        for (index, condition) in self.conditions.iter().enumerate() {
            if index > 0 {
                f.write_str(joiner)?;
            }
            write!(f, "{condition}")?;
        }
        Ok(())
    }
}

/// How many of a sample of event bodies a filter lets through: "would have sent 12 of 50".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub matched: usize,
    pub total: usize,
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {}", self.matched, self.total)
    }
}

pub fn preview(filter: &Filter, bodies: &[Value]) -> Preview {
    Preview {
        matched: bodies.iter().filter(|body| filter.matches(body)).count(),
        total: bodies.len(),
    }
}

/// One checked condition. Built only by parsing, so its `Display` (the canonical text)
/// always parses back to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    path: Vec<String>,
    operator: Operator,
    operand: Operand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    Exists,
    NotExists,
}

impl Operator {
    fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "==",
            Self::NotEqual => "!=",
            Self::Less => "<",
            Self::LessOrEqual => "<=",
            Self::Greater => ">",
            Self::GreaterOrEqual => ">=",
            Self::Contains => "contains",
            Self::NotContains => "not contains",
            Self::StartsWith => "starts with",
            Self::EndsWith => "ends with",
            Self::In => "in",
            Self::NotIn => "not in",
            Self::Exists => "exists",
            Self::NotExists => "not exists",
        }
    }

    /// The positive operator and whether this one negates it.
    fn positive(self) -> (Self, bool) {
        match self {
            Self::NotEqual => (Self::Equal, true),
            Self::NotContains => (Self::Contains, true),
            Self::NotIn => (Self::In, true),
            Self::NotExists => (Self::Exists, true),
            other => (other, false),
        }
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            Self::Less | Self::LessOrEqual | Self::Greater | Self::GreaterOrEqual
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Text(String),
    Number(Number),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Nothing,
    One(Literal),
    List(Vec<Literal>),
}

impl Condition {
    /// Whether this one condition holds for `body`.
    pub fn matches(&self, body: &Value) -> bool {
        let mut values = Vec::new();
        reach(body, &self.path, &mut values);
        let (operator, negated) = self.operator.positive();
        holds(operator, &self.operand, &values) != negated
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", display_path(&self.path), self.operator.as_str())?;
        match &self.operand {
            Operand::Nothing => Ok(()),
            Operand::One(literal) => write!(f, " {literal}"),
            Operand::List(items) => {
                f.write_str(" [")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => f.write_str(&quote(text)),
            Self::Number(number) => write!(f, "{number}"),
            Self::Bool(value) => write!(f, "{value}"),
            Self::Null => f.write_str("null"),
        }
    }
}

/// Collects the values `path` reaches from `value`: lists are entered element by element at
/// every step, and `null` is no value.
fn reach<'a>(value: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                reach(item, path, out);
            }
        }
        _ => match path.split_first() {
            None => out.push(value),
            Some((name, rest)) => {
                if let Some(child) = value.get(name.as_str()) {
                    reach(child, rest, out);
                }
            }
        },
    }
}

/// Whether a positive operator holds for any of the values reached.
fn holds(operator: Operator, operand: &Operand, values: &[&Value]) -> bool {
    match (operator, operand) {
        (Operator::Exists, _) => values.iter().any(|value| has_content(value)),
        (Operator::Equal, Operand::One(Literal::Null)) => values.is_empty(),
        (Operator::In, Operand::List(items)) => values
            .iter()
            .any(|value| items.iter().any(|item| equals(value, item))),
        (_, Operand::One(literal)) => values.iter().any(|value| test(operator, value, literal)),
        // The parser builds no other pairs.
        _ => false,
    }
}

fn test(operator: Operator, value: &Value, literal: &Literal) -> bool {
    match operator {
        Operator::Equal => equals(value, literal),
        Operator::Less => compare(value, literal).is_some_and(Ordering::is_lt),
        Operator::LessOrEqual => compare(value, literal).is_some_and(Ordering::is_le),
        Operator::Greater => compare(value, literal).is_some_and(Ordering::is_gt),
        Operator::GreaterOrEqual => compare(value, literal).is_some_and(Ordering::is_ge),
        Operator::Contains => search(value, literal, |text, part| text.contains(part)),
        Operator::StartsWith => search(value, literal, |text, part| text.starts_with(part)),
        Operator::EndsWith => search(value, literal, |text, part| text.ends_with(part)),
        _ => false,
    }
}

fn has_content(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.trim().is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn equals(value: &Value, literal: &Literal) -> bool {
    match literal {
        Literal::Text(text) => text_of(value).is_some_and(|own| own == text.as_str()),
        Literal::Number(number) => number_of(value)
            .is_some_and(|own| compare_numbers(&own, number) == Some(Ordering::Equal)),
        Literal::Bool(expected) => match value {
            Value::Bool(own) => own == expected,
            Value::String(text) => {
                text.trim()
                    .eq_ignore_ascii_case(if *expected { "true" } else { "false" })
            }
            _ => false,
        },
        // Reached values are never null; `== null` is decided in `holds`.
        Literal::Null => false,
    }
}

fn compare(value: &Value, literal: &Literal) -> Option<Ordering> {
    match literal {
        Literal::Number(number) => compare_numbers(&number_of(value)?, number),
        Literal::Text(text) => Some(text_of(value)?.as_ref().cmp(text.as_str())),
        Literal::Bool(_) | Literal::Null => None,
    }
}

/// Case-insensitive text search of the field's text for the literal's.
fn search(value: &Value, literal: &Literal, found: fn(&str, &str) -> bool) -> bool {
    match (text_of(value), literal) {
        (Some(text), Literal::Text(part)) => found(&text.to_lowercase(), &part.to_lowercase()),
        _ => false,
    }
}

/// A field's text: strings as they are, numbers and booleans as JSON writes them.
fn text_of(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Number(number) => Some(Cow::Owned(number.to_string())),
        Value::Bool(value) => Some(Cow::Borrowed(if *value { "true" } else { "false" })),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A field as a number: a number, or text that reads as one.
fn number_of(value: &Value) -> Option<Number> {
    match value {
        Value::Number(number) => Some(number.clone()),
        Value::String(text) => number_in_text(text),
        _ => None,
    }
}

/// Reads text such as `8282`, ` 42 `, `0800`, `-1.5` or `2e3` as a number; refuses `inf`,
/// `NaN` and anything else Rust's float parser would take but a person would not call a
/// number.
fn number_in_text(text: &str) -> Option<Number> {
    let text = text.trim();
    if !text.chars().any(|ch| ch.is_ascii_digit())
        || !text
            .chars()
            .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '-' | '.' | 'e' | 'E'))
    {
        return None;
    }
    if let Ok(integer) = text.parse::<u64>() {
        return Some(integer.into());
    }
    if let Ok(integer) = text.parse::<i64>() {
        return Some(integer.into());
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

/// Integers compare exactly (ids exceed what `f64` holds exactly); anything else as `f64`.
fn compare_numbers(left: &Number, right: &Number) -> Option<Ordering> {
    if let (Some(left), Some(right)) = (left.as_i64(), right.as_i64()) {
        return Some(left.cmp(&right));
    }
    if let (Some(left), Some(right)) = (left.as_u64(), right.as_u64()) {
        return Some(left.cmp(&right));
    }
    left.as_f64()?.partial_cmp(&right.as_f64()?)
}

/// Why a filter was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// The condition is blank.
    Empty,
    /// The path is malformed: an empty name, a character a bare name cannot hold, a quoted
    /// first name, an unterminated quote or an unknown escape in quotes.
    BadPath,
    /// The path is well formed but names no field a filter may test.
    UnknownVariable(String),
    /// No operator after the path, or one the syntax does not have (`=`, `like`).
    BadOperator,
    /// The value is missing, malformed (an unterminated string or list, a bad number, bare
    /// text) or of a kind the operator does not take.
    BadValue,
    /// Text after a complete condition.
    Unexpected,
}

/// A filter rejected when an endpoint is saved. `index` counts conditions from 0; the
/// message counts them from 1, as people do. `position` is within that condition's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("condition {}: {message} (at {position})", .index + 1)]
pub struct FilterError {
    pub index: usize,
    pub kind: FilterErrorKind,
    pub position: Position,
    pub message: String,
}

/// An error in one condition, at a byte offset of its text.
#[derive(Debug)]
struct ConditionError {
    kind: FilterErrorKind,
    offset: usize,
    message: String,
}

#[derive(Debug)]
struct Parser<'a> {
    source: &'a str,
    offset: usize,
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Self {
        Self { source, offset: 0 }
    }

    fn error(&self, kind: FilterErrorKind, offset: usize, message: String) -> ConditionError {
        ConditionError {
            kind,
            offset,
            message,
        }
    }

    fn rest(&self) -> &'a str {
        &self.source[self.offset..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) {
        if let Some(ch) = self.peek() {
            self.offset += ch.len_utf8();
        }
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Takes the longest run of characters `keep` accepts.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.offset;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        &self.source[start..self.offset]
    }

    fn parse_condition(mut self) -> Result<Condition, ConditionError> {
        self.skip_whitespace();
        if self.peek().is_none() {
            return Err(self.error(
                FilterErrorKind::Empty,
                0,
                "the condition is empty; write one such as `user.country_code == \"AU\"`".into(),
            ));
        }
        let path_start = self.offset;
        let path = self.parse_path()?;
        check_known(&path).map_err(|message| {
            self.error(
                FilterErrorKind::UnknownVariable(display_path(&path)),
                path_start,
                message,
            )
        })?;
        self.skip_whitespace();
        let operator = self.parse_operator()?;
        self.skip_whitespace();
        let operand = self.parse_operand(operator)?;
        self.skip_whitespace();
        if let Some(ch) = self.peek() {
            let message = if operator.positive().0 == Operator::Exists {
                format!("`{}` takes no value", operator.as_str())
            } else {
                format!("unexpected `{ch}` after the condition; write each condition separately")
            };
            return Err(self.error(FilterErrorKind::Unexpected, self.offset, message));
        }
        Ok(Condition {
            path,
            operator,
            operand,
        })
    }

    fn parse_path(&mut self) -> Result<Vec<String>, ConditionError> {
        if self.peek() == Some('"') {
            return Err(self.error(
                FilterErrorKind::BadPath,
                self.offset,
                "a path starts with a bare name such as `user`; only later names may be quoted"
                    .into(),
            ));
        }
        let mut path = vec![self.parse_name()?];
        while self.peek() == Some('.') {
            self.bump();
            path.push(self.parse_name()?);
        }
        Ok(path)
    }

    /// One name of a path: bare or quoted.
    fn parse_name(&mut self) -> Result<String, ConditionError> {
        let start = self.offset;
        if self.peek() == Some('"') {
            let name = self.parse_quoted(FilterErrorKind::BadPath)?;
            if name.is_empty() {
                return Err(self.error(
                    FilterErrorKind::BadPath,
                    start,
                    "a quoted name cannot be empty".into(),
                ));
            }
            return Ok(name);
        }
        let name = self.take_while(is_name_char);
        if name.is_empty() {
            let message = match self.peek() {
                Some(ch) if !ch.is_whitespace() && ch != '.' => format!(
                    "`{ch}` cannot appear in a bare name; quote the name, as in `user.details.\"{ch}\"`"
                ),
                _ => "expected a name".to_owned(),
            };
            return Err(self.error(FilterErrorKind::BadPath, start, message));
        }
        Ok(name.to_owned())
    }

    /// A double-quoted string starting at the current `"`; ends on the same line.
    fn parse_quoted(&mut self, kind: FilterErrorKind) -> Result<String, ConditionError> {
        let quote = self.offset;
        self.bump();
        let mut text = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | '\r') => {
                    return Err(self.error(
                        kind,
                        quote,
                        "this quote is not closed on its line".into(),
                    ));
                }
                Some('"') => {
                    self.bump();
                    return Ok(text);
                }
                Some('\\') => {
                    let backslash = self.offset;
                    self.bump();
                    match self.peek() {
                        Some(ch @ ('"' | '\\')) => {
                            text.push(ch);
                            self.bump();
                        }
                        _ => {
                            return Err(self.error(
                                kind,
                                backslash,
                                "in quotes, a backslash may only escape `\"` or `\\`".into(),
                            ));
                        }
                    }
                }
                Some(ch) => {
                    text.push(ch);
                    self.bump();
                }
            }
        }
    }

    fn parse_operator(&mut self) -> Result<Operator, ConditionError> {
        let start = self.offset;
        let bad = |message: String| ConditionError {
            kind: FilterErrorKind::BadOperator,
            offset: start,
            message,
        };
        for (symbol, operator) in [
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("<=", Operator::LessOrEqual),
            (">=", Operator::GreaterOrEqual),
            ("<", Operator::Less),
            (">", Operator::Greater),
        ] {
            if self.rest().starts_with(symbol) {
                self.offset += symbol.len();
                return Ok(operator);
            }
        }
        match self.peek() {
            None => {
                return Err(bad(
                    "expected an operator such as `==`, `contains` or `exists` after the path"
                        .into(),
                ));
            }
            Some('=') => return Err(bad("write `==` to compare".into())),
            Some(ch) if !ch.is_alphabetic() => {
                return Err(bad(format!(
                    "expected an operator such as `==`, `contains` or `exists`, found `{ch}`"
                )));
            }
            Some(_) => {}
        }
        let word = self.take_while(char::is_alphabetic).to_lowercase();
        let operator = match word.as_str() {
            "contains" => Operator::Contains,
            "in" => Operator::In,
            "exists" => Operator::Exists,
            "starts" | "ends" => {
                self.skip_whitespace();
                if !self
                    .take_while(char::is_alphabetic)
                    .eq_ignore_ascii_case("with")
                {
                    return Err(bad(format!("write `{word} with`")));
                }
                if word == "starts" {
                    Operator::StartsWith
                } else {
                    Operator::EndsWith
                }
            }
            "not" => {
                self.skip_whitespace();
                match self.take_while(char::is_alphabetic).to_lowercase().as_str() {
                    "contains" => Operator::NotContains,
                    "in" => Operator::NotIn,
                    "exists" => Operator::NotExists,
                    _ => {
                        return Err(bad(
                            "`not` goes with `contains`, `in` or `exists`; write `!=` for not equal"
                                .into(),
                        ));
                    }
                }
            }
            _ => {
                return Err(bad(format!(
                    "unknown operator `{word}`; a name with spaces or punctuation is written in \
                     quotes, as in `user.details.\"How are you?\"`"
                )));
            }
        };
        Ok(operator)
    }

    fn parse_operand(&mut self, operator: Operator) -> Result<Operand, ConditionError> {
        let start = self.offset;
        let bad = |message: String| ConditionError {
            kind: FilterErrorKind::BadValue,
            offset: start,
            message,
        };
        let name = operator.as_str();
        match operator.positive().0 {
            Operator::Exists => Ok(Operand::Nothing),
            Operator::In => {
                if self.peek() != Some('[') {
                    return Err(bad(format!(
                        "`{name}` takes a list, as in `[\"AU\", \"NZ\"]`"
                    )));
                }
                self.parse_list()
            }
            _ => {
                if self.peek() == Some('[') {
                    return Err(bad(format!(
                        "`{name}` takes one value; write `in` to compare with a list"
                    )));
                }
                let literal = self.parse_literal(name)?;
                match (&literal, operator) {
                    (_, Operator::Equal | Operator::NotEqual) => {}
                    (Literal::Number(_), ordering) if ordering.is_ordering() => {}
                    (Literal::Text(text), ordering) if ordering.is_ordering() => {
                        if number_in_text(text).is_some() {
                            return Err(bad(format!(
                                "write {} without quotes to compare numbers",
                                text.trim()
                            )));
                        }
                    }
                    (_, ordering) if ordering.is_ordering() => {
                        return Err(bad(format!("`{name}` compares numbers or text")));
                    }
                    (Literal::Text(_), _) => {}
                    (other, _) => {
                        return Err(bad(format!(
                            "`{name}` takes text in quotes, as in `\"{}\"`",
                            other.to_string().trim_matches('"')
                        )));
                    }
                }
                Ok(Operand::One(literal))
            }
        }
    }

    /// A list starting at the current `[`.
    fn parse_list(&mut self) -> Result<Operand, ConditionError> {
        let open = self.offset;
        self.bump();
        self.skip_whitespace();
        let mut items = Vec::new();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Operand::List(items));
        }
        loop {
            let start = self.offset;
            if self.peek() == Some('[') {
                return Err(self.error(
                    FilterErrorKind::BadValue,
                    start,
                    "lists cannot be nested".into(),
                ));
            }
            let item = self.parse_literal("a list")?;
            if item == Literal::Null {
                return Err(self.error(
                    FilterErrorKind::BadValue,
                    start,
                    "a list cannot hold `null`; test a missing field with `not exists`".into(),
                ));
            }
            items.push(item);
            self.skip_whitespace();
            match self.peek() {
                Some(',') => {
                    self.bump();
                    self.skip_whitespace();
                }
                Some(']') => {
                    self.bump();
                    return Ok(Operand::List(items));
                }
                None => {
                    return Err(self.error(
                        FilterErrorKind::BadValue,
                        open,
                        "this list is not closed by `]`".into(),
                    ));
                }
                Some(ch) => {
                    return Err(self.error(
                        FilterErrorKind::BadValue,
                        self.offset,
                        format!("expected `,` or `]` in the list, found `{ch}`"),
                    ));
                }
            }
        }
    }

    /// One value; `after` names what it follows, for messages.
    fn parse_literal(&mut self, after: &str) -> Result<Literal, ConditionError> {
        let start = self.offset;
        let bad = |message: String| ConditionError {
            kind: FilterErrorKind::BadValue,
            offset: start,
            message,
        };
        match self.peek() {
            None => Err(bad(format!("expected a value after `{after}`"))),
            Some('"') => Ok(Literal::Text(self.parse_quoted(FilterErrorKind::BadValue)?)),
            Some(ch) if ch == '-' || ch.is_ascii_digit() => {
                let token = self
                    .take_while(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '+' | '-'));
                serde_json::from_str::<Number>(token)
                    .map(Literal::Number)
                    .map_err(|_| bad(format!("`{token}` is not a number")))
            }
            Some(ch) if is_name_char(ch) => {
                let word = self.take_while(is_name_char);
                match word.to_lowercase().as_str() {
                    "true" => Ok(Literal::Bool(true)),
                    "false" => Ok(Literal::Bool(false)),
                    "null" => Ok(Literal::Null),
                    _ => Err(bad(format!(
                        "text is written in quotes, as in `\"{word}\"`"
                    ))),
                }
            }
            Some(ch) => Err(bad(format!("expected a value, found `{ch}`"))),
        }
    }
}

/// The fixed paths a filter accepts (`<question>` standing for any name); `conversion.*`
/// is accepted besides.
fn known_paths() -> impl Iterator<Item = &'static str> {
    templating::known_variables()
        .iter()
        .filter(|known| known.split('.').next() != Some(EVENT_ROOT))
        .chain(FILTER_ONLY_PATHS)
        .copied()
}

/// Accepts the paths the module docs list; otherwise says what was meant.
fn check_known(path: &[String]) -> Result<(), String> {
    if path.len() > 1 && path[0] == OPEN_ROOT {
        return Ok(());
    }
    let matches = |known: &str| {
        let known: Vec<&str> = known.split('.').collect();
        known.len() == path.len()
            && known
                .iter()
                .zip(path)
                .all(|(known, name)| *known == ANY_NAME || known == name)
    };
    if known_paths().any(matches) {
        return Ok(());
    }
    let written = display_path(path);
    let hint = if path.len() > 3 && path[0] == "user" && path[1] == "details" {
        "; a question whose name has a dot is written in quotes, as in `user.details.\"a.b\"`"
            .to_owned()
    } else if path[0] == OPEN_ROOT {
        format!("; name a field of the conversion, as in `{OPEN_ROOT}.total`")
    } else {
        let root_prefix = format!("{}.", path[0]);
        let siblings: Vec<&str> = known_paths()
            .filter_map(|known| known.strip_prefix(&root_prefix))
            .collect();
        if siblings.is_empty() {
            "; fields start with `campaign`, `reward`, `coupon`, `user`, `entry`, \
             `social_links` or `conversion`"
                .to_owned()
        } else {
            format!("; `{}` has: {}", path[0], siblings.join(", "))
        }
    };
    Err(format!("unknown field `{written}`{hint}"))
}

/// A path as it is written: names that are not bare are quoted.
fn display_path(path: &[String]) -> String {
    let names: Vec<String> = path
        .iter()
        .map(|name| {
            if !name.is_empty() && name.chars().all(is_name_char) {
                name.clone()
            } else {
                quote(name)
            }
        })
        .collect();
    names.join(".")
}

/// `text` in double quotes with the only two escapes the syntax has. (Not JSON's quoting,
/// which writes a tab as `\t`, an escape the syntax does not have.)
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const GLEAM_EXAMPLE: &str = include_str!("../../protocol/fixtures/gleam_example.json");

    fn gleam_body() -> Value {
        serde_json::from_str(GLEAM_EXAMPLE).expect("fixture parses")
    }

    /// The Gleam example with answers of every shape a filter must read.
    fn sample() -> Value {
        let mut body = gleam_body();
        let details = &mut body["user"]["details"];
        details["Age"] = json!("42");
        details["Blank"] = json!("  ");
        details["Nothing"] = Value::Null;
        details["Tags"] = json!(["VIP", "gold"]);
        details["Consent"] = json!(true);
        details[r#"say "hi" \ o/"#] = json!("quoted");
        body["social_links"] = json!([
            {"provider": "twitter", "uid": "1", "reference": "gleamapp"},
            {"provider": "instagram", "uid": "2", "reference": "gleam"},
        ]);
        body
    }

    fn check(condition: &str, expected: bool) {
        check_on(&sample(), condition, expected);
    }

    fn check_on(body: &Value, condition: &str, expected: bool) {
        let filter = Filter::parse(Match::All, &[condition])
            .unwrap_or_else(|error| panic!("{condition:?} should parse: {error}"));
        assert_eq!(filter.matches(body), expected, "{condition}");
    }

    fn check_error(condition: &str, kind: FilterErrorKind, line: usize, column: usize) {
        match Filter::parse(Match::All, &[condition]) {
            Ok(filter) => panic!("{condition:?} should be rejected, parsed as {filter:?}"),
            Err(error) => {
                assert_eq!(error.kind, kind, "{condition:?}: {error}");
                assert_eq!(
                    (error.position.line, error.position.column),
                    (line, column),
                    "{condition:?}: {error}"
                );
                assert_eq!(error.index, 0);
                assert!(!error.message.is_empty());
            }
        }
    }

    fn unknown(path: &str) -> FilterErrorKind {
        FilterErrorKind::UnknownVariable(path.to_owned())
    }

    #[test]
    fn equality_is_exact() {
        check(r#"user.country_code == "AU""#, true);
        check(r#"user.country_code == "au""#, false);
        check(r#"user.country_code != "AU""#, false);
        check(r#"user.country_code != "NZ""#, true);
        check(r#"campaign.type == "Competition""#, true);
        check(r#"user.city == "Bloggstown ""#, false);
    }

    #[test]
    fn numbers_and_numeric_text() {
        check("entry.worth == 1", true);
        check("entry.worth == 1.0", true);
        check("entry.worth != 1", false);
        check("user.details.Postcode == 8282", true);
        check(r#"user.details.Postcode == "8282""#, true);
        check(r#"user.details.Postcode == "08282""#, false);
        check("user.details.Age == 42", true);
        check(r#"user.details.Age == "42""#, true);
        check("user.details.Age == 42.5", false);
        check("user.email == 42", false);
        check("entry.id == 244523423", true);
        check("entry.id > 244523422", true);
        check("entry.id >= 18446744073709551615", false);
    }

    #[test]
    fn orderings() {
        check("entry.worth >= 2", false);
        check("entry.worth >= 1", true);
        check("entry.worth > 0", true);
        check("entry.worth > 1", false);
        check("entry.worth < 1", false);
        check("entry.worth <= 1", true);
        check("entry.worth > -1.5", true);
        check("user.details.Age > 41.5", true);
        check("user.details.Age < 1e2", true);
        check("user.details.Postcode < 9000", true);
        check("user.email < 5", false);
        check("user.email >= 5", false);
        check(r#"entry.created_at >= "2015-11-18""#, true);
        check(r#"entry.created_at < "2015-11-18""#, false);
        check(r#"entry.created_at < "2015-11-19""#, true);
    }

    #[test]
    fn booleans_match_booleans_and_their_text() {
        check(
            r#"user.details."I have read the terms and conditions" == true"#,
            true,
        );
        check(
            r#"user.details."I have read the terms and conditions" == false"#,
            false,
        );
        check("user.details.Consent == true", true);
        check("user.details.Consent != true", false);
        check(r#"user.details.Consent == "true""#, true);
        check("user.email == true", false);
    }

    #[test]
    fn text_search_ignores_case() {
        check(r#"user.details."How are you?" contains "great""#, true);
        check(r#"user.details."How are you?" contains "THANKS""#, true);
        check(r#"user.details."How are you?" contains "bad""#, false);
        check(r#"user.details."How are you?" not contains "bad""#, true);
        check(r#"user.details."How are you?" not contains "GREAT""#, false);
        check(r#"user.details.Postcode contains "82""#, true);
        check(r#"user.email starts with "JOE@""#, true);
        check(r#"user.email starts with "bloggs""#, false);
        check(r#"user.email ends with "Example.COM""#, true);
        check(r#"user.email ends with "example.org""#, false);
        check(r#"user.email contains """#, true);
    }

    #[test]
    fn lists() {
        check(
            r#"entry.type in ["email_subscribe", "custom_question"]"#,
            true,
        );
        check(r#"entry.type in ["visit_url", "referral"]"#, false);
        check(r#"entry.type not in ["visit_url"]"#, true);
        check(r#"entry.type not in ["email_subscribe"]"#, false);
        check(r#"entry.type in ["EMAIL_SUBSCRIBE"]"#, false);
        check("entry.worth in [1, 2]", true);
        check("entry.worth in [2, 3]", false);
        check(r#"user.details.Postcode in ["8282", 1]"#, true);
        check("user.details.Consent in [true]", true);
        check("entry.type in []", false);
        check("entry.type not in []", true);
    }

    #[test]
    fn paths_through_lists_reach_each_element() {
        check(r#"social_links.provider == "twitter""#, true);
        check(r#"social_links.provider == "instagram""#, true);
        check(r#"social_links.provider == "facebook""#, false);
        check(r#"social_links.provider != "twitter""#, false);
        check(r#"social_links.provider != "facebook""#, true);
        check(
            r#"social_links.provider in ["facebook", "instagram"]"#,
            true,
        );
        check(r#"user.details.Tags == "VIP""#, true);
        check(r#"user.details.Tags == "vip""#, false);
        check(r#"user.details.Tags != "gold""#, false);
        check(r#"user.details.Tags contains "vi""#, true);
        check(r#"user.details.Tags not contains "silver""#, true);
        check("social_links exists", true);

        let mut no_links = sample();
        no_links["social_links"] = json!([]);
        check_on(&no_links, "social_links exists", false);
        check_on(&no_links, "social_links not exists", true);
        check_on(&no_links, r#"social_links.provider != "twitter""#, true);
    }

    #[test]
    fn exists_means_has_content() {
        check("reward exists", true);
        check("entry.upload exists", true);
        check("user.details exists", true);
        check("user.details.Postcode exists", true);
        check("user.details.Consent exists", true);
        check("user.details.Nothing exists", false);
        check("user.details.Blank exists", false);
        check("user.details.Unasked exists", false);
        check("user.details.Nothing not exists", true);
        check("user.details.Blank not exists", true);
        check("user.email not exists", false);

        let mut unknown_country = sample();
        unknown_country["user"]["country_code"] = json!("");
        unknown_country["user"]["details"] = json!({});
        check_on(&unknown_country, "user.country_code exists", false);
        check_on(&unknown_country, "user.details exists", false);
        check_on(&unknown_country, r#"user.country_code == """#, true);
    }

    #[test]
    fn null_is_no_value() {
        check("user.details.Nothing == null", true);
        check("user.details.Unasked == null", true);
        check("user.email == null", false);
        check("user.details.Nothing != null", false);
        check("user.email != null", true);
    }

    /// A missing field fails every positive operator and passes every `not` one, whether it
    /// is absent, `null`, or under a part that is `null`.
    #[test]
    fn missing_fields() {
        let mut body = sample();
        body["reward"] = Value::Null;
        body["entry"]["upload"] = Value::Null;
        let cases = [
            (r#"== "x""#, false),
            (r#"!= "x""#, true),
            ("== 1", false),
            ("!= 1", true),
            ("< 1", false),
            ("<= 1", false),
            ("> 1", false),
            (">= 1", false),
            (r#"contains "x""#, false),
            (r#"not contains "x""#, true),
            (r#"starts with "x""#, false),
            (r#"ends with "x""#, false),
            (r#"in ["x", 1]"#, false),
            (r#"not in ["x", 1]"#, true),
            ("exists", false),
            ("not exists", true),
        ];
        for path in [
            "user.details.Unasked",
            "user.details.Nothing",
            "reward.code",
            "entry.upload.thumb_url",
            "conversion.total",
        ] {
            for (operator, expected) in cases {
                check_on(&body, &format!("{path} {operator}"), expected);
            }
        }
        check_on(&json!({}), r#"user.country_code != "AU""#, true);
        check_on(&json!({}), r#"user.country_code == "AU""#, false);
        check_on(&json!("not an object"), "entry.worth >= 2", false);
    }

    #[test]
    fn conversions_are_read_under_their_root() {
        let conversion = json!({"conversion": {
            "email": "ann@example.com",
            "total": "49.90",
            "products": [{"name": "Sneakers", "total": 49.9}, {"name": "Socks"}],
        }});
        check_on(&conversion, "conversion.total > 40", true);
        check_on(
            &conversion,
            r#"conversion.products.name contains "sneak""#,
            true,
        );
        check_on(&conversion, "conversion.products.total >= 49.9", true);
        check_on(&conversion, r#"user.country_code == "AU""#, false);
        check_on(&sample(), "conversion.total > 40", false);
    }

    #[test]
    fn quoted_names() {
        check(r#"user.details."say \"hi\" \\ o/" == "quoted""#, true);
        check(r#"user."email" == "joe@example.com""#, true);
        check(r#"user.details."Postcode" == 8282"#, true);
        check(r#"user.details."How are you?" == "Great, thanks!""#, true);
        check(r#"user.details."how are you?" exists"#, false);
    }

    #[test]
    fn all_needs_every_condition_any_needs_one() {
        let body = sample();
        let conditions = [r#"user.country_code == "AU""#, "entry.worth >= 2"];
        let all = Filter::parse(Match::All, &conditions).expect("parses");
        let any = Filter::parse(Match::Any, &conditions).expect("parses");
        assert!(!all.matches(&body));
        assert!(any.matches(&body));
        let both = [r#"user.country_code == "AU""#, "entry.worth >= 1"];
        assert!(
            Filter::parse(Match::All, &both)
                .expect("parses")
                .matches(&body)
        );
        let neither = [r#"user.country_code == "NZ""#, "entry.worth >= 2"];
        assert!(
            !Filter::parse(Match::Any, &neither)
                .expect("parses")
                .matches(&body)
        );
        let none: [&str; 0] = [];
        for match_mode in [Match::All, Match::Any] {
            let filter = Filter::parse(match_mode, &none).expect("parses");
            assert!(filter.matches(&body), "{match_mode:?} without conditions");
            assert_eq!(filter.match_mode(), match_mode);
        }
    }

    #[test]
    fn empty_conditions() {
        use FilterErrorKind::Empty;
        check_error("", Empty, 1, 1);
        check_error("  \t\n ", Empty, 1, 1);
    }

    #[test]
    fn unknown_variables_are_rejected_where_they_start() {
        check_error(r#"user.emial == "x""#, unknown("user.emial"), 1, 1);
        check_error("  usr.email exists", unknown("usr.email"), 1, 3);
        check_error(r#"User.email == "x""#, unknown("User.email"), 1, 1);
        check_error("user exists", unknown("user"), 1, 1);
        check_error(
            r#"event.type == "entry.created""#,
            unknown("event.type"),
            1,
            1,
        );
        check_error("user.details.a.b exists", unknown("user.details.a.b"), 1, 1);
        check_error(
            "user.email.domain exists",
            unknown("user.email.domain"),
            1,
            1,
        );
        check_error("conversion exists", unknown("conversion"), 1, 1);
        check_error(
            r#"user."first name" exists"#,
            unknown(r#"user."first name""#),
            1,
            1,
        );

        let error = Filter::parse(Match::All, &["entry.wrth > 1"]).expect_err("unknown");
        assert!(error.message.contains("worth"), "{}", error.message);
        let error = Filter::parse(Match::All, &["usr.email exists"]).expect_err("unknown");
        assert!(
            error.message.contains("`social_links`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn bad_paths() {
        use FilterErrorKind::BadPath;
        check_error(r#"user..email == "x""#, BadPath, 1, 6);
        check_error("user. email exists", BadPath, 1, 6);
        check_error(".user exists", BadPath, 1, 1);
        check_error(r#""user".email exists"#, BadPath, 1, 1);
        check_error(r#"user.details."" exists"#, BadPath, 1, 14);
        // The quote closes before `great`, which then reads as an operator.
        check_error(
            r#"user.details."How are you? contains "great"#,
            FilterErrorKind::BadOperator,
            1,
            38,
        );
        check_error(r#"user.details."How are you? exists"#, BadPath, 1, 14);
        check_error(r#"user.details."a\nb" exists"#, BadPath, 1, 16);
        check_error("user.details.€ exists", BadPath, 1, 14);
    }

    #[test]
    fn bad_operators() {
        use FilterErrorKind::BadOperator;
        check_error(r#"user.email = "x""#, BadOperator, 1, 12);
        check_error(r#"user.email like "x""#, BadOperator, 1, 12);
        check_error("user.email", BadOperator, 1, 11);
        check_error("user.email   ", BadOperator, 1, 14);
        check_error(r#"user.email ~ "x""#, BadOperator, 1, 12);
        check_error(
            r#"user.details.How are you? contains "x""#,
            BadOperator,
            1,
            18,
        );
        check_error(r#"user.email not equal "x""#, BadOperator, 1, 12);
        check_error(r#"user.email starts "x""#, BadOperator, 1, 12);
        check_error(r#"user.email ends on "x""#, BadOperator, 1, 12);

        let error =
            Filter::parse(Match::All, &["user.details.How are you? exists"]).expect_err("unquoted");
        assert!(error.message.contains("quotes"), "{}", error.message);
    }

    #[test]
    fn bad_values() {
        use FilterErrorKind::BadValue;
        check_error(r#"user.email == "joe"#, BadValue, 1, 15);
        check_error(r#"user.email == "a\nb""#, BadValue, 1, 17);
        check_error("user.email == \"a\nb\"", BadValue, 1, 15);
        check_error("user.email ==", BadValue, 1, 14);
        check_error("user.country_code == AU", BadValue, 1, 22);
        check_error("entry.worth >= 2x", BadValue, 1, 16);
        check_error("entry.worth >= 01", BadValue, 1, 16);
        check_error("entry.worth >= -", BadValue, 1, 16);
        check_error("entry.worth >= 1e400", BadValue, 1, 16);
        check_error(r#"entry.worth >= "2""#, BadValue, 1, 16);
        check_error("entry.worth > true", BadValue, 1, 15);
        check_error("entry.worth > null", BadValue, 1, 15);
        check_error("user.email contains 5", BadValue, 1, 21);
        check_error("user.email starts with null", BadValue, 1, 24);
        check_error(r#"entry.type in "email_subscribe""#, BadValue, 1, 15);
        check_error(r#"entry.type == ["a"]"#, BadValue, 1, 15);
        check_error(r#"entry.type in ["a", null]"#, BadValue, 1, 21);
        check_error(r#"entry.type in ["a" "b"]"#, BadValue, 1, 20);
        check_error(r#"entry.type in ["a","#, BadValue, 1, 20);
        check_error(r#"entry.type in ["a", ]"#, BadValue, 1, 21);
        check_error(r#"entry.type in ["a""#, BadValue, 1, 15);
        check_error(r#"entry.type in [["a"]]"#, BadValue, 1, 16);
        check_error("user.email\n  == joe", BadValue, 2, 6);

        let error = Filter::parse(Match::All, &["user.country_code == AU"]).expect_err("bare");
        assert!(error.message.contains(r#""AU""#), "{}", error.message);
        let error = Filter::parse(Match::All, &[r#"entry.worth > "2""#]).expect_err("quoted");
        assert!(
            error.message.contains("without quotes"),
            "{}",
            error.message
        );
    }

    #[test]
    fn trailing_text() {
        use FilterErrorKind::Unexpected;
        check_error(
            r#"user.email == "x" and entry.worth > 1"#,
            Unexpected,
            1,
            19,
        );
        check_error("entry.worth >= 2 2", Unexpected, 1, 18);
        check_error(r#"user.email exists "x""#, Unexpected, 1, 19);
        check_error(r#"entry.type in ["a"] ]"#, Unexpected, 1, 21);
    }

    #[test]
    fn errors_name_the_condition() {
        let error = Filter::parse(Match::All, &["user.email exists", "", "x"]).expect_err("empty");
        assert_eq!((error.index, error.kind), (1, FilterErrorKind::Empty));
        let error = Filter::parse(Match::Any, &["user.email exists", "entry.wrth > 1"])
            .expect_err("unknown");
        assert_eq!(error.index, 1);
        assert!(
            error
                .to_string()
                .starts_with("condition 2: unknown field `entry.wrth`"),
            "{error}"
        );
        assert!(
            error.to_string().ends_with("(at line 1, column 1)"),
            "{error}"
        );
    }

    #[test]
    fn text_round_trips_through_the_canonical_form() {
        let cases = [
            (r#"user.country_code=="AU""#, r#"user.country_code == "AU""#),
            (
                r#"entry.type IN ["email_subscribe","custom_question"]"#,
                r#"entry.type in ["email_subscribe", "custom_question"]"#,
            ),
            (
                "user.details.\"How are you?\"\t CONTAINS  \"great\"",
                r#"user.details."How are you?" contains "great""#,
            ),
            (r#"user."email"   Not   Exists"#, "user.email not exists"),
            ("entry.worth>=2.50", "entry.worth >= 2.5"),
            ("entry.worth < -0", "entry.worth < -0.0"),
            ("entry.id != 1E3", "entry.id != 1000.0"),
            (
                r#"user.details."say \"hi\" \\ o/" starts with "a\"b\\""#,
                r#"user.details."say \"hi\" \\ o/" starts with "a\"b\\""#,
            ),
            (
                "user.details.\"tab\there\" exists",
                "user.details.\"tab\there\" exists",
            ),
            (
                "user.details.Consent == TRUE",
                "user.details.Consent == true",
            ),
            ("reward.code == NULL", "reward.code == null"),
            (
                r#"entry.worth not in [ 1 , 2 ]"#,
                "entry.worth not in [1, 2]",
            ),
            ("entry.type in []", "entry.type in []"),
            (
                r#"user.email ends  with "x""#,
                r#"user.email ends with "x""#,
            ),
            (r#"user.email != """#, r#"user.email != """#),
            (
                r#"conversion."first name" exists"#,
                r#"conversion."first name" exists"#,
            ),
        ];
        for (input, canonical) in cases {
            let parsed = Filter::parse(Match::All, &[input])
                .unwrap_or_else(|error| panic!("{input:?}: {error}"));
            let written = parsed.conditions()[0].to_string();
            assert_eq!(written, canonical, "{input:?}");
            let again = Filter::parse(Match::All, &[written.as_str()])
                .unwrap_or_else(|error| panic!("{written:?}: {error}"));
            assert_eq!(again, parsed, "{input:?}");
            assert_eq!(again.conditions()[0].to_string(), canonical);
        }
    }

    #[test]
    fn filters_display_as_one_line() {
        let conditions = [r#"user.country_code=="AU""#, "entry.worth>=2"];
        let all = Filter::parse(Match::All, &conditions).expect("parses");
        let any = Filter::parse(Match::Any, &conditions).expect("parses");
        assert_eq!(
            all.to_string(),
            r#"user.country_code == "AU" and entry.worth >= 2"#
        );
        assert_eq!(
            any.to_string(),
            r#"user.country_code == "AU" or entry.worth >= 2"#
        );
        assert_eq!(Filter::everyone().to_string(), "everyone");
    }

    #[test]
    fn serde_stores_canonical_text() {
        let stored = json!({
            "match": "any",
            "conditions": [
                "user.country_code==\"AU\"",
                "entry.type in [\"email_subscribe\",\"custom_question\"]",
                "user.details.\"How are you?\" contains \"great\"",
                "entry.worth >= 2",
            ],
        });
        let filter: Filter = serde_json::from_value(stored).expect("deserialises");
        assert_eq!(filter.match_mode(), Match::Any);
        assert!(filter.matches(&sample()));
        let canonical = json!({
            "match": "any",
            "conditions": [
                "user.country_code == \"AU\"",
                "entry.type in [\"email_subscribe\", \"custom_question\"]",
                "user.details.\"How are you?\" contains \"great\"",
                "entry.worth >= 2",
            ],
        });
        let written = serde_json::to_value(&filter).expect("serialises");
        assert_eq!(written, canonical);
        let again: Filter = serde_json::from_value(written).expect("deserialises");
        assert_eq!(again, filter);

        let everyone: Filter = serde_json::from_value(json!({})).expect("deserialises");
        assert_eq!(everyone, Filter::everyone());
        assert_eq!(
            serde_json::to_value(Filter::everyone()).expect("serialises"),
            json!({"match": "all", "conditions": []})
        );
    }

    #[test]
    fn serde_rejects_bad_filters() {
        for (stored, expected) in [
            (
                json!({"match": "all", "conditions": ["user.email exists", "user.emial exists"]}),
                "condition 2: unknown field `user.emial`",
            ),
            (
                json!({"match": "none", "conditions": []}),
                "unknown variant",
            ),
            (json!({"match": "all", "conditions": "x"}), "invalid type"),
            (
                json!({"match": "all", "rules": []}),
                "unknown field `rules`",
            ),
        ] {
            let error = serde_json::from_value::<Filter>(stored).expect_err("rejected");
            assert!(error.to_string().contains(expected), "{error}");
        }
    }

    #[test]
    fn preview_counts_matching_bodies() {
        let body_in = |country: &str, worth: u32| {
            let mut body = sample();
            body["user"]["country_code"] = json!(country);
            body["entry"]["worth"] = json!(worth);
            body
        };
        let bodies = [
            body_in("AU", 1),
            body_in("AU", 3),
            body_in("NZ", 5),
            body_in("", 2),
            body_in("AU", 2),
            json!({"conversion": {"total": 10}}),
        ];
        let australians =
            Filter::parse(Match::All, &[r#"user.country_code == "AU""#]).expect("parses");
        assert_eq!(
            preview(&australians, &bodies),
            Preview {
                matched: 3,
                total: 6
            }
        );
        let big_australians = Filter::parse(
            Match::All,
            &[r#"user.country_code == "AU""#, "entry.worth >= 2"],
        )
        .expect("parses");
        assert_eq!(preview(&big_australians, &bodies).to_string(), "2 of 6");
        let not_australians =
            Filter::parse(Match::All, &[r#"user.country_code != "AU""#]).expect("parses");
        assert_eq!(preview(&not_australians, &bodies).matched, 3);
        assert_eq!(preview(&Filter::everyone(), &bodies).matched, 6);
        assert_eq!(preview(&australians, &[]).to_string(), "0 of 0");
    }

    /// Every path a filter accepts is in the Gleam example, so a field the payload loses
    /// shows up here.
    #[test]
    fn every_known_path_exists_in_the_gleam_example() {
        let body = gleam_body();
        for known in known_paths() {
            let path = known.replace(ANY_NAME, "\"How are you?\"");
            check_on(&body, &format!("{path} exists"), true);
        }
    }

    #[test]
    fn numbers_in_text() {
        for (text, expected) in [
            ("8282", Some(json!(8282))),
            (" 42 ", Some(json!(42))),
            ("0800", Some(json!(800))),
            ("-7", Some(json!(-7))),
            ("-1.5", Some(json!(-1.5))),
            ("2e3", Some(json!(2000.0))),
            ("18446744073709551615", Some(json!(u64::MAX))),
            ("", None),
            ("-", None),
            ("inf", None),
            ("NaN", None),
            ("1e400", None),
            ("12abc", None),
            ("1,000", None),
        ] {
            let got = number_in_text(text).map(Value::Number);
            assert_eq!(got, expected, "{text:?}");
        }
    }
}
