//! Why an inbound conversion was refused: one variant per cause, each with a stable
//! snake_case [`code`](InboundError::code), a `detail` for the sender (its `Display`), the
//! field it is about, and the [`ErrorClass`] the HTTP layer turns into a status.

use std::fmt;

use protocol::validate::{EmailProblem, MAX_EMAIL_LEN};

use super::{BodyFormat, MAX_BODY_BYTES};

/// How an error should be answered, so that this module need not know HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The body is larger than [`MAX_BODY_BYTES`]: 413.
    TooLarge,
    /// The Content-Type is missing or is not one the hook reads: 415.
    UnsupportedMediaType,
    /// The body cannot be read as the format it is sent as: 400.
    Malformed,
    /// The body reads, but a field is missing or its value is refused: 422.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InboundError {
    #[error("The body is larger than {max} bytes.", max = MAX_BODY_BYTES)]
    BodyTooLarge,
    #[error(
        "Send the body as JSON (Content-Type: application/json) or as form data \
         (Content-Type: application/x-www-form-urlencoded); {}.",
        given_content_type(.content_type.as_deref())
    )]
    UnsupportedMediaType {
        /// The header as sent, cut to 100 characters.
        content_type: Option<String>,
    },
    #[error("The body must be UTF-8, not charset {charset:?}.")]
    UnsupportedCharset { charset: String },
    #[error(
        "The Content-Type says {declared} but the body is {found}: send it with Content-Type: {}.",
        .found.media_type()
    )]
    ContentTypeMismatch {
        declared: BodyFormat,
        found: BodyFormat,
    },
    #[error("The body is not valid JSON: {problem}.")]
    InvalidJson { problem: String },
    #[error("The JSON body must be an object of fields, not {found}.")]
    NotAnObject { found: &'static str },
    #[error("The form data cannot be read: {problem}.")]
    InvalidForm { problem: String },
    #[error("An email address is required: send it as `email`, or anywhere in the payload.")]
    EmailRequired,
    #[error("{}", email_detail(*.problem))]
    InvalidEmail { problem: EmailProblem },
    #[error("`timestamp` {problem}.")]
    InvalidTimestamp { problem: TimestampProblem },
    #[error("`ip` must be an IPv4 or IPv6 address, like 141.92.55.102.")]
    InvalidIp,
    #[error("`{field}` must be {expected}.")]
    InvalidField {
        field: String,
        expected: &'static str,
    },
    #[error("`{field}` is longer than {max} characters.")]
    FieldTooLong { field: String, max: usize },
    #[error("`{field}` must be an absolute http or https URL, like https://example.com/product.")]
    InvalidUrl { field: String },
    #[error("`{field}` must be an amount of zero or more, like 55 or 55.90.")]
    InvalidAmount { field: String },
    #[error("`products` must be a list of products.")]
    ProductsNotList,
    #[error("`products[{index}]` {problem}.")]
    InvalidProduct {
        index: usize,
        problem: ProductProblem,
    },
}

impl InboundError {
    /// The stable machine-readable code, for `{code, detail}` answers.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BodyTooLarge => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::UnsupportedCharset { .. } => "unsupported_charset",
            Self::ContentTypeMismatch { .. } => "content_type_mismatch",
            Self::InvalidJson { .. } => "invalid_json",
            Self::NotAnObject { .. } => "json_not_object",
            Self::InvalidForm { .. } => "invalid_form",
            Self::EmailRequired => "email_required",
            Self::InvalidEmail { .. } => "invalid_email",
            Self::InvalidTimestamp { .. } => "invalid_timestamp",
            Self::InvalidIp => "invalid_ip",
            Self::InvalidField { .. } => "invalid_field",
            Self::FieldTooLong { .. } => "field_too_long",
            Self::InvalidUrl { .. } => "invalid_url",
            Self::InvalidAmount { .. } => "invalid_amount",
            Self::ProductsNotList => "invalid_products",
            Self::InvalidProduct { .. } => "invalid_product",
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Self::BodyTooLarge => ErrorClass::TooLarge,
            Self::UnsupportedMediaType { .. } | Self::UnsupportedCharset { .. } => {
                ErrorClass::UnsupportedMediaType
            }
            Self::ContentTypeMismatch { .. }
            | Self::InvalidJson { .. }
            | Self::NotAnObject { .. }
            | Self::InvalidForm { .. } => ErrorClass::Malformed,
            Self::EmailRequired
            | Self::InvalidEmail { .. }
            | Self::InvalidTimestamp { .. }
            | Self::InvalidIp
            | Self::InvalidField { .. }
            | Self::FieldTooLong { .. }
            | Self::InvalidUrl { .. }
            | Self::InvalidAmount { .. }
            | Self::ProductsNotList
            | Self::InvalidProduct { .. } => ErrorClass::Invalid,
        }
    }

    /// The payload field the error is about, as a path: `email`, `products[2].link`.
    pub fn field(&self) -> Option<String> {
        match self {
            Self::EmailRequired | Self::InvalidEmail { .. } => Some("email".to_owned()),
            Self::InvalidTimestamp { .. } => Some("timestamp".to_owned()),
            Self::InvalidIp => Some("ip".to_owned()),
            Self::InvalidField { field, .. }
            | Self::FieldTooLong { field, .. }
            | Self::InvalidUrl { field }
            | Self::InvalidAmount { field } => Some(field.clone()),
            Self::ProductsNotList => Some("products".to_owned()),
            Self::InvalidProduct { index, problem } => Some(match problem {
                ProductProblem::NotAnObject => format!("products[{index}]"),
                ProductProblem::NameRequired => format!("products[{index}].name"),
                ProductProblem::LinkRequired => format!("products[{index}].link"),
            }),
            Self::BodyTooLarge
            | Self::UnsupportedMediaType { .. }
            | Self::UnsupportedCharset { .. }
            | Self::ContentTypeMismatch { .. }
            | Self::InvalidJson { .. }
            | Self::NotAnObject { .. }
            | Self::InvalidForm { .. } => None,
        }
    }
}

fn given_content_type(content_type: Option<&str>) -> String {
    match content_type {
        Some(given) => format!("the Content-Type was {given:?}"),
        None => "no Content-Type was given".to_owned(),
    }
}

fn email_detail(problem: EmailProblem) -> String {
    match problem {
        EmailProblem::Missing => "`email` is empty.".to_owned(),
        EmailProblem::TooLong => format!("`email` is longer than {MAX_EMAIL_LEN} characters."),
        EmailProblem::Malformed => {
            "`email` must be an email address, like name@example.com.".to_owned()
        }
    }
}

/// What is wrong with a `timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampProblem {
    /// Not a number, nor a string of digits.
    NotANumber,
    Negative,
    /// After the end of the year 9999.
    TooLate,
}

impl fmt::Display for TimestampProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotANumber => {
                "must be a Unix time in seconds or milliseconds, like 1528611279 or 1528611279398"
            }
            Self::Negative => "must not be negative",
            Self::TooLate => "is after the year 9999",
        })
    }
}

/// What is wrong with one of `products`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductProblem {
    NotAnObject,
    NameRequired,
    LinkRequired,
}

impl fmt::Display for ProductProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAnObject => "must be an object with a `name` and a `link`",
            Self::NameRequired => "has no `name`",
            Self::LinkRequired => "has no `link`",
        })
    }
}
