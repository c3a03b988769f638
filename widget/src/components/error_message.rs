//! `ErrorMessage`: one field's error, announced to screen readers as it appears.

use yew::prelude::*;

use crate::form::{Field, FieldError};

#[derive(Debug, Properties, PartialEq)]
pub struct ErrorMessageProps {
    pub field: Field,
    /// All current errors; this shows the one for `field`, if any.
    pub errors: Vec<FieldError>,
}

/// The `id` of a field's error, for the input's `aria-describedby`. Ids are scoped to the
/// widget's shadow root, so several widgets on one page do not clash.
pub fn error_id(field: Field) -> String {
    format!("hl-error-{}", field.as_str())
}

/// The message for `field` among `errors`.
pub fn error_for(errors: &[FieldError], field: Field) -> Option<&str> {
    errors
        .iter()
        .find(|error| error.field == field)
        .map(|error| error.message.as_str())
}

#[function_component]
pub fn ErrorMessage(props: &ErrorMessageProps) -> Html {
    match error_for(&props.errors, props.field) {
        Some(message) => html! {
            <p class="hl-error" id={error_id(props.field)} data-field={props.field.as_str()} role="alert">
                { message }
            </p>
        },
        None => Html::default(),
    }
}
