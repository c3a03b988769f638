//! Inbound conversion webhooks (`POST /hooks/in/{stream_key}`, seed 001): reading one body
//! into a [`Conversion`], and the part of it a widget may show ([`PublicConversion`]).
//!
//! Pure: [`parse`] takes the Content-Type header's value, the body and the clock as arguments
//! and does no IO. It must not know HTTP: an error says its [`ErrorClass`] and the `api`
//! module picks the status. Storing, showing and sending `conversion.received` are the
//! callers'.
//!
//! The rules, where the seed leaves room:
//! - **Format.** JSON (`application/json`, any `…+json` type) or form data
//!   (`application/x-www-form-urlencoded`, with PHP-style brackets for nesting: see
//!   [`form`]). A `charset` other than UTF-8 is refused. The body must be what the
//!   Content-Type says: a form body sent as JSON, or a JSON body sent as form data, is a
//!   [`InboundError::ContentTypeMismatch`]. Field names are the seed's, exactly.
//! - **Blank is absent.** `null`, `""` and whitespace-only values count as not given.
//! - **Email.** A top-level `email` is used when given (and must be valid). Otherwise the
//!   first email address in any string value, depth first in document order, is used.
//! - **Timestamp.** Unix time as a number or a numeric string, whole or with a fraction.
//!   Values from [`MILLISECONDS_FROM`] (10^11) up are milliseconds, smaller ones seconds:
//!   10^11 ms is March 1973 and 10^11 s the year 5138, so real times of either kind are
//!   read right. Missing means `now_ms`. Negative, non-numeric or after 9999 is an error.
//! - **Location.** `country` and `countryCode` fill each other from [`geo`]'s table
//!   (names, aliases and codes in any case), and so do `state` and `stateCode` for the US,
//!   that is when the country is the US or no country is given at all. A known code is
//!   stored upper-case; an unknown name or code is kept as given and the other stays empty.
//! - **Products.** Each needs a `name` and an http(s) `link`. The product shown is the
//!   top-level `productName` when there is one (the seed's "the product", with
//!   `productLink` and `productImage`); else the one of `products` with the highest `price`
//!   (the first of equals; unit price, not price × quantity); else the first of `products`.
//!   All of `products` are kept either way.
//! - **URLs** (`productLink`, `productImage`, a product's `link` and `image`) must be
//!   absolute http or https URLs: a widget puts them in `href` and `src`. They are stored as
//!   the URL parser writes them.
//! - **Text** is trimmed, runs of white space become one space and control characters are
//!   dropped; names may be [`MAX_NAME_LEN`] characters long, other text [`MAX_TEXT_LEN`],
//!   URLs [`MAX_URL_LEN`].
//! - **Everything else** stays only in [`Conversion::raw`].

mod error;
mod form;
pub mod geo;
mod public;
mod tree;

#[cfg(test)]
mod tests;

use std::net::IpAddr;

use protocol::validate::{MAX_NAME_LEN, normalize_email};
use serde_json::Value;

pub use error::{ErrorClass, InboundError, ProductProblem, TimestampProblem};
pub use public::{PublicConversion, PublicProduct, display_name};
use tree::Node;

/// The largest body read; the HTTP layer should refuse larger ones before reading them all.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Timestamps from this value up are milliseconds, below it seconds.
pub const MILLISECONDS_FROM: u64 = 100_000_000_000;
/// The last millisecond of the year 9999.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;
/// Longest text of a field other than a name or a URL.
pub const MAX_TEXT_LEN: usize = 500;
/// Longest URL.
pub const MAX_URL_LEN: usize = 2048;
/// Longest `currency`.
const MAX_CURRENCY_LEN: usize = 10;

/// The two body formats the hook reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Form,
}

impl BodyFormat {
    /// The Content-Type to send this format with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
        }
    }

    /// The format a Content-Type header value names: `application/json; charset=utf-8`,
    /// `application/vnd.api+json`, `application/x-www-form-urlencoded`.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, InboundError> {
        let unsupported = || InboundError::UnsupportedMediaType {
            content_type: content_type.map(|given| given.chars().take(100).collect()),
        };
        let given = content_type.ok_or_else(unsupported)?;
        let mut parts = given.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let format = match essence.as_str() {
            "application/json" | "text/json" => Self::Json,
            "application/x-www-form-urlencoded" => Self::Form,
            other if other.contains('/') && other.ends_with("+json") => Self::Json,
            _ => return Err(unsupported()),
        };
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("charset") {
                let charset = value.trim().trim_matches('"');
                if !["utf-8", "utf8", "us-ascii"]
                    .iter()
                    .any(|accepted| charset.eq_ignore_ascii_case(accepted))
                {
                    return Err(InboundError::UnsupportedCharset {
                        charset: charset.chars().take(40).collect(),
                    });
                }
            }
        }
        Ok(format)
    }
}

impl std::fmt::Display for BodyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Json => "JSON",
            Self::Form => "form data",
        })
    }
}

/// One conversion, as read from an inbound webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub format: BodyFormat,
    /// Normalised by [`protocol::validate::normalize_email`]. Never shown: see
    /// [`Conversion::public`].
    pub email: String,
    /// When it happened (the payload's `timestamp`, else the time it arrived), Unix ms.
    pub occurred_at_ms: i64,
    pub ip: Option<IpAddr>,
    /// Empty when not given.
    pub first_name: String,
    /// Empty when not given.
    pub last_name: String,
    /// The seed's product or category identifier; a number is kept as its digits.
    pub guid: Option<String>,
    pub location: Location,
    /// The top-level purchase fields, when any is given.
    pub purchase: Option<Purchase>,
    pub products: Vec<Product>,
    /// The product a notification shows, chosen as the module's doc says.
    pub shown_product: Option<ShownProduct>,
    /// The whole payload, unknown fields too; form data as the JSON it stands for, with
    /// every value a string.
    pub raw: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub city: Option<String>,
    pub country: Option<String>,
    /// ISO 3166-1 alpha-2, upper-case, when known; else as given.
    pub country_code: Option<String>,
    /// A US state's name (or another country's region, as given).
    pub state: Option<String>,
    /// A US state's two-letter code, upper-case, when known; else as given.
    pub state_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    pub product_name: Option<String>,
    pub product_link: Option<String>,
    pub product_image: Option<String>,
    pub total: Option<Amount>,
    /// Upper-cased when it is three letters (an ISO 4217 code); else as given.
    pub currency: Option<String>,
}

/// One of `products`.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: Option<String>,
    pub name: String,
    pub link: String,
    pub image: Option<String>,
    pub price: Option<Amount>,
    pub quantity: Option<u32>,
}

/// What a notification shows of the product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownProduct {
    pub name: String,
    pub link: Option<String>,
    pub image: Option<String>,
    /// Which of [`Conversion::products`] it is; `None` for the top-level `productName`.
    pub products_index: Option<usize>,
}

/// An amount of money exactly as sent (`"55.90"` stays `55.90`) and as a number.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    text: String,
    value: f64,
}

impl Amount {
    /// The decimal digits as sent, or as JSON wrote the number.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn value(&self) -> f64 {
        self.value
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads one inbound webhook body. `content_type` is the Content-Type header's value;
/// `now_ms` (Unix ms) is used when the payload has no `timestamp`.
pub fn parse(
    content_type: Option<&str>,
    body: &[u8],
    now_ms: i64,
) -> Result<Conversion, InboundError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(InboundError::BodyTooLarge);
    }
    let format = BodyFormat::from_content_type(content_type)?;
    let root = match format {
        BodyFormat::Json => read_json(body)?,
        BodyFormat::Form => read_form(body)?,
    };

    let email = email(&root)?;
    let occurred_at_ms = timestamp_ms(root.get("timestamp"))
        .map_err(|problem| InboundError::InvalidTimestamp { problem })?
        .unwrap_or(now_ms);
    let ip = ip(root.get("ip"))?;
    let first_name = text("firstName", root.get("firstName"), MAX_NAME_LEN)?.unwrap_or_default();
    let last_name = text("lastName", root.get("lastName"), MAX_NAME_LEN)?.unwrap_or_default();
    let guid = identifier("guid", root.get("guid"))?;
    let location = location(&root)?;
    let purchase = purchase(&root)?;
    let products = products(root.get("products"))?;
    let shown_product = shown_product(purchase.as_ref(), &products);

    Ok(Conversion {
        format,
        email,
        occurred_at_ms,
        ip,
        first_name,
        last_name,
        guid,
        location,
        purchase,
        products,
        shown_product,
        raw: root.into_value(),
    })
}

fn read_json(body: &[u8]) -> Result<Node, InboundError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let root: Node = serde_json::from_slice(body).map_err(|error| {
        if looks_like_form(body) {
            InboundError::ContentTypeMismatch {
                declared: BodyFormat::Json,
                found: BodyFormat::Form,
            }
        } else if body.trim_ascii().is_empty() {
            InboundError::InvalidJson {
                problem: "the body is empty".to_owned(),
            }
        } else {
            InboundError::InvalidJson {
                problem: error.to_string(),
            }
        }
    })?;
    match root {
        Node::Object(_) => Ok(root),
        other => Err(InboundError::NotAnObject {
            found: other.kind(),
        }),
    }
}

/// `name=value` pairs: no JSON value starts with a letter, digit or `%` and has an `=`
/// outside a string, so a body that does and failed to parse as JSON is form data.
fn looks_like_form(body: &[u8]) -> bool {
    let body = body.trim_ascii();
    match body.first() {
        Some(first) => {
            (first.is_ascii_alphanumeric() || matches!(first, b'%' | b'_'))
                && body.contains(&b'=')
                && !matches!(body, b"true" | b"false" | b"null")
        }
        None => false,
    }
}

fn read_form(body: &[u8]) -> Result<Node, InboundError> {
    // A form body never starts with `{` or `[`: form encoding percent-encodes both.
    if matches!(body.trim_ascii().first(), Some(b'{' | b'[')) {
        return Err(InboundError::ContentTypeMismatch {
            declared: BodyFormat::Form,
            found: BodyFormat::Json,
        });
    }
    form::parse(body)
}

/// A field's value, or `None` when it is absent, `null` or blank text.
fn present(node: Option<&Node>) -> Option<&Node> {
    match node? {
        Node::Null => None,
        Node::String(text) if text.trim().is_empty() => None,
        node => Some(node),
    }
}

fn email(root: &Node) -> Result<String, InboundError> {
    match present(root.get("email")) {
        Some(Node::String(text)) => {
            normalize_email(text).map_err(|problem| InboundError::InvalidEmail { problem })
        }
        Some(_) => Err(InboundError::InvalidField {
            field: "email".to_owned(),
            expected: "a string",
        }),
        None => root.first_email().ok_or(InboundError::EmailRequired),
    }
}

/// A number as sent: whole, or with a fraction.
enum Numeric {
    Whole(u64),
    Fraction(f64),
}

fn timestamp_ms(node: Option<&Node>) -> Result<Option<i64>, TimestampProblem> {
    let Some(node) = present(node) else {
        return Ok(None);
    };
    let numeric = match node {
        Node::Number(number) => match (number.as_u64(), number.as_f64()) {
            (Some(whole), _) => Numeric::Whole(whole),
            (None, Some(value)) if value >= 0.0 => Numeric::Fraction(value),
            _ => return Err(TimestampProblem::Negative),
        },
        Node::String(text) => {
            let text = text.trim();
            if text.strip_prefix('-').is_some_and(is_decimal) {
                return Err(TimestampProblem::Negative);
            }
            if !is_decimal(text) {
                return Err(TimestampProblem::NotANumber);
            }
            match text.parse::<u64>() {
                Ok(whole) => Numeric::Whole(whole),
                Err(_) if !text.contains('.') => return Err(TimestampProblem::TooLate),
                Err(_) => {
                    Numeric::Fraction(text.parse().map_err(|_| TimestampProblem::NotANumber)?)
                }
            }
        }
        _ => return Err(TimestampProblem::NotANumber),
    };
    let ms = match numeric {
        Numeric::Whole(value) if value >= MILLISECONDS_FROM => {
            i64::try_from(value).map_err(|_| TimestampProblem::TooLate)?
        }
        // Below 10^11, so times 1000 fits.
        Numeric::Whole(seconds) => {
            i64::try_from(seconds * 1000).map_err(|_| TimestampProblem::TooLate)?
        }
        Numeric::Fraction(value) => {
            let ms = if value >= MILLISECONDS_FROM as f64 {
                value
            } else {
                value * 1000.0
            }
            .round();
            if ms > MAX_TIMESTAMP_MS as f64 {
                return Err(TimestampProblem::TooLate);
            }
            ms as i64
        }
    };
    if ms > MAX_TIMESTAMP_MS {
        return Err(TimestampProblem::TooLate);
    }
    Ok(Some(ms))
}

/// Digits, optionally with a fraction: `55`, `55.90`. No sign, exponent or thousands.
fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

fn ip(node: Option<&Node>) -> Result<Option<IpAddr>, InboundError> {
    match present(node) {
        None => Ok(None),
        Some(Node::String(text)) => text
            .trim()
            .parse::<IpAddr>()
            .map(|ip| Some(ip.to_canonical()))
            .map_err(|_| InboundError::InvalidIp),
        Some(_) => Err(InboundError::InvalidIp),
    }
}

/// Trimmed, white space runs made one space, control characters dropped.
fn clean_text(raw: &str) -> String {
    let mut cleaned = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !cleaned.is_empty() {
            cleaned.push(' ');
        }
        cleaned.extend(word.chars().filter(|c| !c.is_control()));
    }
    cleaned
}

fn text(field: &str, node: Option<&Node>, max: usize) -> Result<Option<String>, InboundError> {
    let Some(node) = present(node) else {
        return Ok(None);
    };
    let Node::String(raw) = node else {
        return Err(InboundError::InvalidField {
            field: field.to_owned(),
            expected: "text",
        });
    };
    let text = clean_text(raw);
    if text.chars().count() > max {
        return Err(InboundError::FieldTooLong {
            field: field.to_owned(),
            max,
        });
    }
    Ok((!text.is_empty()).then_some(text))
}

/// A string, or a number kept as its digits: `"sku-1"`, `123`.
fn identifier(field: &str, node: Option<&Node>) -> Result<Option<String>, InboundError> {
    match present(node) {
        Some(Node::Number(number)) => Ok(Some(number.to_string())),
        Some(Node::String(_)) => text(field, node, MAX_TEXT_LEN),
        None => Ok(None),
        Some(_) => Err(InboundError::InvalidField {
            field: field.to_owned(),
            expected: "a string or a number",
        }),
    }
}

fn url(field: &str, node: Option<&Node>) -> Result<Option<String>, InboundError> {
    let invalid = || InboundError::InvalidUrl {
        field: field.to_owned(),
    };
    if present(node).is_some_and(|node| !matches!(node, Node::String(_))) {
        return Err(invalid());
    }
    let Some(text) = text(field, node, MAX_URL_LEN)? else {
        return Ok(None);
    };
    let parsed = url::Url::parse(&text).map_err(|_| invalid())?;
    let web = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|host| !host.is_empty());
    if !web {
        return Err(invalid());
    }
    Ok(Some(parsed.into()))
}

fn amount(field: &str, node: Option<&Node>) -> Result<Option<Amount>, InboundError> {
    let invalid = || InboundError::InvalidAmount {
        field: field.to_owned(),
    };
    let amount = match present(node) {
        None => return Ok(None),
        Some(Node::Number(number)) => Amount {
            text: number.to_string(),
            value: number.as_f64().ok_or_else(invalid)?,
        },
        Some(Node::String(text)) if is_decimal(text.trim()) => Amount {
            text: text.trim().to_owned(),
            value: text.trim().parse().map_err(|_| invalid())?,
        },
        Some(_) => return Err(invalid()),
    };
    if !(amount.value.is_finite() && amount.value >= 0.0) {
        return Err(invalid());
    }
    Ok(Some(amount))
}

fn quantity(field: &str, node: Option<&Node>) -> Result<Option<u32>, InboundError> {
    let invalid = || InboundError::InvalidField {
        field: field.to_owned(),
        expected: "a whole number of zero or more",
    };
    let whole = match present(node) {
        None => return Ok(None),
        Some(Node::Number(number)) => match (number.as_u64(), number.as_f64()) {
            (Some(whole), _) => whole,
            (None, Some(value)) if value >= 0.0 && value.fract() == 0.0 => {
                if value > f64::from(u32::MAX) {
                    return Err(invalid());
                }
                value as u64
            }
            _ => return Err(invalid()),
        },
        Some(Node::String(text)) => text.trim().parse::<u64>().map_err(|_| invalid())?,
        Some(_) => return Err(invalid()),
    };
    u32::try_from(whole).map(Some).map_err(|_| invalid())
}

fn location(root: &Node) -> Result<Location, InboundError> {
    let field = |name: &str| text(name, root.get(name), MAX_TEXT_LEN);
    let mut location = Location {
        city: field("city")?,
        country: field("country")?,
        country_code: field("countryCode")?,
        state: field("state")?,
        state_code: field("stateCode")?,
    };
    complete_location(&mut location);
    Ok(location)
}

/// Fills country from code and code from country, then the same for US states.
fn complete_location(location: &mut Location) {
    let by_code = location
        .country_code
        .as_deref()
        .and_then(|code| geo::country_by_code(code).or_else(|| geo::country_by_name(code)));
    let by_name = location
        .country
        .as_deref()
        .and_then(|name| geo::country_by_name(name).or_else(|| geo::country_by_code(name)));
    if let Some(place) = by_code {
        location.country_code = Some(place.code.to_owned());
        location
            .country
            .get_or_insert_with(|| place.name.to_owned());
    } else if location.country_code.is_none()
        && let Some(place) = by_name
    {
        location.country_code = Some(place.code.to_owned());
    }

    let in_us = match &location.country_code {
        Some(code) => code == "US",
        None => location.country.is_none(),
    };
    if !in_us {
        return;
    }
    let by_code = location
        .state_code
        .as_deref()
        .and_then(|code| geo::us_state_by_code(code).or_else(|| geo::us_state_by_name(code)));
    let by_name = location
        .state
        .as_deref()
        .and_then(|name| geo::us_state_by_name(name).or_else(|| geo::us_state_by_code(name)));
    if let Some(place) = by_code {
        location.state_code = Some(place.code.to_owned());
        location.state.get_or_insert_with(|| place.name.to_owned());
    } else if location.state_code.is_none()
        && let Some(place) = by_name
    {
        location.state_code = Some(place.code.to_owned());
    }
}

fn purchase(root: &Node) -> Result<Option<Purchase>, InboundError> {
    let currency = text("currency", root.get("currency"), MAX_CURRENCY_LEN)?.map(|currency| {
        if currency.len() == 3 && currency.bytes().all(|byte| byte.is_ascii_alphabetic()) {
            currency.to_ascii_uppercase()
        } else {
            currency
        }
    });
    let purchase = Purchase {
        product_name: text("productName", root.get("productName"), MAX_TEXT_LEN)?,
        product_link: url("productLink", root.get("productLink"))?,
        product_image: url("productImage", root.get("productImage"))?,
        total: amount("total", root.get("total"))?,
        currency,
    };
    let any = purchase.product_name.is_some()
        || purchase.product_link.is_some()
        || purchase.product_image.is_some()
        || purchase.total.is_some()
        || purchase.currency.is_some();
    Ok(any.then_some(purchase))
}

fn products(node: Option<&Node>) -> Result<Vec<Product>, InboundError> {
    match present(node) {
        None => Ok(Vec::new()),
        Some(Node::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| product(index, item))
            .collect(),
        Some(_) => Err(InboundError::ProductsNotList),
    }
}

fn product(index: usize, node: &Node) -> Result<Product, InboundError> {
    if !matches!(node, Node::Object(_)) {
        return Err(InboundError::InvalidProduct {
            index,
            problem: ProductProblem::NotAnObject,
        });
    }
    let path = |key: &str| format!("products[{index}].{key}");
    let name = text(&path("name"), node.get("name"), MAX_TEXT_LEN)?.ok_or(
        InboundError::InvalidProduct {
            index,
            problem: ProductProblem::NameRequired,
        },
    )?;
    let link = url(&path("link"), node.get("link"))?.ok_or(InboundError::InvalidProduct {
        index,
        problem: ProductProblem::LinkRequired,
    })?;
    Ok(Product {
        id: identifier(&path("id"), node.get("id"))?,
        name,
        link,
        image: url(&path("image"), node.get("image"))?,
        price: amount(&path("price"), node.get("price"))?,
        quantity: quantity(&path("quantity"), node.get("quantity"))?,
    })
}

fn shown_product(purchase: Option<&Purchase>, products: &[Product]) -> Option<ShownProduct> {
    if let Some(purchase) = purchase
        && let Some(name) = &purchase.product_name
    {
        return Some(ShownProduct {
            name: name.clone(),
            link: purchase.product_link.clone(),
            image: purchase.product_image.clone(),
            products_index: None,
        });
    }
    let mut chosen: Option<(usize, f64)> = None;
    for (index, product) in products.iter().enumerate() {
        if let Some(price) = &product.price
            && chosen.is_none_or(|(_, highest)| price.value() > highest)
        {
            chosen = Some((index, price.value()));
        }
    }
    let index = chosen.map_or(0, |(index, _)| index);
    let product = products.get(index)?;
    Some(ShownProduct {
        name: product.name.clone(),
        link: Some(product.link.clone()),
        image: product.image.clone(),
        products_index: Some(index),
    })
}
