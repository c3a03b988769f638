//! Webhook templates: the URL, headers and body of an endpoint may name parts of the webhook
//! body (`{{user.email}}`, `{{user.details."How are you?"}}`), and each value is escaped for
//! where it lands. This module owns the template syntax, the list of known variables
//! ([`known_variables`]), the checks made when an endpoint is saved ([`Template::parse`]) and
//! rendering against one payload ([`Template::render`]). It is pure: it must not do IO, read
//! the clock or know HTTP; the caller passes the payload and the event's metadata.
//!
//! # Syntax
//!
//! - `{{ path }}` is a placeholder; spaces, tabs and newlines inside the braces are ignored.
//! - A path is dot-separated names: `user.email`. A name is letters, digits, `_` and `-`;
//!   any other name is written in double quotes, with `\"` and `\\` as its only escapes:
//!   `{{user.details."How are you?"}}`. The first name is always bare.
//! - `{{"text"}}` (a quoted string alone) writes `text` as literal template text, unescaped.
//!   It is how literal braces are written: `{{"{{"}}` gives `{{`.
//! - A `}}` outside a placeholder is literal text, because JSON bodies are full of them
//!   (`{"a": {"b": 1}}`).
//! - Every path must be one of [`known_variables`], except that any question may follow
//!   `user.details.`: questions are not known when the endpoint is saved, and a question the
//!   contestant did not answer renders as missing.
//!
//! # Values
//!
//! Paths are looked up in the JSON the payload serialises to, so templates read the webhook
//! body itself. Strings render as their text, numbers as written (`8282`), booleans as
//! `true`/`false`, null and missing values as nothing, and objects (`user.details`) as
//! compact JSON, each then escaped for its [`Context`].
//!
//! # The JSON rule
//!
//! In a [`Context::Json`] template, a placeholder inside a JSON string of the template is
//! replaced by string *content*, and a placeholder anywhere else by a complete JSON value:
//!
//! ```text
//! {"email": "{{user.email}}", "greeting": "Hi {{user.first_name}}", "details": {{user.details}}, "id": {{entry.id}}}
//! {"email": "a+b@example.com", "greeting": "Hi Joe", "details": {"Postcode": 8282}, "id": 244523423}
//! ```
//!
//! So the usual `"{{user.email}}"` works, a number or object can be inserted as itself, a
//! missing value is `""` inside quotes and `null` outside, and as long as the template is JSON
//! with placeholders standing for values or string content, the result is JSON whatever the
//! contestant typed. The parser tracks quotes in the literal text to tell the two apart.

use std::fmt;

use protocol::payload::EntryPayload;
use serde_json::Value;

/// Every variable a template may use, in the order the admin console shows them. A
/// `<question>` segment matches any one name (bare or quoted).
const KNOWN_VARIABLES: &[&str] = &[
    "campaign.name",
    "campaign.key",
    "campaign.type",
    "reward.type",
    "reward.code",
    "coupon.type",
    "coupon.code",
    "user.name",
    "user.first_name",
    "user.last_name",
    "user.email",
    "user.country",
    "user.region",
    "user.city",
    "user.country_code",
    "user.actions_completed",
    "user.details",
    "user.details.<question>",
    "entry.id",
    "entry.entry_method_id",
    "entry.action",
    "entry.created_at",
    "entry.type",
    "entry.value",
    "entry.worth",
    "entry.landing_url",
    "entry.referring_url",
    "entry.upload.original_url",
    "entry.upload.thumb_url",
    "entry.upload.post_url",
    "entry.upload.post_text",
    "entry.upload.content_type",
    "event.type",
    "event.id",
    "event.timestamp",
];

/// The segment of a [`KNOWN_VARIABLES`] entry that matches any name.
pub(crate) const ANY_NAME: &str = "<question>";

/// The variables templates may use; `user.details.<question>` stands for any question.
pub fn known_variables() -> &'static [&'static str] {
    KNOWN_VARIABLES
}

/// Where a template's output lands, which decides how values are escaped. Literal template
/// text is always kept as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// A URL: values are percent-encoded, leaving only RFC 3986's unreserved characters
    /// (`A-Z a-z 0-9 - . _ ~`), so a value is safe in a path segment, a query name or a
    /// query value alike.
    UrlComponent,
    /// An HTTP header value: no escaping, but control characters (CR and LF above all) in a
    /// value become a space, and the template's own text may not contain any. Non-ASCII text
    /// stays UTF-8.
    Header,
    /// A JSON body: see the module docs for the rule.
    Json,
    /// An `application/x-www-form-urlencoded` body: values are encoded as the URL standard's
    /// form serializer does (space as `+`; `* - . _` and ASCII letters and digits kept).
    Form,
    /// XML text or attribute values: `& < > " '` become entities; control characters that
    /// XML 1.0 cannot hold are dropped.
    Xml,
    /// Plain text: values as they are.
    PlainText,
}

/// Why a template was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// The path is well formed but names no known variable.
    UnknownVariable(String),
    /// A `{{` has no `}}`. The position is the `{{`.
    Unclosed,
    /// `{{}}` or `{{ }}`. The position is the `{{`.
    EmptyPlaceholder,
    /// The path is malformed: an empty name (`user..email`, `user.`), a character a bare name
    /// cannot hold, an unterminated quote or an unknown escape in quotes.
    BadPath,
    /// Something where it cannot be: text after a path before `}}` (`{{user.email | upper}}`),
    /// a line break in a header template, a placeholder right after a backslash in a JSON
    /// string.
    Unexpected,
}

/// Where in the template source an error is. `line` and `column` are 1-based and count
/// characters; `offset` counts bytes from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `source`.
    pub(crate) fn at(source: &str, offset: usize) -> Self {
        let before = &source[..offset];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        Self {
            offset,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A template rejected when an endpoint is saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at {position})")]
pub struct TemplateError {
    pub kind: TemplateErrorKind,
    pub position: Position,
    pub message: String,
}

/// A parsed template, ready to render any number of times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    context: Context,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable {
        path: Vec<String>,
        /// Only for [`Context::Json`]: whether the placeholder sits inside a JSON string.
        in_json_string: bool,
    },
}

impl Template {
    /// Parses `source` for output landing in `context`; rejects bad syntax and unknown
    /// variables with the position of the problem.
    pub fn parse(source: &str, context: Context) -> Result<Self, TemplateError> {
        let mut parser = Parser {
            source,
            offset: 0,
            context,
            parts: Vec::new(),
            json: JsonState::default(),
        };
        parser.parse_all()?;
        Ok(Self {
            context,
            parts: parser.parts,
        })
    }

    pub fn context(&self) -> Context {
        self.context
    }

    /// The template with every placeholder replaced by its escaped value.
    pub fn render(&self, values: &Values) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable {
                    path,
                    in_json_string,
                } => write_value(&mut out, self.context, *in_json_string, values.lookup(path)),
            }
        }
        out
    }
}

/// What templates read: the webhook body as JSON, plus the event's metadata under `event`.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    root: Value,
}

impl Values {
    /// `timestamp` is the `webhook-timestamp` (Unix seconds) and `webhook_id` the
    /// `webhook-id` of the delivery.
    pub fn new(payload: &EntryPayload, event_type: &str, webhook_id: &str, timestamp: i64) -> Self {
        // Serialising the payload cannot fail: every map has string keys and every number is
        // finite. Were it ever to, templates would render the payload's parts as missing.
        let body = serde_json::to_value(payload).unwrap_or(Value::Null);
        Self::from_json(body, event_type, webhook_id, timestamp)
    }

    /// Like [`Values::new`], from a webhook body already in JSON form (a delivery's frozen
    /// body, parsed), so templates read exactly what was frozen. A body that is not a JSON
    /// object gets no `event` values.
    pub fn from_json(body: Value, event_type: &str, webhook_id: &str, timestamp: i64) -> Self {
        let mut root = body;
        if let Value::Object(fields) = &mut root {
            fields.insert(
                "event".to_owned(),
                serde_json::json!({ "type": event_type, "id": webhook_id, "timestamp": timestamp }),
            );
        }
        Self { root }
    }

    fn lookup(&self, path: &[String]) -> Option<&Value> {
        path.iter()
            .try_fold(&self.root, |value, name| value.get(name.as_str()))
    }
}

fn write_value(out: &mut String, context: Context, in_json_string: bool, value: Option<&Value>) {
    if context == Context::Json && !in_json_string {
        match value {
            Some(value) => out.push_str(&value.to_string()),
            None => out.push_str("null"),
        }
        return;
    }
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => escape_into(out, context, text),
        Some(other) => escape_into(out, context, &other.to_string()),
    }
}

/// `text` escaped as a placeholder's value is in `context` (for [`Context::Json`]: as the
/// content of a JSON string, without the quotes). For output that is built without a
/// template, such as a default form or XML body, so it is escaped by the same rules.
pub fn escape(context: Context, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, context, text);
    out
}

fn escape_into(out: &mut String, context: Context, text: &str) {
    match context {
        Context::UrlComponent => percent_encode(out, text, is_url_unreserved, "%20"),
        Context::Form => percent_encode(out, text, is_form_unreserved, "+"),
        Context::Header => {
            let mut last_was_control = false;
            for ch in text.chars() {
                let control = ch.is_control() && ch != '\t';
                if !control {
                    out.push(ch);
                } else if !last_was_control {
                    out.push(' ');
                }
                last_was_control = control;
            }
        }
        Context::Json => {
            let quoted = Value::String(text.to_owned()).to_string();
            // A JSON string literal always starts and ends with `"`.
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
        Context::Xml => {
            for ch in text.chars() {
                match ch {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&apos;"),
                    '\t' | '\n' | '\r' => out.push(ch),
                    '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
                    _ => out.push(ch),
                }
            }
        }
        Context::PlainText => out.push_str(text),
    }
}

fn is_url_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

fn is_form_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'*' | b'-' | b'.' | b'_')
}

/// Percent-encodes the UTF-8 bytes of `text` but those `keep` accepts, writing a space as
/// `space`. (Two ten-line encoders did not seem worth a dependency.)
fn percent_encode(out: &mut String, text: &str, keep: fn(u8) -> bool, space: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else if byte == b' ' {
            out.push_str(space);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

/// Whether the literal text so far ends inside a JSON string, and right after a backslash.
#[derive(Debug, Default)]
struct JsonState {
    in_string: bool,
    after_backslash: bool,
}

impl JsonState {
    fn feed(&mut self, text: &str) {
        for ch in text.chars() {
            if !self.in_string {
                self.in_string = ch == '"';
            } else if self.after_backslash {
                self.after_backslash = false;
            } else if ch == '\\' {
                self.after_backslash = true;
            } else if ch == '"' {
                self.in_string = false;
            }
        }
    }
}

/// Whether `ch` may appear in a bare (unquoted) name of a path.
pub(crate) fn is_name_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_' || ch == '-'
}

#[derive(Debug)]
struct Parser<'a> {
    source: &'a str,
    offset: usize,
    context: Context,
    parts: Vec<Part>,
    json: JsonState,
}

impl Parser<'_> {
    fn error(&self, kind: TemplateErrorKind, offset: usize, message: String) -> TemplateError {
        TemplateError {
            kind,
            position: Position::at(self.source, offset),
            message,
        }
    }

    fn rest(&self) -> &str {
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

    fn parse_all(&mut self) -> Result<(), TemplateError> {
        loop {
            let start = self.offset;
            match self.rest().find("{{") {
                None => {
                    self.offset = self.source.len();
                    return self.push_literal(&self.source[start..], start);
                }
                Some(length) => {
                    let open = start + length;
                    self.push_literal(&self.source[start..open], start)?;
                    self.offset = open + 2;
                    self.parse_placeholder(open)?;
                }
            }
        }
    }

    /// Adds literal text found at `start`, checking it fits the context.
    fn push_literal(&mut self, text: &str, start: usize) -> Result<(), TemplateError> {
        if text.is_empty() {
            return Ok(());
        }
        if self.context == Context::Header
            && let Some((index, _)) = text
                .char_indices()
                .find(|&(_, ch)| ch.is_control() && ch != '\t')
        {
            return Err(self.error(
                TemplateErrorKind::Unexpected,
                start + index,
                "a header value cannot contain a line break or other control character".into(),
            ));
        }
        self.json.feed(text);
        if let Some(Part::Literal(previous)) = self.parts.last_mut() {
            previous.push_str(text);
        } else {
            self.parts.push(Part::Literal(text.to_owned()));
        }
        Ok(())
    }

    /// Parses from just after the `{{` at `open` to just after its `}}`.
    fn parse_placeholder(&mut self, open: usize) -> Result<(), TemplateError> {
        self.skip_whitespace();
        if self.peek().is_none() {
            return Err(self.unclosed(open));
        }
        if self.rest().starts_with("}}") {
            return Err(self.error(
                TemplateErrorKind::EmptyPlaceholder,
                open,
                "empty placeholder: write a variable such as `{{user.email}}`".into(),
            ));
        }
        if self.peek() == Some('"') {
            let start = self.offset;
            let text = self.parse_quoted()?;
            self.skip_whitespace();
            if self.peek() == Some('.') {
                return Err(self.error(
                    TemplateErrorKind::BadPath,
                    start,
                    "a variable starts with a bare name such as `user`; only later names may be quoted"
                        .into(),
                ));
            }
            self.expect_close(open, false)?;
            return self.push_literal(&text, start);
        }

        let path_start = self.offset;
        let mut path = vec![self.parse_name()?];
        while self.peek() == Some('.') {
            self.bump();
            path.push(self.parse_name()?);
        }
        self.skip_whitespace();
        self.expect_close(open, true)?;
        self.check_known(&path, path_start)?;

        let in_json_string = self.context == Context::Json && self.json.in_string;
        if in_json_string && self.json.after_backslash {
            return Err(self.error(
                TemplateErrorKind::Unexpected,
                open,
                "a placeholder cannot follow a backslash in a JSON string".into(),
            ));
        }
        self.parts.push(Part::Variable {
            path,
            in_json_string,
        });
        Ok(())
    }

    fn unclosed(&self, open: usize) -> TemplateError {
        self.error(
            TemplateErrorKind::Unclosed,
            open,
            "`{{` is not closed by `}}`; write `{{\"{{\"}}` for literal braces".into(),
        )
    }

    fn expect_close(&mut self, open: usize, after_path: bool) -> Result<(), TemplateError> {
        if self.rest().starts_with("}}") {
            self.offset += 2;
            return Ok(());
        }
        match self.peek() {
            None => Err(self.unclosed(open)),
            Some(ch) => {
                let hint = if after_path && ch != '}' {
                    "; a name with spaces or punctuation is written in quotes, as in \
                     `user.details.\"How are you?\"`"
                } else {
                    ""
                };
                Err(self.error(
                    TemplateErrorKind::Unexpected,
                    self.offset,
                    format!("expected `}}}}` but found `{ch}`{hint}"),
                ))
            }
        }
    }

    /// One name of a path: bare or quoted.
    fn parse_name(&mut self) -> Result<String, TemplateError> {
        let start = self.offset;
        if self.peek() == Some('"') {
            let name = self.parse_quoted()?;
            if name.is_empty() {
                return Err(self.error(
                    TemplateErrorKind::BadPath,
                    start,
                    "a quoted name cannot be empty".into(),
                ));
            }
            return Ok(name);
        }
        while self.peek().is_some_and(is_name_char) {
            self.bump();
        }
        if self.offset == start {
            let message = match self.peek() {
                Some(ch) if !ch.is_whitespace() && ch != '.' && ch != '}' => format!(
                    "`{ch}` cannot appear in a bare name; quote the name, as in `user.details.\"{ch}\"`"
                ),
                _ => "expected a name".to_owned(),
            };
            return Err(self.error(TemplateErrorKind::BadPath, start, message));
        }
        Ok(self.source[start..self.offset].to_owned())
    }

    /// A double-quoted string starting at the current `"`; ends on the same line.
    fn parse_quoted(&mut self) -> Result<String, TemplateError> {
        let quote = self.offset;
        self.bump();
        let mut text = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | '\r') => {
                    return Err(self.error(
                        TemplateErrorKind::BadPath,
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
                                TemplateErrorKind::BadPath,
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

    fn check_known(&self, path: &[String], start: usize) -> Result<(), TemplateError> {
        let matches = |known: &str| {
            let known: Vec<&str> = known.split('.').collect();
            known.len() == path.len()
                && known
                    .iter()
                    .zip(path)
                    .all(|(known, name)| *known == ANY_NAME || known == name)
        };
        if KNOWN_VARIABLES.iter().any(|known| matches(known)) {
            return Ok(());
        }
        let written = display_path(path);
        let hint = if path.len() > 3 && path[0] == "user" && path[1] == "details" {
            "; a question whose name has a dot is written in quotes, as in \
             `user.details.\"a.b\"`"
                .to_owned()
        } else {
            let root_prefix = format!("{}.", path[0]);
            let siblings: Vec<&str> = KNOWN_VARIABLES
                .iter()
                .filter_map(|known| known.strip_prefix(&root_prefix))
                .collect();
            if siblings.is_empty() {
                "; variables start with `campaign`, `reward`, `coupon`, `user`, `entry` or `event`"
                    .to_owned()
            } else {
                format!("; `{}` has: {}", path[0], siblings.join(", "))
            }
        };
        Err(self.error(
            TemplateErrorKind::UnknownVariable(written.clone()),
            start,
            format!("unknown variable `{written}`{hint}"),
        ))
    }
}

/// A path as it would be written: names that are not bare are quoted.
fn display_path(path: &[String]) -> String {
    let names: Vec<String> = path
        .iter()
        .map(|name| {
            if name.chars().all(is_name_char) {
                name.clone()
            } else {
                Value::String(name.clone()).to_string()
            }
        })
        .collect();
    names.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLEAM_EXAMPLE: &str = include_str!("../../protocol/fixtures/gleam_example.json");

    fn gleam_payload() -> EntryPayload {
        serde_json::from_str(GLEAM_EXAMPLE).expect("fixture parses")
    }

    /// The Gleam example with a contestant who types everything a template must survive.
    fn hostile_values() -> Values {
        let mut payload = gleam_payload();
        payload.user.name = "Joe \"The Hammer\" O'Brien & <Co>\nNext line".into();
        payload.user.first_name = "Zoë".into();
        payload.user.last_name = "O'Brien\r\nX-Injected: yes".into();
        payload.user.email = "a+b@example.com".into();
        payload.user.city = "a/b?c=d&e f#g".into();
        payload.user.region = "back\\slash \u{0} nul \u{7} bell \u{2028} ls".into();
        payload.user.details = serde_json::from_str(
            r#"{"How are you?": "Great & \"fine\" <3", "Postcode": 8282, "a.b": "dotted"}"#,
        )
        .expect("details parse");
        payload.entry.value = "}} {{ \"}\" \\\" '".into();
        Values::new(&payload, "entry.created", "msg_2Kq", 1_700_000_000)
    }

    fn check(template: &str, context: Context, expected: &str) {
        let parsed = Template::parse(template, context)
            .unwrap_or_else(|error| panic!("{template:?} should parse: {error}"));
        let rendered = parsed.render(&hostile_values());
        assert_eq!(rendered, expected, "template {template:?} in {context:?}");
        if context == Context::Json {
            assert_valid_json(&rendered);
        }
    }

    fn assert_valid_json(text: &str) {
        if let Err(error) = serde_json::from_str::<Value>(text) {
            panic!("not JSON ({error}): {text}");
        }
    }

    fn check_error(template: &str, kind: TemplateErrorKind, line: usize, column: usize) {
        check_error_in(template, Context::PlainText, kind, line, column);
    }

    fn check_error_in(
        template: &str,
        context: Context,
        kind: TemplateErrorKind,
        line: usize,
        column: usize,
    ) {
        match Template::parse(template, context) {
            Ok(parsed) => panic!("{template:?} should be rejected, parsed as {parsed:?}"),
            Err(error) => {
                assert_eq!(error.kind, kind, "template {template:?}: {error}");
                assert_eq!(
                    (error.position.line, error.position.column),
                    (line, column),
                    "template {template:?}: {error}"
                );
                assert!(!error.message.is_empty());
            }
        }
    }

    fn unknown(name: &str) -> TemplateErrorKind {
        TemplateErrorKind::UnknownVariable(name.to_owned())
    }

    #[test]
    fn plain_text_keeps_values_as_they_are() {
        use Context::PlainText as P;
        check("Hello {{user.first_name}}!", P, "Hello Zoë!");
        check(
            "{{user.name}}",
            P,
            "Joe \"The Hammer\" O'Brien & <Co>\nNext line",
        );
        check("{{user.details.Postcode}}", P, "8282");
        check("{{entry.id}}/{{entry.worth}}", P, "244523423/1");
        check("{{user.details.Missing}}|{{reward.code}}", P, "|1234");
        check(
            r#"{{user.details."How are you?"}}"#,
            P,
            "Great & \"fine\" <3",
        );
        check(r#"{{user.details."a.b"}}"#, P, "dotted");
        check(
            "{{event.type}} {{event.id}} {{event.timestamp}}",
            P,
            "entry.created msg_2Kq 1700000000",
        );
        check(
            "{{user.details}}",
            P,
            r#"{"How are you?":"Great & \"fine\" <3","Postcode":8282,"a.b":"dotted"}"#,
        );
        check("no placeholders", P, "no placeholders");
        check("", P, "");
    }

    #[test]
    fn whitespace_inside_braces_is_ignored() {
        use Context::PlainText as P;
        check("{{ user.email }}", P, "a+b@example.com");
        check("{{\tuser.email\n}}", P, "a+b@example.com");
        check(
            "{{  user.details.\"How are you?\"   }}",
            P,
            "Great & \"fine\" <3",
        );
    }

    #[test]
    fn quoted_names_and_escapes() {
        use Context::PlainText as P;
        check(r#"{{user."email"}}"#, P, "a+b@example.com");
        check(r#"{{user.details."Postcode"}}"#, P, "8282");

        let mut payload = gleam_payload();
        payload
            .user
            .details
            .insert(r#"say "hi" \ o/"#.into(), "quoted".into());
        let values = Values::new(&payload, "entry.created", "msg_1", 0);
        let template =
            Template::parse(r#"<{{user.details."say \"hi\" \\ o/"}}>"#, P).expect("parses");
        assert_eq!(template.render(&values), "<quoted>");
    }

    #[test]
    fn literal_braces() {
        use Context::PlainText as P;
        check(r#"{{"{{"}}user.email}}"#, P, "{{user.email}}");
        check(r#"{{ "{{" }}"#, P, "{{");
        check(r#"{{"}}"}}"#, P, "}}");
        check(r#"{{""}}"#, P, "");
        check("a }} b } c {", P, "a }} b } c {");
        check(r#"{"a": {"b": 1}}"#, Context::Json, r#"{"a": {"b": 1}}"#);
    }

    #[test]
    fn url_components_are_percent_encoded() {
        use Context::UrlComponent as U;
        check(
            "https://example.com/hook?email={{user.email}}&x=1",
            U,
            "https://example.com/hook?email=a%2Bb%40example.com&x=1",
        );
        check("https://h/{{user.first_name}}", U, "https://h/Zo%C3%AB");
        check("/{{user.city}}", U, "/a%2Fb%3Fc%3Dd%26e%20f%23g");
        check(
            "?n={{user.name}}",
            U,
            "?n=Joe%20%22The%20Hammer%22%20O%27Brien%20%26%20%3CCo%3E%0ANext%20line",
        );
        check(
            "/{{user.details.Postcode}}/{{entry.id}}",
            U,
            "/8282/244523423",
        );
        check("/x{{user.details.Missing}}", U, "/x");
        check("?v={{campaign.key}}-._~", U, "?v=a1XyD-._~");
    }

    #[test]
    fn headers_lose_line_breaks() {
        use Context::Header as H;
        check("Bearer {{user.email}}", H, "Bearer a+b@example.com");
        check("{{user.last_name}}", H, "O'Brien X-Injected: yes");
        check(
            "{{user.name}}",
            H,
            "Joe \"The Hammer\" O'Brien & <Co> Next line",
        );
        check("{{user.first_name}}\t{{entry.id}}", H, "Zoë\t244523423");
        for values_key in ["user.name", "user.last_name", "user.region", "entry.value"] {
            let template = Template::parse(&format!("{{{{{values_key}}}}}"), H).expect("parses");
            let rendered = template.render(&hostile_values());
            assert!(
                !rendered.contains(['\r', '\n', '\0']),
                "{values_key}: {rendered:?}"
            );
        }
    }

    #[test]
    fn form_values_are_form_encoded() {
        use Context::Form as F;
        check(
            "email={{user.email}}&name={{user.name}}",
            F,
            "email=a%2Bb%40example.com&name=Joe+%22The+Hammer%22+O%27Brien+%26+%3CCo%3E%0ANext+line",
        );
        check("city={{user.city}}", F, "city=a%2Fb%3Fc%3Dd%26e+f%23g");
        check("n={{user.first_name}}*-._~", F, "n=Zo%C3%AB*-._~");
        check("p={{user.details.Postcode}}", F, "p=8282");
    }

    #[test]
    fn xml_text_is_escaped() {
        use Context::Xml as X;
        check(
            "<name>{{user.name}}</name>",
            X,
            "<name>Joe &quot;The Hammer&quot; O&apos;Brien &amp; &lt;Co&gt;\nNext line</name>",
        );
        check(
            r#"<a q="{{user.details."How are you?"}}"/>"#,
            X,
            "<a q=\"Great &amp; &quot;fine&quot; &lt;3\"/>",
        );
        check(
            "<r>{{user.region}}</r>",
            X,
            "<r>back\\slash  nul  bell \u{2028} ls</r>",
        );
        check("<p>{{user.details.Postcode}}</p>", X, "<p>8282</p>");
    }

    #[test]
    fn json_inside_strings_gets_string_content() {
        use Context::Json as J;
        check(
            r#"{"email": "{{user.email}}"}"#,
            J,
            r#"{"email": "a+b@example.com"}"#,
        );
        check(
            r#"{"name": "Hi {{user.name}}!"}"#,
            J,
            r#"{"name": "Hi Joe \"The Hammer\" O'Brien & <Co>\nNext line!"}"#,
        );
        check(r#"{"id": "{{entry.id}}"}"#, J, r#"{"id": "244523423"}"#);
        check(r#"{"q": "{{user.details.Missing}}"}"#, J, r#"{"q": ""}"#);
        check(
            r#"{"d": "{{user.details}}"}"#,
            J,
            r#"{"d": "{\"How are you?\":\"Great & \\\"fine\\\" <3\",\"Postcode\":8282,\"a.b\":\"dotted\"}"}"#,
        );
        check(
            r#"{"{{user.first_name}}": "\"{{campaign.key}}\\"}"#,
            J,
            r#"{"Zoë": "\"a1XyD\\"}"#,
        );
    }

    #[test]
    fn json_outside_strings_gets_whole_values() {
        use Context::Json as J;
        check(
            "{\"email\": {{user.email}}, \"id\": {{entry.id}}}",
            J,
            r#"{"email": "a+b@example.com", "id": 244523423}"#,
        );
        check(
            "{\"n\": {{user.name}}}",
            J,
            r#"{"n": "Joe \"The Hammer\" O'Brien & <Co>\nNext line"}"#,
        );
        check(
            "[{{user.details.Postcode}}, {{user.details.Missing}}, {{user.details}}]",
            J,
            r#"[8282, null, {"How are you?":"Great & \"fine\" <3","Postcode":8282,"a.b":"dotted"}]"#,
        );
        check(
            "{\"t\": {{event.timestamp}}, \"e\": {{event.type}}}",
            J,
            r#"{"t": 1700000000, "e": "entry.created"}"#,
        );
    }

    #[test]
    fn json_is_valid_for_every_variable_in_both_placements() {
        let values = hostile_values();
        let mut variables: Vec<String> = known_variables()
            .iter()
            .map(|known| known.replace(ANY_NAME, "\"How are you?\""))
            .collect();
        variables.extend(["user.details.Missing".into(), "user.details.\"a.b\"".into()]);
        for variable in variables {
            for template in [
                format!("{{\"v\": {{{{{variable}}}}}}}"),
                format!("{{\"v\": \"{{{{{variable}}}}}\"}}"),
                format!(
                    "{{\"v\": \"<{{{{{variable}}}}} & {{{{{variable}}}}}>\", \"w\": [{{{{{variable}}}}}]}}"
                ),
                format!("{{\"{{{{{variable}}}}}\": {{{{ {variable} }}}}}}"),
            ] {
                let parsed = Template::parse(&template, Context::Json)
                    .unwrap_or_else(|error| panic!("{template}: {error}"));
                let rendered = parsed.render(&values);
                assert_valid_json(&rendered);
            }
        }
    }

    #[test]
    fn every_known_variable_renders_against_the_gleam_example() {
        let values = Values::new(&gleam_payload(), "entry.created", "msg_1", 1_447_823_677);
        for known in known_variables() {
            let path = known.replace(ANY_NAME, "\"How are you?\"");
            for context in [
                Context::UrlComponent,
                Context::Header,
                Context::Json,
                Context::Form,
                Context::Xml,
                Context::PlainText,
            ] {
                let template = Template::parse(&format!("{{{{{path}}}}}"), context)
                    .unwrap_or_else(|error| panic!("{path} in {context:?}: {error}"));
                let rendered = template.render(&values);
                // Every known variable is present in the example, so none renders as missing:
                // a variable the payload no longer has shows up here.
                assert!(
                    !rendered.is_empty() && rendered != "null",
                    "{path} in {context:?}"
                );
            }
        }
    }

    #[test]
    fn missing_parents_render_as_missing() {
        let mut payload = gleam_payload();
        payload.reward = None;
        payload.entry.upload = None;
        let values = Values::new(&payload, "entry.created", "msg_1", 0);
        let text = Template::parse(
            "[{{reward.code}}|{{entry.upload.thumb_url}}]",
            Context::PlainText,
        )
        .expect("parses");
        assert_eq!(text.render(&values), "[|]");
        let json = Template::parse(
            "{\"r\": {{reward.code}}, \"u\": \"{{entry.upload.thumb_url}}\"}",
            Context::Json,
        )
        .expect("parses");
        assert_eq!(json.render(&values), r#"{"r": null, "u": ""}"#);
    }

    #[test]
    fn unknown_variables_are_rejected_where_they_start() {
        check_error("{{user.emial}}", unknown("user.emial"), 1, 3);
        check_error("{{ User.email }}", unknown("User.email"), 1, 4);
        check_error("Hi {{nobody}}", unknown("nobody"), 1, 6);
        check_error("{{user}}", unknown("user"), 1, 3);
        check_error("{{entry.upload}}", unknown("entry.upload"), 1, 3);
        check_error("{{user.email.domain}}", unknown("user.email.domain"), 1, 3);
        check_error("{{user.details.a.b}}", unknown("user.details.a.b"), 1, 3);
        check_error(
            r#"{{user."first name"}}"#,
            unknown(r#"user."first name""#),
            1,
            3,
        );
        check_error("{{social_links}}", unknown("social_links"), 1, 3);
    }

    #[test]
    fn unknown_variable_messages_help() {
        let error = Template::parse("{{user.emial}}", Context::PlainText).expect_err("unknown");
        assert!(error.message.contains("email"), "{}", error.message);
        let error = Template::parse("{{usr.email}}", Context::PlainText).expect_err("unknown");
        assert!(error.message.contains("`campaign`"), "{}", error.message);
        assert_eq!(
            error.to_string(),
            format!("{} (at line 1, column 3)", error.message)
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        use TemplateErrorKind::*;
        check_error("{{user.email", Unclosed, 1, 1);
        check_error("ok {{user.email}} {{", Unclosed, 1, 19);
        check_error("{{ ", Unclosed, 1, 1);
        check_error("{{}}", EmptyPlaceholder, 1, 1);
        check_error("a {{ \n }}", EmptyPlaceholder, 1, 3);
        check_error("{{user..email}}", BadPath, 1, 8);
        check_error("{{user.}}", BadPath, 1, 8);
        check_error("{{.user}}", BadPath, 1, 3);
        check_error("{{user. email}}", BadPath, 1, 8);
        check_error("{{user.details.€}}", BadPath, 1, 16);
        check_error(r#"{{user.details."How are you?}}"#, BadPath, 1, 16);
        check_error("{{user.details.\"a\nb\"}}", BadPath, 1, 16);
        check_error(r#"{{user.details."a\nb"}}"#, BadPath, 1, 18);
        check_error(r#"{{user.details.""}}"#, BadPath, 1, 16);
        check_error(r#"{{"user".email}}"#, BadPath, 1, 3);
        check_error(r#"{{"{{" x}}"#, Unexpected, 1, 8);
        check_error("{{user.email | upper}}", Unexpected, 1, 14);
        check_error("{{user.details.How are you}}", Unexpected, 1, 20);
        check_error("{{user.email}", Unexpected, 1, 13);
        check_error("{{user.email} }", Unexpected, 1, 13);
        check_error("{{{user.email}}}", BadPath, 1, 3);
    }

    #[test]
    fn positions_on_multi_line_templates_count_characters() {
        use TemplateErrorKind::*;
        let template = "{\n  \"name\": \"{{user.name}}\",\n  \"zoë\": \"{{user.emial}}\"\n}";
        check_error_in(template, Context::Json, unknown("user.emial"), 3, 13);
        let error = Template::parse(template, Context::Json).expect_err("unknown");
        assert_eq!(&template[error.position.offset..][..10], "user.emial");

        check_error("line one\nline two {{user..email}}\n", BadPath, 2, 17);
        check_error("a\r\nb\n  {{ }}", EmptyPlaceholder, 3, 3);
        check_error("Zoë\n\tëë {{user.email", Unclosed, 2, 5);
        check_error(
            "one\ntwo\n{{entry.id}} {{entry.value\n}} {{x}}",
            unknown("x"),
            4,
            6,
        );
    }

    #[test]
    fn header_templates_cannot_hold_line_breaks() {
        use TemplateErrorKind::Unexpected;
        check_error_in("Bearer x\r\nX-Evil: 1", Context::Header, Unexpected, 1, 9);
        check_error_in("a {{user.email}}\nb", Context::Header, Unexpected, 1, 17);
        check(
            "a {{user.email}}\nb",
            Context::PlainText,
            "a a+b@example.com\nb",
        );
    }

    #[test]
    fn json_placeholder_after_backslash_is_rejected() {
        check_error_in(
            r#"{"a": "\{{user.email}}"}"#,
            Context::Json,
            TemplateErrorKind::Unexpected,
            1,
            9,
        );
        check(
            r#"{"a": "\\{{user.email}}"}"#,
            Context::Json,
            r#"{"a": "\\a+b@example.com"}"#,
        );
    }

    #[test]
    fn known_variables_are_listed_once() {
        let mut sorted = known_variables().to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), known_variables().len());
        assert!(known_variables().contains(&"user.details.<question>"));
    }
}
