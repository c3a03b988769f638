//! Input rules shared by the widget (to show errors before posting) and the server (which
//! decides). Pure functions, no IO.

/// Longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// Why an email address was refused. The `Display` text is shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProblem {
    Missing,
    TooLong,
    Malformed,
}

impl std::fmt::Display for EmailProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "Please enter your email address.",
            Self::TooLong => "That email address is too long.",
            Self::Malformed => "Please enter a valid email address, like name@example.com.",
        })
    }
}

/// Checks an email address and returns it normalised: trimmed, domain lower-cased.
///
/// The local part keeps its case (some mail servers honour it). The rules are the practical
/// ones of web forms: one `@`, a non-empty local part without spaces, a domain with a dot,
/// made of letters, digits, hyphens and dots, no empty labels.
pub fn normalize_email(raw: &str) -> Result<String, EmailProblem> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(EmailProblem::Missing);
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(EmailProblem::TooLong);
    }
    let (local, domain) = email.split_once('@').ok_or(EmailProblem::Malformed)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '@' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | ']' | '\\' | '"'
                )
        });
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !(local_ok && domain_ok) {
        return Err(EmailProblem::Malformed);
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// Splits a full name into first and last name the way people expect: the last word is the
/// last name, the rest the first name.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (first.trim().to_owned(), last.to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, EmailProblem>) {
        assert_eq!(
            normalize_email(input).as_deref().map_err(|e| *e),
            expected,
            "{input:?}"
        );
    }

    #[test]
    fn emails() {
        check("joe@example.com", Ok("joe@example.com"));
        check(
            "  Joe.Bloggs+x@Example.COM ",
            Ok("Joe.Bloggs+x@example.com"),
        );
        check("", Err(EmailProblem::Missing));
        check("   ", Err(EmailProblem::Missing));
        check("joe", Err(EmailProblem::Malformed));
        check("joe@", Err(EmailProblem::Malformed));
        check("@example.com", Err(EmailProblem::Malformed));
        check("joe@example", Err(EmailProblem::Malformed));
        check("joe@@example.com", Err(EmailProblem::Malformed));
        check("jo e@example.com", Err(EmailProblem::Malformed));
        check("joe@exa mple.com", Err(EmailProblem::Malformed));
        check("joe@example..com", Err(EmailProblem::Malformed));
        check("joe@-example.com", Err(EmailProblem::Malformed));
        check(".joe@example.com", Err(EmailProblem::Malformed));
        check("<joe@example.com>", Err(EmailProblem::Malformed));
        check(
            &format!("{}@example.com", "a".repeat(250)),
            Err(EmailProblem::TooLong),
        );
    }

    #[test]
    fn names() {
        assert_eq!(split_name("Joe Bloggs"), ("Joe".into(), "Bloggs".into()));
        assert_eq!(
            split_name(" Mary Ann  Doe "),
            ("Mary Ann".into(), "Doe".into())
        );
        assert_eq!(split_name("Cher"), ("Cher".into(), String::new()));
        assert_eq!(split_name(""), (String::new(), String::new()));
    }
}
