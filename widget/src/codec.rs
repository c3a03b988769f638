//! The text format the widget keeps its `localStorage` items in: records of fields, fields
//! separated by tabs, records by newlines, with `\`, tab and newline escaped.
//!
//! Plain Rust rather than JSON: the widget links no JSON parser (see `answers.rs`), and this
//! is tested natively. Must not touch the browser.

/// Appends one record of `fields` to `out`.
pub fn write_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            out.push('\t');
        }
        for c in field.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
    out.push('\n');
}

/// The records in `text`, each as its fields, unescaped. Empty lines are skipped.
pub fn records(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    text.split('\n')
        .filter(|line| !line.is_empty())
        .map(|line| line.split('\t').map(unescape).collect())
}

fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Field `index` of `record`, or `""`.
pub fn field(record: &[String], index: usize) -> &str {
    record.get(index).map_or("", String::as_str)
}

/// Field `index` as a number, or 0.
pub fn number(record: &[String], index: usize) -> i64 {
    field(record, index).parse().unwrap_or_default()
}

/// Field `index` as a count, or 0 (one parser for every number: each costs the bundle).
pub fn count(record: &[String], index: usize) -> u32 {
    u32::try_from(number(record, index)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_separators_round_trip() {
        let fields = [
            "plain",
            "tab\there",
            "line\nbreak",
            "back\\slash",
            "",
            "\\t",
            "cr\r",
        ];
        let mut text = String::new();
        write_record(&mut text, fields);
        write_record(&mut text, ["second"]);
        let read: Vec<Vec<String>> = records(&text).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0], fields);
        assert_eq!(read[1], ["second"]);
    }

    #[test]
    fn missing_and_malformed_fields_read_as_defaults() {
        let record = vec!["12".to_owned(), "x".to_owned()];
        assert_eq!(field(&record, 5), "");
        assert_eq!(count(&record, 0), 12);
        assert_eq!(count(&record, 1), 0);
        assert_eq!(number(&record, 9), 0);
        assert_eq!(records("").count(), 0);
        assert_eq!(
            records("trailing\\").next(),
            Some(vec!["trailing".to_owned()])
        );
    }
}
