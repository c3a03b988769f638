//! `error_message`: one field's error, announced to screen readers as it appears.
//!
//! A plain function rather than a component: it has no state or hooks, and each component
//! type costs its own copy of Yew's lifecycle code (about 1 KB gzipped of the widget).

use yew::prelude::*;

use super::el::el;
use crate::form::{Field, FieldError};

/// The `id` of a field's error, for the input's `aria-describedby`. Ids are scoped to the
/// widget's shadow root, so several widgets on one page do not clash.
pub fn error_id(field: Field) -> &'static str {
    match field {
        Field::Email => "hl-error-email",
        Field::Name => "hl-error-name",
        Field::Consent => "hl-error-consent",
        Field::Value => "hl-error-value",
        Field::Form => "hl-error-form",
    }
}

/// The error for `field` among all current `errors`, if it has one.
pub fn error_message(field: Field, errors: &[FieldError]) -> Html {
    match errors.iter().find(|error| error.field == field) {
        Some(error) => el("p", "hl-error")
            .a("id", error_id(field))
            .a("data-field", field.as_str())
            .a("role", "alert")
            .t_s(error.message.clone())
            .h(),
        None => Html::default(),
    }
}
