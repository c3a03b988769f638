//! The frame every console page shares: head, navigation, main landmark, and small helpers
//! for fields and tables.

use maud::{DOCTYPE, Markup, html};

/// Which part of the console a page belongs to (its navigation link is marked current).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Campaigns,
    Entries,
    Webhooks,
    Streams,
    Keys,
}

/// A page's frame: its title, and (once signed in) the workspace and the current section.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    pub title: &'a str,
    pub signed_in: Option<(&'a str, Section)>,
}

impl<'a> Page<'a> {
    /// A page without navigation (sign-in, setup, errors).
    pub fn bare(title: &'a str) -> Self {
        Self {
            title,
            signed_in: None,
        }
    }

    pub fn signed_in(title: &'a str, workspace: &'a str, section: Section) -> Self {
        Self {
            title,
            signed_in: Some((workspace, section)),
        }
    }
}

/// A whole page, as an HTML response.
pub type Rendered = axum::response::Html<String>;

pub fn page(frame: Page<'_>, body: Markup) -> Rendered {
    let link = |section: Section, current: Section, href: &str, text: &str| {
        html! {
            a href=(href) aria-current=[(section == current).then_some("page")] { (text) }
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · Hookline" }
                link rel="stylesheet" href="/www/console/console.css";
                script src="/www/console/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/admin" { "Hookline" }
                    @if let Some((workspace, current)) = frame.signed_in {
                        nav aria-label="Console" {
                            (link(Section::Campaigns, current, "/admin/campaigns", "Campaigns"))
                            (link(Section::Entries, current, "/admin/entries", "Entries"))
                            (link(Section::Webhooks, current, "/admin/webhooks", "Webhooks"))
                            (link(Section::Streams, current, "/admin/streams", "Streams"))
                            (link(Section::Keys, current, "/admin/keys", "API keys"))
                        }
                        div.account {
                            span.workspace { (workspace) }
                            form method="post" action="/admin/sign-out" {
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    };
    axum::response::Html(markup.into_string())
}

/// A form-level message region: errors not about one field land here.
pub fn form_status() -> Markup {
    html! {
        p.form-error role="alert" data-form-error hidden {}
        p.form-ok role="status" data-form-ok hidden {}
    }
}

/// A labelled text input named `name` (the admin API's field path).
pub fn text_field(label: &str, name: &str, value: &str, hint: Option<&str>) -> Markup {
    Fields::PAGE.text(label, name, value, hint)
}

/// A labelled field around `control`, with a hint and a place for its error.
pub fn field(label: &str, name: &str, hint: Option<&str>, control: Markup) -> Markup {
    Fields::PAGE.field(label, name, hint, control)
}

/// A checkbox named `name`, sent as `true`/`false`.
pub fn checkbox(label: &str, name: &str, checked: bool) -> Markup {
    Fields::PAGE.checkbox(label, name, checked)
}

/// A select named `name` over `(value, text)` options.
pub fn select(label: &str, name: &str, options: &[(&str, &str)], selected: &str) -> Markup {
    Fields::PAGE.select(label, name, options, selected)
}

/// An element id for a field path (`entry_methods[0].action` → `f-entry_methods-0-action`).
pub fn id(name: &str) -> String {
    Fields::PAGE.id(name)
}

/// The fields of one form. Element ids start with the form's prefix, so forms on one page
/// that share field names (every entry method's `action`) keep their labels apart.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    prefix: &'a str,
}

impl<'a> Fields<'a> {
    /// The page's main form: ids `f-…`.
    pub const PAGE: Fields<'static> = Fields { prefix: "f" };

    pub fn new(prefix: &'a str) -> Self {
        Self { prefix }
    }

    /// The element id of field `name` (`entry_methods[0].action` → `f-entry_methods-0-action`).
    pub fn id(&self, name: &str) -> String {
        let cleaned: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("{}-{cleaned}", self.prefix)
    }

    fn hint_id(&self, name: &str) -> String {
        format!("{}-hint", self.id(name))
    }

    /// A labelled text input.
    pub fn text(&self, label: &str, name: &str, value: &str, hint: Option<&str>) -> Markup {
        self.field(
            label,
            name,
            hint,
            html! {
                input #(self.id(name)) name=(name) type="text" value=(value)
                    aria-describedby=[hint.map(|_| self.hint_id(name))];
            },
        )
    }

    /// A labelled field around `control` (whose id must be [`Fields::id`]), with a hint and
    /// a place for its error.
    pub fn field(&self, label: &str, name: &str, hint: Option<&str>, control: Markup) -> Markup {
        html! {
            div.field {
                label for=(self.id(name)) { (label) }
                (control)
                @if let Some(hint) = hint {
                    p.hint id=(self.hint_id(name)) { (hint) }
                }
                p.field-error data-error-for=(name) role="alert" hidden {}
            }
        }
    }

    /// A checkbox, sent as `true`/`false`.
    pub fn checkbox(&self, label: &str, name: &str, checked: bool) -> Markup {
        html! {
            div.field.check {
                input #(self.id(name)) name=(name) type="checkbox" data-type="bool" checked[checked];
                label for=(self.id(name)) { (label) }
                p.field-error data-error-for=(name) role="alert" hidden {}
            }
        }
    }

    /// A select over `(value, text)` options.
    pub fn select(
        &self,
        label: &str,
        name: &str,
        options: &[(&str, &str)],
        selected: &str,
    ) -> Markup {
        self.field(
            label,
            name,
            None,
            html! {
                select #(self.id(name)) name=(name) {
                    @for (value, text) in options {
                        option value=(value) selected[*value == selected] { (text) }
                    }
                }
            },
        )
    }

    /// A number input.
    pub fn number(&self, label: &str, name: &str, value: i64, min: Option<i64>) -> Markup {
        self.field(
            label,
            name,
            None,
            html! {
                input #(self.id(name)) name=(name) type="number" min=[min] data-type="number" value=(value);
            },
        )
    }
}

/// A button that copies the text of element `target` (by id) to the clipboard.
pub fn copy_button(target: &str) -> Markup {
    html! { button.small type="button" data-copy=(target) { "Copy" } }
}

/// A `<time>` of a unix-ms instant, in UTC; the script shows it in the viewer's time zone.
pub fn time(unix_ms: i64) -> Markup {
    let text = crate::clock::rfc3339(unix_ms);
    html! { time datetime=(text) { (text.replace('T', " ").replace('Z', " UTC")) } }
}
