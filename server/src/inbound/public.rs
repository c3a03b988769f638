//! What a social-proof notification may show of a conversion: "Joe B. from Miami just bought
//! Sneakers". Never the email address, nor any other field that carries one.

use serde::Serialize;

use super::Conversion;

/// Shown when a conversion has no first name (widgets translate it).
pub const NO_NAME: &str = protocol::social::SOMEONE;

/// The fields of a conversion that are safe to show to a site's visitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicConversion {
    /// "Joe B.": see [`display_name`].
    pub display_name: String,
    /// Empty when not given.
    pub first_name: String,
    /// The last name's initial without a dot, `B`; empty when not given.
    pub last_initial: String,
    pub city: Option<String>,
    pub state: Option<String>,
    pub state_code: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub product: Option<PublicProduct>,
    pub occurred_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicProduct {
    pub name: String,
    pub link: Option<String>,
    pub image: Option<String>,
}

/// The public name of a person: the first name and the last name's initial, "Joe B.";
/// "Joe" without a last name; [`NO_NAME`] without a first name.
///
/// A word that looks like an email address (anything with text on both sides of an `@`) is
/// left out of both names, so a sender that puts the address in `firstName` does not get it
/// shown.
pub fn display_name(first_name: &str, last_name: &str) -> String {
    let first = without_addresses(first_name);
    match (first.is_empty(), last_initial(last_name)) {
        (true, _) => NO_NAME.to_owned(),
        (false, Some(initial)) => format!("{first} {initial}."),
        (false, None) => first,
    }
}

/// The upper-cased first letter or digit of the last name, leaving out address-like words.
fn last_initial(last_name: &str) -> Option<String> {
    without_addresses(last_name)
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect())
}

/// `text` without its words that have text on both sides of an `@`.
fn without_addresses(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| {
            !word
                .split_once('@')
                .is_some_and(|(before, after)| !before.is_empty() && !after.is_empty())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Conversion {
    /// See [`display_name`].
    pub fn display_name(&self) -> String {
        display_name(&self.first_name, &self.last_name)
    }

    /// The part of this conversion a widget may show. Text fields lose their address-like
    /// words, and a link or image URL that contains this conversion's email address (a
    /// tracking link, say) is left out.
    pub fn public(&self) -> PublicConversion {
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(without_addresses)
                .filter(|text| !text.is_empty())
        };
        let email = self.email.to_lowercase();
        let email_encoded = email.replace('@', "%40");
        let url = |value: &Option<String>| {
            value
                .as_ref()
                .filter(|url| {
                    let url = url.to_lowercase();
                    !url.contains(&email) && !url.contains(&email_encoded)
                })
                .cloned()
        };
        let location = &self.location;
        PublicConversion {
            display_name: self.display_name(),
            first_name: without_addresses(&self.first_name),
            last_initial: last_initial(&self.last_name).unwrap_or_default(),
            city: text(&location.city),
            state: text(&location.state),
            state_code: text(&location.state_code),
            country: text(&location.country),
            country_code: text(&location.country_code),
            product: self.shown_product.as_ref().and_then(|product| {
                let name = without_addresses(&product.name);
                (!name.is_empty()).then(|| PublicProduct {
                    name,
                    link: url(&product.link),
                    image: url(&product.image),
                })
            }),
            occurred_at_ms: self.occurred_at_ms,
        }
    }
}
