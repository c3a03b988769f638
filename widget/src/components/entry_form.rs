//! `EntryForm`: the contestant's details, checked here, posted once, confirmed.
//!
//! Fires `hookline:capture` on submit, then `hookline:entry` or `hookline:error` when the
//! server has answered. Never posts a form that fails the checks in `form.rs`.

use std::cell::RefCell;
use std::rc::Rc;

use protocol::campaign::PublicCampaign;
use protocol::entry::EntryResponse;
use protocol::events::{self, CaptureDetail, EntryDetail, ErrorDetail};
use protocol::ids::EntryMethodId;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::error_message::{error_for, error_id, error_message};
use crate::api::post_entry;
use crate::bindings::{page_context, random_bytes};
use crate::form::{
    self, Field, FieldError, FormInput, NETWORK_CODE, NETWORK_MESSAGE, PostOutcome, ValidForm,
};
use crate::host::{Host, HostState};

#[derive(Debug, Properties, PartialEq)]
pub struct EntryFormProps {
    pub campaign: Rc<PublicCampaign>,
    pub entry_method_id: EntryMethodId,
    pub host: Host,
    pub api_base: AttrValue,
}

/// The last form sent and its idempotency key: sending the same form again after a network
/// failure reuses the key, so the server never stores it twice.
type LastSent = Rc<RefCell<Option<(ValidForm, String)>>>;

#[function_component]
pub fn EntryForm(props: &EntryFormProps) -> Html {
    let errors = use_state(Vec::<FieldError>::new);
    let posting = use_state(|| false);
    let confirmed = use_state(|| None::<EntryResponse>);
    let last_sent: LastSent = use_mut_ref(|| None);
    let email_ref = use_node_ref();
    let name_ref = use_node_ref();
    let consent_ref = use_node_ref();
    let honeypot_ref = use_node_ref();

    if let Some(response) = &*confirmed {
        return html! {
            <p class="hl-done" role="status">{ form::done_message(response.total_entries) }</p>
        };
    }

    let campaign = &props.campaign;
    let consent_required = form::consent_required(campaign);
    let onsubmit = {
        let errors = errors.clone();
        let posting = posting.clone();
        let confirmed = confirmed.clone();
        let refs = [
            email_ref.clone(),
            name_ref.clone(),
            consent_ref.clone(),
            honeypot_ref.clone(),
        ];
        let props = (
            props.campaign.clone(),
            props.entry_method_id,
            props.host.clone(),
            props.api_base.clone(),
        );
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if *posting {
                return;
            }
            let (campaign, entry_method_id, host, api_base) = props.clone();
            let input = read_input(&refs);
            let valid = match form::validate(&input, consent_required) {
                Ok(valid) => valid,
                Err(found) => {
                    focus_first_invalid(&found, &refs);
                    errors.set(found);
                    return;
                }
            };
            let idempotency_key = {
                let mut last_sent = last_sent.borrow_mut();
                match &*last_sent {
                    Some((form, key)) if *form == valid => key.clone(),
                    _ => {
                        let key = form::idempotency_key(&random_bytes());
                        *last_sent = Some((valid.clone(), key.clone()));
                        key
                    }
                }
            };
            let campaign_info = form::campaign_info(&campaign);
            host.dispatch(
                events::CAPTURE,
                &CaptureDetail {
                    campaign: campaign_info.clone(),
                    user: valid.contestant(),
                    entry_method_id,
                    entry_type: protocol::campaign::EntryMethodType::EmailSubscribe,
                    idempotency_key: idempotency_key.clone(),
                },
            );
            errors.set(Vec::new());
            posting.set(true);
            let request = form::entry_request(
                &valid,
                entry_method_id,
                campaign.issued_at,
                &idempotency_key,
                &page_context(),
            );
            let (errors, posting, confirmed, last_sent) = (
                errors.clone(),
                posting.clone(),
                confirmed.clone(),
                last_sent.clone(),
            );
            spawn_local(async move {
                let outcome = post_entry(&api_base, campaign.key.as_str(), &request).await;
                posting.set(false);
                let error = |code: String, detail: String| ErrorDetail {
                    campaign: Some(campaign.key.clone()),
                    code,
                    detail,
                    field: None,
                };
                match outcome {
                    PostOutcome::Accepted(response) => {
                        *last_sent.borrow_mut() = None;
                        host.set_state(HostState::Done);
                        host.dispatch(
                            events::ENTRY,
                            &EntryDetail {
                                campaign: campaign_info,
                                user: valid.contestant(),
                                entry: response.entry.clone(),
                                value: String::new(),
                                idempotency_key,
                                actions_completed: response.actions_completed,
                                total_entries: response.total_entries,
                            },
                        );
                        confirmed.set(Some(response));
                    }
                    PostOutcome::Refused(refusal) => {
                        errors.set(vec![form::refusal_error(&refusal)]);
                        host.dispatch(events::ERROR, &error(refusal.code, refusal.detail));
                    }
                    PostOutcome::Retry => {
                        errors.set(vec![FieldError::new(Field::Form, NETWORK_MESSAGE)]);
                        host.dispatch(
                            events::ERROR,
                            &error(NETWORK_CODE.to_owned(), NETWORK_MESSAGE.to_owned()),
                        );
                    }
                }
            });
        })
    };

    let invalid = |field: Field| error_for(&errors, field).is_some();
    let described_by = |field: Field| invalid(field).then(|| error_id(field));
    let aria_invalid = |field: Field| invalid(field).then_some("true");
    let consent_label = if consent_required {
        campaign.consent_text.clone()
    } else {
        "Send me updates about this campaign.".to_owned()
    };
    html! {
        <form class="hl-form" novalidate=true {onsubmit}>
            <div class="hl-field">
                <label for="hl-email">{ "Email" }</label>
                <input id="hl-email" ref={email_ref} name="email" type="email" autocomplete="email"
                    inputmode="email" required=true
                    aria-invalid={aria_invalid(Field::Email)} aria-describedby={described_by(Field::Email)} />
                { error_message(Field::Email, &errors) }
            </div>
            <div class="hl-field">
                <label for="hl-name">{ "Name" }<span class="hl-optional">{ " (optional)" }</span></label>
                <input id="hl-name" ref={name_ref} name="name" type="text" autocomplete="name"
                    aria-invalid={aria_invalid(Field::Name)} aria-describedby={described_by(Field::Name)} />
                { error_message(Field::Name, &errors) }
            </div>
            <div class="hl-field hl-consent">
                <input id="hl-consent" ref={consent_ref} name="consent" type="checkbox" required={consent_required}
                    aria-invalid={aria_invalid(Field::Consent)} aria-describedby={described_by(Field::Consent)} />
                <label for="hl-consent">{ consent_label }</label>
                { error_message(Field::Consent, &errors) }
            </div>
            <div class="hl-hp" aria-hidden="true">
                <label for="hl-website">{ "Website" }</label>
                <input id="hl-website" ref={honeypot_ref} name="website" type="text" tabindex="-1" autocomplete="off" />
            </div>
            { error_message(Field::Form, &errors) }
            <button type="submit" class="hl-submit" disabled={*posting} aria-busy={posting.then_some("true")}>
                { "Enter" }
            </button>
        </form>
    }
}

/// Reads the form from its inputs: email, name, consent, honeypot.
fn read_input(refs: &[NodeRef; 4]) -> FormInput {
    let input = |index: usize| refs[index].cast::<HtmlInputElement>();
    let value = |index: usize| input(index).map(|input| input.value()).unwrap_or_default();
    FormInput {
        email: value(0),
        name: value(1),
        consent: input(2).is_some_and(|input| input.checked()),
        honeypot: value(3),
    }
}

/// Moves keyboard focus to the first field with an error.
fn focus_first_invalid(errors: &[FieldError], refs: &[NodeRef; 4]) {
    let index = match errors.first().map(|error| error.field) {
        Some(Field::Email) => 0,
        Some(Field::Name) => 1,
        Some(Field::Consent) => 2,
        _ => return,
    };
    if let Some(element) = refs[index].cast::<HtmlElement>() {
        // Focus only fails for elements that cannot take it; these inputs can.
        let _ = element.focus();
    }
}
