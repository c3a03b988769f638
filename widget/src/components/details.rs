//! The contestant's details form (email, name, consent), given once per campaign, and the
//! Capture form (email and consent, posted at once). Checked by `form.rs` before anything is
//! posted; errors beside their field, the first one focused.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::campaign::{Ctx, focus};
use super::el::{El, el};
use super::error_message::{error_id, error_message};
use crate::bindings::page_context;
use crate::form::{self, ActionInput, Field, FieldError, FormInput};
use crate::i18n::Text;
use crate::session::Session;
use crate::state::{Action, WidgetState};

/// The details form's inputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetailsRefs {
    pub email: NodeRef,
    pub name: NodeRef,
    pub consent: NodeRef,
    pub honeypot: NodeRef,
}

impl DetailsRefs {
    fn read(&self) -> FormInput {
        let input = |node: &NodeRef| node.cast::<HtmlInputElement>();
        let value = |node: &NodeRef| input(node).map(|input| input.value()).unwrap_or_default();
        FormInput {
            email: value(&self.email),
            name: value(&self.name),
            consent: input(&self.consent).is_some_and(|input| input.checked()),
            honeypot: value(&self.honeypot),
        }
    }

    fn focus_first(&self, errors: &[FieldError]) {
        match errors.first().map(|error| error.field) {
            Some(Field::Email) => focus(&self.email),
            Some(Field::Name) => focus(&self.name),
            Some(Field::Consent) => focus(&self.consent),
            _ => {}
        }
    }
}

/// Checks the form; if it passes, logs the contestant in and posts the campaign's details
/// method (if it has one).
fn on_submit(ctx: &Ctx, refs: &DetailsRefs, busy: bool) -> Callback<SubmitEvent> {
    let ctx = ctx.clone();
    let refs = refs.clone();
    Callback::from(move |event: SubmitEvent| {
        event.prevent_default();
        if busy {
            return;
        }
        let input = refs.read();
        let valid = match form::validate(&input, form::consent_required(&ctx.campaign), ctx.lang) {
            Ok(valid) => valid,
            Err(errors) => {
                refs.focus_first(&errors);
                ctx.act(Action::DetailsInvalid(errors));
                return;
            }
        };
        let session = Session::new(
            &valid.email,
            &valid.name,
            valid.consent,
            form::referrer_code(&page_context().landing_url),
        );
        ctx.log_in(&session);
        if let Some(method) = form::details_method(&ctx.campaign) {
            let input = ActionInput {
                honeypot: valid.honeypot,
                ..ActionInput::default()
            };
            ctx.submit(&session, method.id, &input);
        }
    })
}

/// An input tied to its error: `aria-invalid` and `aria-describedby` when it has one.
pub fn input(
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    errors: &[FieldError],
    field: Field,
) -> El {
    let invalid = errors.iter().any(|error| error.field == field);
    el("input", "")
        .a("id", id)
        .a("name", name)
        .a("type", kind)
        .a_if(invalid, "aria-invalid", "true")
        .a_if(invalid, "aria-describedby", error_id(field))
}

/// `<div class="hl-field"><label for=…>…</label>…</div>`.
pub fn field(class: &'static str, label_for: &'static str, label: El, control: El) -> El {
    el("div", class).e(label.a("for", label_for)).e(control)
}

fn form_view(ctx: &Ctx, state: &WidgetState, refs: &DetailsRefs, capture: bool) -> Html {
    let campaign = &ctx.campaign;
    let errors = &state.details_errors;
    let busy = !state.posting.is_empty();
    let consent_required = form::consent_required(campaign);
    let consent_label = if consent_required {
        campaign.consent_text.clone()
    } else {
        ctx.text(Text::ConsentDefault).to_owned()
    };
    let button = match campaign.capture.as_ref() {
        Some(settings) if capture && !settings.button_text.is_empty() => {
            settings.button_text.clone()
        }
        _ => ctx
            .text(if capture {
                Text::SubscribeButton
            } else {
                Text::EnterButton
            })
            .to_owned(),
    };
    let mut form = el(
        "form",
        if capture {
            "hl-form hl-capture"
        } else {
            "hl-form"
        },
    )
    .a("novalidate", "")
    .submit(on_submit(ctx, refs, busy))
    .e(field(
        "hl-field",
        "hl-email",
        el("label", "").t(ctx.text(Text::Email)),
        input("hl-email", "email", "email", errors, Field::Email)
            .r(&refs.email)
            .a("autocomplete", "email")
            .a("inputmode", "email")
            .a("required", ""),
    )
    .c(error_message(Field::Email, errors)));
    if !capture {
        form = form.e(field(
            "hl-field",
            "hl-name",
            el("label", "")
                .t(ctx.text(Text::Name))
                .e(el("span", "hl-optional").t(ctx.text(Text::Optional))),
            input("hl-name", "name", "text", errors, Field::Name)
                .r(&refs.name)
                .a("autocomplete", "name"),
        )
        .c(error_message(Field::Name, errors)));
    }
    let consent = el("div", "hl-field hl-consent")
        .e(
            input("hl-consent", "consent", "checkbox", errors, Field::Consent)
                .r(&refs.consent)
                .a_if(consent_required, "required", ""),
        )
        .e(el("label", "").a("for", "hl-consent").t_s(consent_label))
        .c(error_message(Field::Consent, errors));
    let honeypot = field(
        "hl-hp",
        "hl-website",
        el("label", "").t("Website"),
        el("input", "")
            .a("id", "hl-website")
            .a("name", "website")
            .a("type", "text")
            .a("tabindex", "-1")
            .a("autocomplete", "off")
            .r(&refs.honeypot),
    )
    .a("aria-hidden", "true");
    form.e(consent)
        .e(honeypot)
        .c(error_message(Field::Form, errors))
        .e(el("button", "hl-submit")
            .a("type", "submit")
            .a_if(busy, "disabled", "")
            .a_if(busy, "aria-busy", "true")
            .t_s(if busy {
                ctx.text(Text::Sending).to_owned()
            } else {
                button
            }))
        .h()
}

/// The details form of a Competition or Reward.
pub fn details_form(ctx: &Ctx, state: &WidgetState, refs: &DetailsRefs) -> Html {
    form_view(ctx, state, refs, false)
}

/// A Capture campaign: its form, then the thank-you once the server has the email.
pub fn capture(ctx: &Ctx, state: &WidgetState, refs: &DetailsRefs) -> Html {
    let Some(session) = &state.session else {
        return form_view(ctx, state, refs, true);
    };
    let captured = form::details_method(&ctx.campaign)
        .is_some_and(|method| session.completion(method.id).is_some());
    if captured {
        let thanks = match ctx.campaign.capture.as_ref() {
            Some(settings) if !settings.success_text.is_empty() => settings.success_text.clone(),
            _ => ctx.text(Text::Subscribed).to_owned(),
        };
        return el("p", "hl-done").a("role", "status").t_s(thanks).h();
    }
    if !state.posting.is_empty() {
        return el("p", "hl-pending")
            .a("aria-busy", "true")
            .t(ctx.text(Text::Sending))
            .h();
    }
    if !state.waiting.is_empty() {
        return Html::default();
    }
    form_view(ctx, state, refs, true)
}

/// "Entering as joe@example.com. Not you?"
pub fn who(ctx: &Ctx, session: &Session) -> Html {
    let log_out = {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.act(Action::LogOut))
    };
    el("p", "hl-who")
        .t_s(
            ctx.text(Text::EnteringAs)
                .replace("{email}", &session.email),
        )
        .t(" ")
        .e(el("button", "hl-link")
            .a("type", "button")
            .click(log_out)
            .t(ctx.text(Text::NotYou)))
        .h()
}
