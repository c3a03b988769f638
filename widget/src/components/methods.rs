//! The ways to enter, mandatory ones first, each with its own UI: visiting a URL or following
//! a profile counts on click (and opens a new tab, without `window.opener`); a question, a
//! secret code or an upload (an image's address, or a picture file, sent before the entry)
//! opens a small form; a referral shows the contestant's share link.
//! Done, done-today and locked methods say so. One panel is open at a time, so one `NodeRef`
//! serves its input.

use std::rc::Rc;

use protocol::campaign::{AnswerKind, EntryMethodType, PublicEntryMethod};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::campaign::{Ctx, focus};
use super::details::{field, input};
use super::el::{El, el};
use super::error_message::error_message;
use crate::bindings::page_context;
use crate::form::{self, ActionInput, Field, FieldError};
use crate::i18n::Text;
use crate::rules::{self, MethodState};
use crate::session::Session;
use crate::state::{Action, WidgetState};

pub fn methods(
    ctx: &Ctx,
    state: &WidgetState,
    session: &Rc<Session>,
    value_ref: &NodeRef,
    now: i64,
) -> Html {
    let listed = rules::listed_methods(&ctx.campaign);
    if listed.is_empty() {
        return Html::default();
    }
    let items = listed
        .into_iter()
        .map(|method| item(ctx, state, session, method, value_ref, now))
        .collect();
    el("div", "")
        .e(el("h3", "hl-methods-title").t(ctx.text(Text::YourActions)))
        .e(el("ul", "hl-methods").cs(items))
        .h()
}

/// The link a `visit_url` or `social_follow` method opens, if it has one.
fn link(method: &PublicEntryMethod) -> Option<&str> {
    let url = match method.method_type {
        EntryMethodType::VisitUrl => method.visit_url.as_ref().map(|visit| visit.url.as_str()),
        EntryMethodType::SocialFollow => method
            .social_follow
            .as_ref()
            .map(|social| social.profile_url.as_str()),
        _ => None,
    }?;
    form::is_web_url(url).then_some(url)
}

/// A callback posting `method` with `value` (a click that counts).
fn post_on_click(
    ctx: &Ctx,
    session: &Rc<Session>,
    method: &PublicEntryMethod,
    value: &str,
) -> Callback<MouseEvent> {
    let (ctx, session, id) = (ctx.clone(), session.clone(), method.id);
    let input = ActionInput {
        value: value.to_owned(),
        ..ActionInput::default()
    };
    Callback::from(move |_: MouseEvent| ctx.submit(&session, id, &input))
}

fn item(
    ctx: &Ctx,
    state: &WidgetState,
    session: &Rc<Session>,
    method: &PublicEntryMethod,
    value_ref: &NodeRef,
    now: i64,
) -> Html {
    let id = method.id;
    let standing = rules::method_state(&ctx.campaign, method, &session.completed, now);
    let posting = state.posting.contains(&id);
    let expanded = state.expanded == Some(id);
    let mut text = method.action.clone();
    if let Some(social) = method
        .social_follow
        .as_ref()
        .filter(|social| !social.handle.is_empty())
    {
        text = format!("{text} @{}", social.handle);
    }
    let mut label = vec![el("span", "hl-action-text").t_s(text).h()];
    if method.mandatory {
        label.push(el("span", "hl-required").t(ctx.text(Text::Required)).h());
    }
    label.push(
        el("span", "hl-worth")
            .a("aria-hidden", "true")
            .t_s(format!("+{}", method.worth))
            .h(),
    );
    let one_click = matches!(
        method.method_type,
        EntryMethodType::VisitUrl | EntryMethodType::SocialFollow
    );
    let referral = method.method_type == EntryMethodType::Referral;
    let head = match (standing, link(method)) {
        (MethodState::Locked, _) => el("button", "hl-action")
            .a("type", "button")
            .a("disabled", ""),
        (now_standing, Some(url)) if one_click => {
            // A person may always visit again; only an open method counts the click.
            let head = el("a", "hl-action")
                .a_s("href", url.to_owned())
                .a("target", "_blank")
                .a("rel", "noopener noreferrer");
            if now_standing == MethodState::Open && !posting {
                head.click(post_on_click(ctx, session, method, url))
            } else {
                head
            }
        }
        // No address to open (a server without per-method settings): the click counts.
        (MethodState::Open, None) if one_click => {
            let head = el("button", "hl-action").a("type", "button");
            if posting {
                head
            } else {
                head.click(post_on_click(ctx, session, method, ""))
            }
        }
        (now_standing, _) if now_standing.is_done() && !referral => {
            el("div", "hl-action hl-is-done")
        }
        _ => {
            let ctx = ctx.clone();
            el("button", "hl-action")
                .a("type", "button")
                .a("aria-expanded", if expanded { "true" } else { "false" })
                .click(Callback::from(move |_: MouseEvent| {
                    ctx.act(Action::Toggle(id))
                }))
        }
    };
    let status = match standing {
        _ if posting => Some(Text::Sending),
        MethodState::Done if !referral => Some(Text::Done),
        MethodState::DoneToday => Some(Text::DoneToday),
        MethodState::Locked => Some(Text::Locked),
        _ if state.waiting.contains(&id) => Some(Text::Queued),
        _ => None,
    };
    let state_name = match standing {
        MethodState::Open => "open",
        MethodState::Locked => "locked",
        MethodState::Done => "done",
        MethodState::DoneToday => "done_today",
    };
    let mut row = el("li", "hl-method")
        .a_s("data-method-id", id.0.to_string())
        .a("data-type", method.method_type.as_str())
        .a("data-state", state_name)
        .e(head.cs(label));
    if let Some(status) = status {
        row = row.e(el("span", "hl-state").t(ctx.text(status)));
    }
    if expanded && standing != MethodState::Locked {
        row = row.c(panel(ctx, state, session, method, value_ref, posting));
    }
    row.h()
}

/// What the contestant typed or chose in the open panel.
fn read_value(node: &NodeRef) -> String {
    if let Some(input) = node.cast::<HtmlInputElement>() {
        return if input.type_() == "checkbox" {
            input.checked().to_string()
        } else {
            input.value()
        };
    }
    node.cast::<HtmlSelectElement>()
        .map(|select| select.value())
        .unwrap_or_default()
}

/// The input of a method's panel, labelled, bound to `value_ref`.
fn control(
    ctx: &Ctx,
    method: &PublicEntryMethod,
    errors: &[FieldError],
    value_ref: &NodeRef,
) -> El {
    let value =
        |kind: &'static str| input("hl-value", "value", kind, errors, Field::Value).r(value_ref);
    let label = |text: String| el("label", "").t_s(text);
    match method.method_type {
        EntryMethodType::CustomQuestion => {
            let (question, kind, choices, required) = match &method.custom_question {
                Some(q) => (q.question.clone(), q.kind, q.choices.as_slice(), q.required),
                None => (method.action.clone(), AnswerKind::Text, &[][..], true),
            };
            match kind {
                AnswerKind::Text => field(
                    "hl-field",
                    "hl-value",
                    label(question),
                    value("text").a_if(required, "required", ""),
                ),
                AnswerKind::Checkbox => el("div", "hl-field hl-consent")
                    .e(value("checkbox"))
                    .e(label(question).a("for", "hl-value")),
                AnswerKind::Choice => {
                    let mut options = vec![
                        el("option", "")
                            .a("value", "")
                            .t(ctx.text(Text::Choose))
                            .h(),
                    ];
                    options.extend(choices.iter().map(|choice| {
                        el("option", "")
                            .a_s("value", choice.clone())
                            .t_s(choice.clone())
                            .h()
                    }));
                    let mut select = el("select", "")
                        .r(value_ref)
                        .a("id", "hl-value")
                        .a("name", "value")
                        .a_if(required, "required", "");
                    if errors.iter().any(|error| error.field == Field::Value) {
                        select = select
                            .a("aria-invalid", "true")
                            .a("aria-describedby", "hl-error-value");
                    }
                    field("hl-field", "hl-value", label(question), select.cs(options))
                }
            }
        }
        EntryMethodType::SecretCode => {
            let hint = method
                .secret_code
                .as_ref()
                .map(|secret| secret.hint.clone())
                .unwrap_or_default();
            let mut block = el("div", "hl-field")
                .e(label(ctx.text(Text::SecretCode).to_owned()).a("for", "hl-value"));
            if !hint.is_empty() {
                block = block.e(el("p", "hl-hint").t_s(hint));
            }
            block.e(value("text").a("autocomplete", "off").a("required", ""))
        }
        EntryMethodType::Upload if form::takes_file(method) => field(
            "hl-field",
            "hl-value",
            label(ctx.text(Text::Picture).to_owned()),
            value("file")
                .a("accept", "image/jpeg,image/png,image/gif,image/webp")
                .a("required", ""),
        ),
        EntryMethodType::Upload => field(
            "hl-field",
            "hl-value",
            label(ctx.text(Text::ImageUrl).to_owned()),
            value("url")
                .a("inputmode", "url")
                .a("placeholder", "https://")
                .a("required", ""),
        ),
        _ => el("div", ""),
    }
}

fn panel(
    ctx: &Ctx,
    state: &WidgetState,
    session: &Rc<Session>,
    method: &PublicEntryMethod,
    value_ref: &NodeRef,
    posting: bool,
) -> Html {
    if method.method_type == EntryMethodType::Referral {
        return referral(ctx, session, value_ref);
    }
    let errors: Vec<FieldError> = state
        .method_error
        .iter()
        .filter(|(id, _)| *id == method.id)
        .map(|(_, error)| error.clone())
        .collect();
    let control = control(ctx, method, &errors, value_ref);
    let onsubmit = {
        let (ctx, session, id, value_ref) =
            (ctx.clone(), session.clone(), method.id, value_ref.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(method) = ctx.method(id) else { return };
            if posting {
                return;
            }
            let checked = if form::takes_file(method) {
                let file = value_ref
                    .cast::<HtmlInputElement>()
                    .and_then(|input| input.files())
                    .and_then(|files| files.get(0));
                let size = file.as_ref().map(|file| file.size());
                match (form::picture_problem(method, size, ctx.lang), file) {
                    (None, Some(file)) => return ctx.upload(&session, id, file),
                    (problem, _) => Err(problem.unwrap_or_default()),
                }
            } else {
                form::action_value(method, &read_value(&value_ref), ctx.lang)
            };
            match checked {
                Ok(value) => {
                    let input = ActionInput {
                        value,
                        ..ActionInput::default()
                    };
                    ctx.submit(&session, id, &input);
                }
                Err(message) => {
                    ctx.act(Action::MethodInvalid(
                        id,
                        FieldError::new(Field::Value, message),
                    ));
                    focus(&value_ref);
                }
            }
        })
    };
    el("form", "hl-panel")
        .a("novalidate", "")
        .submit(onsubmit)
        .e(control)
        .c(error_message(Field::Value, &errors))
        .e(el("button", "hl-submit")
            .a("type", "submit")
            .a_if(posting, "disabled", "")
            .a_if(posting, "aria-busy", "true")
            .t(ctx.text(if posting {
                Text::Sending
            } else {
                Text::SubmitAnswer
            })))
        .h()
}

/// The contestant's share link, to copy, and how many friends entered through it.
fn referral(ctx: &Ctx, session: &Session, value_ref: &NodeRef) -> Html {
    let Some(link) = form::share_link(session, &page_context().landing_url) else {
        return el("p", "hl-panel hl-hint")
            .t(ctx.text(Text::ShareLinkPending))
            .h();
    };
    let mut block = el("div", "hl-panel").e(field(
        "hl-field",
        "hl-value",
        el("label", "").t(ctx.text(Text::ShareLink)),
        el("input", "")
            .a("id", "hl-value")
            .a("type", "text")
            .a("readonly", "")
            .value(link.into())
            .r(value_ref),
    ));
    if session.referrals > 0 {
        block =
            block.e(el("p", "hl-hint").t_s(ctx.lang.with_n(Text::Referrals, session.referrals)));
    }
    block.h()
}
