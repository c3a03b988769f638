//! The widget's Yew components below `App`.

mod entry_form;
mod error_message;

pub use entry_form::EntryForm;
