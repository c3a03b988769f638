//! A loaded campaign, for one contestant: `Ctx`, the side effects of the widget's state
//! (`state.rs`): posting through the outbox, keeping the session, opening and closing a
//! modal or bar, firing `login`, `capture`, `entry`, `reward`, `open`, `close` and `error` on
//! the host element; and `view`, what it shows.
//!
//! Plain functions, not components: `App` is the widget's one component (each component type
//! costs its own copy of Yew's lifecycle code). `details.rs`, `methods.rs` and `totals.rs`
//! draw the parts, with `El` (`el.rs`) rather than `html!`.

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::rc::Rc;
use std::time::Duration;

use protocol::campaign::{CampaignType, CaptureDisplay, PublicCampaign, PublicEntryMethod};
use protocol::entry::ApiError;
use protocol::events::{
    self, CampaignInfo, CaptureDetail, CloseDetail, CloseTrigger, ContestantInfo, EntryDetail,
    ErrorDetail, LoginDetail, OpenDetail, OpenTrigger, RewardDetail,
};
use protocol::ids::{EntryMethodId, UploadId};
use protocol::social::Notification;
use wasm_bindgen::JsValue;
use web_sys::{Element, HtmlElement, KeyboardEvent};
use yew::html::Scope;
use yew::platform::spawn_local;
use yew::platform::time::sleep;
use yew::prelude::*;

use super::details::{self, DetailsRefs};
use super::el::el;
use super::{methods, totals};
use crate::api;
use crate::app::App;
use crate::bindings::{format_date, now_ms, page_context, random_bytes};
use crate::display::{self, AutoOpen, Display};
use crate::feed::{self, Feed};
use crate::form::{self, ActionInput, FieldError, PostOutcome};
use crate::host::{Command, Commands, Host, HostState};
use crate::i18n::{Lang, Text};
use crate::outbox::Pending;
use crate::rules::{self, Schedule};
use crate::session::Session;
use crate::state::{Action, WidgetState};
use crate::storage;
use crate::toasts::{self, Step, Toasts};
use crate::wire::{self, NotificationText};

/// What the after-render effect watches: the session (by identity), the open panel, and
/// whether the overlay is open.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub session: Option<Rc<Session>>,
    pub expanded: Option<EntryMethodId>,
    pub open: bool,
    /// The session was read from storage: from then on it is written back.
    pub restored: bool,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Self) -> bool {
        same_session(&self.session, &other.session)
            && self.expanded == other.expanded
            && self.open == other.open
            && self.restored == other.restored
    }
}

fn same_session(a: &Option<Rc<Session>>, b: &Option<Rc<Session>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Rc::ptr_eq(a, b),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// The inputs views bind, kept across renders (made with the context, not as hooks: each
/// kind of hook costs the bundle its own code).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refs {
    pub details: DetailsRefs,
    /// The open panel's input.
    pub value: NodeRef,
    pub dialog: NodeRef,
}

thread_local! {
    /// Idempotency keys being posted on this page, so two widgets of one campaign (or a flush
    /// racing a first post) never send the same post at once.
    static IN_FLIGHT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// What the side effects need; one `Rc`, cheap to clone into callbacks and tasks.
#[derive(Debug, Clone)]
pub struct Ctx(Rc<CtxInner>);

#[derive(Debug)]
pub struct CtxInner {
    pub campaign: Rc<PublicCampaign>,
    pub host: Host,
    pub api_base: AttrValue,
    pub lang: Lang,
    pub dispatch: Scope<App>,
    /// Whether a modal or bar is open, and whether it has been on this page; read by
    /// commands and timers that outlive a render.
    overlay: Cell<(bool, bool)>,
    /// Cleared when the widget unmounts, so late timers and answers do nothing.
    alive: Cell<bool>,
    /// How the widget opens by itself (exit intent opens it once).
    auto_open: Cell<AutoOpen>,
    /// Social proof, when the campaign shows it: which toast when (`toasts.rs`), the feed
    /// they come from, the toast timer's generation (a newer timer replaces an older one) and
    /// the toast on screen (held while the pointer or the focus is on it).
    toasts: RefCell<Option<Toasts<JsValue>>>,
    feed: RefCell<Option<Feed>>,
    toast_timer: Cell<u32>,
    pub toast_ref: NodeRef,
    pub refs: Refs,
    /// What the last render showed (see [`after_render`]).
    shown_before: RefCell<Shown>,
}

impl Ctx {
    /// Whether both are the same context (not a copy).
    pub fn same(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for Ctx {
    type Target = CtxInner;

    fn deref(&self) -> &CtxInner {
        &self.0
    }
}

impl Ctx {
    pub fn new(
        campaign: Rc<PublicCampaign>,
        host: Host,
        api_base: AttrValue,
        lang: Lang,
        dispatch: Scope<App>,
    ) -> Self {
        Self(Rc::new(CtxInner {
            campaign,
            host,
            api_base,
            lang,
            dispatch,
            overlay: Cell::new((false, false)),
            alive: Cell::new(true),
            auto_open: Cell::new(AutoOpen::Shown),
            toasts: RefCell::new(None),
            feed: RefCell::new(None),
            toast_timer: Cell::new(0),
            toast_ref: NodeRef::default(),
            refs: Refs::default(),
            shown_before: RefCell::default(),
        }))
    }

    /// The widget has gone (its app destroyed): late timers and answers do nothing, the feed
    /// closes.
    pub fn retire(&self) {
        self.alive.set(false);
        // The feed's listener holds this context: dropping the feed ends that cycle.
        drop(self.feed.take());
    }

    /// Social proof: follows the campaign's activity feed, if it shows one.
    fn follow_activity(&self) {
        let Some(settings) = &self.campaign.social_proof else {
            return;
        };
        let key = &self.campaign.key;
        let visit = storage::toast_visit(key);
        self.toasts
            .replace(Some(Toasts::new(settings, visit.as_deref())));
        let ctx = self.clone();
        let feed = feed::open(&self.api_base, key, move |notification, parsed| {
            let now = now_ms();
            if ctx.with_toasts(|toasts| toasts.receive(notification, parsed, now)) == Some(true) {
                ctx.schedule_toast();
            }
        });
        self.feed.replace(feed);
    }

    fn with_toasts<T>(&self, change: impl FnOnce(&mut Toasts<JsValue>) -> T) -> Option<T> {
        self.toasts.borrow_mut().as_mut().map(change)
    }

    /// Sets the timer for the toasts' next step, replacing any earlier one.
    fn schedule_toast(&self) {
        let generation = self.toast_timer.get().wrapping_add(1);
        self.toast_timer.set(generation);
        let now = now_ms();
        let Some(at) = self.with_toasts(|toasts| toasts.next_tick(now)).flatten() else {
            return;
        };
        let ctx = self.clone();
        after(
            display::wait_ms(at, now),
            Box::new(move || {
                if ctx.alive.get() && ctx.toast_timer.get() == generation {
                    ctx.toast_step();
                }
            }),
        );
    }

    /// The toasts' next step: one goes (unless held), the next comes; `notification` fires
    /// for each that comes.
    fn toast_step(&self) {
        let held = self
            .toast_ref
            .cast::<Element>()
            .is_some_and(|toast| toast.matches(":hover,:focus-within").unwrap_or(false));
        let now = now_ms();
        let stepped = self.with_toasts(|toasts| {
            let step = toasts.tick(now, held);
            let showing = toasts
                .current()
                .map(|(notification, parsed)| (notification.clone(), parsed.clone()));
            (step, showing, toasts.visit())
        });
        if let Some((step, showing, visit)) = stepped
            && step != Step::Nothing
        {
            storage::set_toast_visit(&self.campaign.key, &visit);
            let shown = match showing {
                Some((notification, parsed)) => {
                    if step == Step::Shown {
                        self.told(&notification, &parsed);
                    }
                    Some(notification)
                }
                None => None,
            };
            self.act(Action::Toast(shown));
        }
        self.schedule_toast();
    }

    /// `hookline:notification`: the campaign, the sentence shown, and the notification as the
    /// feed's JSON parsed.
    fn told(&self, notification: &Notification, parsed: &JsValue) {
        let text = toasts::sentence(self.lang, notification, &self.campaign.name).text();
        let detail = wire::to_js(&NotificationText {
            campaign: &self.info(),
            text: &text,
        });
        // Setting a property of a plain new object does not fail.
        let _ = js_sys::Reflect::set(&detail, &JsValue::from_str("notification"), parsed);
        self.host.dispatch_js(events::NOTIFICATION, &detail);
    }

    /// What the host page (through the loader) asks.
    pub fn command(&self, command: Command) {
        match command {
            Command::Open => self.open(OpenTrigger::Command),
            Command::Close => self.close(CloseTrigger::Command),
            Command::Online => self.flush(),
            Command::Unmount => self.retire(),
            Command::ExitIntent => {
                if display::opens_on_exit_intent(self.auto_open.get(), self.overlay.get().1) {
                    self.open(OpenTrigger::ExitIntent);
                }
            }
        }
    }

    /// The visitor closed the toast: none more in this visit.
    pub fn dismiss_toast(&self) {
        if let Some(visit) = self.with_toasts(|toasts| {
            toasts.dismiss();
            toasts.visit()
        }) {
            storage::set_toast_visit(&self.campaign.key, &visit);
        }
        self.act(Action::Toast(None));
        self.schedule_toast();
    }

    fn info(&self) -> CampaignInfo {
        form::campaign_info(&self.campaign)
    }

    pub fn text(&self, text: Text) -> &'static str {
        self.lang.get(text)
    }

    pub fn method(&self, id: EntryMethodId) -> Option<&PublicEntryMethod> {
        self.campaign
            .entry_methods
            .iter()
            .find(|method| method.id == id)
    }

    pub fn act(&self, action: Action) {
        self.dispatch.send_message(action);
    }

    fn error_event(&self, code: &str, detail: &str, field: Option<String>) {
        self.host.dispatch(
            events::ERROR,
            &ErrorDetail {
                campaign: Some(self.campaign.key.clone()),
                code: code.to_owned(),
                detail: detail.to_owned(),
                field,
            },
        );
    }

    pub fn log_in(&self, session: &Session) {
        self.act(Action::LogIn(session.clone()));
        self.host.dispatch(
            events::LOGIN,
            &LoginDetail {
                campaign: self.info(),
                user: session.contestant(),
                restored: false,
            },
        );
    }

    /// Posts one action of `session`'s contestant: into the outbox first, `capture` at once,
    /// then the post. Doing an action again while its post waits reuses that post (and its
    /// idempotency key) when the value is the same.
    pub fn submit(&self, session: &Session, method: EntryMethodId, input: &ActionInput) {
        let Some(method) = self.method(method) else {
            return;
        };
        let key = self.campaign.key.clone();
        let built = storage::update_outbox(|outbox| {
            if let Some(waiting) = outbox.waiting(&key, method.id) {
                if waiting.value == input.value {
                    return Some(waiting.clone());
                }
                let stale = waiting.idempotency_key.clone();
                outbox.remove(&stale);
            }
            let idempotency_key = form::idempotency_key(&random_bytes());
            let post = form::entry_post(
                session,
                method,
                input,
                self.campaign.issued_at,
                &idempotency_key,
                &page_context(),
            );
            let pending = Pending {
                campaign: key.clone(),
                entry_method_id: method.id,
                idempotency_key,
                value: input.value.clone(),
                body: api::to_json(&post)?,
                queued_at: now_ms(),
            };
            outbox.put(pending.clone());
            Some(pending)
        });
        // `JSON.stringify` of a plain object of strings, numbers and booleans does not fail.
        let Some(pending) = built else { return };
        self.host.dispatch(
            events::CAPTURE,
            &CaptureDetail {
                campaign: self.info(),
                user: session.contestant(),
                entry_method_id: method.id,
                entry_type: method.method_type,
                idempotency_key: pending.idempotency_key.clone(),
            },
        );
        self.act(Action::Posting(method.id));
        spawn_local(self.clone().send(pending, session.contestant()));
    }

    /// Sends the picture chosen for a `file` upload method, then posts the action citing the
    /// upload (through [`Self::submit`], so from then on like any other). A refusal or a
    /// failure to reach the server shows in the method's panel.
    pub fn upload(&self, session: &Rc<Session>, method: EntryMethodId, file: web_sys::File) {
        self.act(Action::Posting(method));
        let (ctx, session) = (self.clone(), session.clone());
        spawn_local(async move {
            let sent =
                api::post_upload(&ctx.api_base, ctx.campaign.key.as_str(), method, &file).await;
            if ctx.alive.get() {
                ctx.uploaded(&session, method, sent);
            }
        });
    }

    /// What follows a picture's upload: the action's post, or the refusal shown (one made
    /// up, `upload_failed`, when the server could not be reached).
    #[inline(never)]
    fn uploaded(
        &self,
        session: &Session,
        method: EntryMethodId,
        sent: Result<(UploadId, String), Option<ApiError>>,
    ) {
        match sent {
            Ok((upload_id, url)) => {
                let input = ActionInput {
                    value: url,
                    upload_id: Some(upload_id),
                    ..ActionInput::default()
                };
                self.submit(session, method, &input);
            }
            Err(refusal) => self.refuse(
                method,
                &refusal.unwrap_or_else(|| ApiError {
                    code: "upload_failed".to_owned(),
                    detail: self.text(Text::UploadFailed).to_owned(),
                    field: Some("file".to_owned()),
                }),
            ),
        }
    }

    /// The server refused `method`'s action: its message in the form, and `error`.
    #[inline(never)]
    fn refuse(&self, method: EntryMethodId, refusal: &ApiError) {
        self.refused(method, form::refusal_error(refusal, self.lang));
        self.error_event(&refusal.code, &refusal.detail, refusal.field.clone());
    }

    /// Sends every post of this campaign waiting in the outbox (at mount, and when the
    /// browser is back online).
    fn flush(&self) {
        let now = now_ms();
        let waiting: Vec<Pending> = storage::update_outbox(|outbox| {
            outbox.expire(now);
            outbox.for_campaign(&self.campaign.key).cloned().collect()
        });
        if waiting.is_empty() {
            return;
        }
        let user = storage::load_session(&self.campaign.key).map_or_else(
            || ContestantInfo {
                email: String::new(),
                name: String::new(),
            },
            |session| session.contestant(),
        );
        for pending in waiting {
            self.act(Action::Posting(pending.entry_method_id));
            spawn_local(self.clone().send(pending, user.clone()));
        }
    }

    async fn send(self, pending: Pending, user: ContestantInfo) {
        let key = pending.idempotency_key.clone();
        let claimed = IN_FLIGHT.with_borrow_mut(|in_flight| {
            let free = !in_flight.contains(&key);
            if free {
                in_flight.push(key.clone());
            }
            free
        });
        if !claimed {
            return;
        }
        let outcome =
            api::post_entry(&self.api_base, pending.campaign.as_str(), &pending.body).await;
        IN_FLIGHT.with_borrow_mut(|in_flight| in_flight.retain(|k| *k != key));
        if !self.alive.get() {
            // Unmounted meanwhile: whatever was not answered stays in the outbox.
            return;
        }
        let method = pending.entry_method_id;
        match outcome {
            PostOutcome::Accepted(answer) => {
                storage::update_outbox(|outbox| outbox.remove(&key));
                let detail = EntryDetail {
                    campaign: self.info(),
                    user: user.clone(),
                    entry: answer.response.entry.clone(),
                    value: pending.value,
                    idempotency_key: key,
                    actions_completed: answer.response.actions_completed,
                    total_entries: answer.response.total_entries,
                    answer: answer.answer.clone(),
                };
                let reward = answer.reward.clone();
                self.act(Action::Confirmed {
                    method,
                    answer: *answer,
                    now: now_ms(),
                });
                self.host.set_state(HostState::Done);
                self.host.dispatch(events::ENTRY, &detail);
                if let Some(reward) = reward {
                    let detail = RewardDetail {
                        campaign: self.info(),
                        user,
                        reward,
                    };
                    self.host.dispatch(events::REWARD, &detail);
                }
            }
            PostOutcome::Refused(refusal) => {
                storage::update_outbox(|outbox| outbox.remove(&key));
                self.refuse(method, &refusal);
            }
            PostOutcome::Retry => self.act(Action::Queued(method)),
        }
    }

    fn refused(&self, method: EntryMethodId, error: FieldError) {
        let details = form::details_method(&self.campaign).is_some_and(|m| m.id == method);
        self.act(Action::Refused {
            method,
            error,
            details,
        });
    }

    pub fn open(&self, trigger: OpenTrigger) {
        if self.overlay.get().0 || !self.alive.get() {
            return;
        }
        self.overlay.set((true, true));
        self.act(Action::Open);
        self.host.dispatch(
            events::OPEN,
            &OpenDetail {
                campaign: self.info(),
                trigger,
            },
        );
    }

    pub fn close(&self, trigger: CloseTrigger) {
        let (open, before) = self.overlay.get();
        if !open {
            return;
        }
        self.overlay.set((false, before));
        if trigger == CloseTrigger::Dismissed {
            storage::set_dismissed_at(&self.campaign.key, now_ms());
        }
        self.act(Action::Close);
        self.host.dispatch(
            events::CLOSE,
            &CloseDetail {
                campaign: self.info(),
                trigger,
            },
        );
    }
}

/// Runs `then` after `wait_ms` milliseconds. Every timer goes through here: each `async`
/// block costs the bundle its own state machine.
#[inline(never)]
fn after(wait_ms: u32, then: Box<dyn FnOnce()>) {
    spawn_local(async move {
        sleep(Duration::from_millis(wait_ms.into())).await;
        then();
    });
}

/// The methods of `campaign` whose posts wait in the outbox.
fn waiting_methods(campaign: &PublicCampaign) -> Vec<EntryMethodId> {
    storage::load_outbox()
        .for_campaign(&campaign.key)
        .map(|pending| pending.entry_method_id)
        .collect()
}

/// After each render: the session is kept (once restored), a newly opened panel's input or
/// a newly opened overlay gets the focus.
pub fn after_render(ctx: &Ctx, shown: &Shown) {
    let refs = &ctx.refs;
    let before = &ctx.shown_before.replace(shown.clone());
    if shown.restored && !same_session(&shown.session, &before.session) {
        storage::save_session(&ctx.campaign.key, shown.session.as_deref());
    }
    if shown.expanded.is_some() && shown.expanded != before.expanded {
        focus(&refs.value);
    }
    if shown.open && !before.open {
        let email = &refs.details.email;
        focus(if email.get().is_some() {
            email
        } else {
            &refs.dialog
        });
    }
}

/// The campaign as the contestant sees it: inline, or (modal, bar) only while open.
pub fn view(ctx: &Ctx, state: &WidgetState, refs: &Refs) -> Html {
    let campaign = &ctx.campaign;
    let display = display_of(ctx);
    if display.is_overlay() && !state.open {
        return Html::default();
    }
    let lang = ctx.lang;
    let now = now_ms();
    let schedule = rules::schedule(campaign, now);
    let body = match (schedule, &state.session) {
        (Schedule::NotStarted(at), _) => {
            notice(lang.with_date(Text::NotStarted, &format_date(at, lang)))
        }
        (Schedule::Closed, _) => notice(ctx.text(Text::Ended).to_owned()),
        _ if campaign.campaign_type == CampaignType::Capture => {
            details::capture(ctx, state, &refs.details)
        }
        (_, None) if campaign.entry_methods.is_empty() => {
            notice(ctx.text(Text::NoEntryMethods).to_owned())
        }
        (_, None) => details::details_form(ctx, state, &refs.details),
        (_, Some(session)) => el("div", "hl-entered")
            .c(details::who(ctx, session))
            .c(totals::totals(ctx, state, session))
            .c(methods::methods(ctx, state, session, &refs.value, now))
            .h(),
    };
    let mut card = el("section", "hl-card")
        .a("lang", lang.tag())
        .a("aria-labelledby", "hl-title");
    if !campaign.image_url.is_empty() {
        card = card.e(el("img", "hl-image")
            .a_s("src", campaign.image_url.clone())
            .a("alt", ""));
    }
    card = card.e(el("h2", "hl-name")
        .a("id", "hl-title")
        .t_s(campaign.name.clone()));
    if !campaign.description.is_empty() {
        card = card.e(el("p", "hl-description").t_s(campaign.description.clone()));
    }
    if let Schedule::Running(Some(end)) = schedule {
        card =
            card.e(el("p", "hl-ends").t_s(lang.with_date(Text::EndsOn, &format_date(end, lang))));
    }
    let queued = !state.waiting.is_empty() && state.posting.is_empty();
    let live = el("p", "hl-notice")
        .a("role", "status")
        .a("aria-live", "polite");
    let card = card
        .c(body)
        .e(if queued {
            live.t(ctx.text(Text::Queued))
        } else {
            live
        })
        .h();
    if display.is_overlay() {
        overlay(ctx, display, card, &refs.dialog)
    } else {
        card
    }
}

/// How the widget appears: the element's `data-display`/`data-delay`, else the campaign's.
fn display_of(ctx: &Ctx) -> Display {
    display::display(
        &ctx.campaign,
        ctx.host.attribute("data-display").as_deref(),
        ctx.host.attribute("data-delay").as_deref(),
    )
}

fn notice(text: String) -> Html {
    el("p", "hl-unavailable").t_s(text).h()
}

/// A modal dialog over the page, or a bar at the bottom of the window, around `card`.
fn overlay(ctx: &Ctx, display: Display, card: Html, dialog_ref: &NodeRef) -> Html {
    let dismiss = |ctx: &Ctx| {
        let ctx = ctx.clone();
        move || ctx.close(CloseTrigger::Dismissed)
    };
    let on_key = {
        let close = dismiss(ctx);
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                close();
            }
        })
    };
    let close_button = {
        let close = dismiss(ctx);
        el("button", "hl-close")
            .a("type", "button")
            .a("aria-label", ctx.text(Text::Close))
            .click(Callback::from(move |_: MouseEvent| close()))
            .t("×")
    };
    let frame = el(
        "div",
        if display.mode == CaptureDisplay::Bar {
            "hl-bar"
        } else {
            "hl-dialog"
        },
    )
    .r(dialog_ref)
    .a("tabindex", "-1")
    .keydown(on_key)
    .e(close_button)
    .c(card);
    if display.mode == CaptureDisplay::Bar {
        return frame
            .a("role", "region")
            .a("aria-labelledby", "hl-title")
            .h();
    }
    let on_backdrop = {
        let close = dismiss(ctx);
        Callback::from(move |event: MouseEvent| {
            if event.target() == event.current_target() {
                close();
            }
        })
    };
    el("div", "hl-backdrop")
        .click(on_backdrop)
        .e(frame
            .a("role", "dialog")
            .a("aria-modal", "true")
            .a("aria-labelledby", "hl-title"))
        .h()
}

/// Once the campaign has loaded: the session kept in storage is restored (and a returning
/// contestant announced and checked with the server), the outbox is flushed, a modal or bar
/// is timed, and the host page's commands are wired.
pub fn on_loaded(ctx: &Ctx, commands: &Commands) {
    let display = display_of(ctx);
    let session = storage::load_session(&ctx.campaign.key).map(Rc::new);
    ctx.act(Action::Restore {
        session: session.clone(),
        waiting: waiting_methods(&ctx.campaign),
    });
    let session = session.as_deref();
    if let Some(session) = session {
        ctx.host.dispatch(
            events::LOGIN,
            &LoginDetail {
                campaign: ctx.info(),
                user: session.contestant(),
                restored: true,
            },
        );
        if let Some(token) = session.token.clone() {
            let ctx = ctx.clone();
            spawn_local(async move {
                let status =
                    api::fetch_status(&ctx.api_base, ctx.campaign.key.as_str(), token.as_str())
                        .await;
                if let Some(status) = status
                    && ctx.alive.get()
                {
                    ctx.act(Action::Status(status));
                }
            });
        }
    }
    ctx.flush();

    let loaded_at = now_ms();
    let entered =
        session.is_some_and(|session| session.total_entries > 0 || !session.completed.is_empty());
    let auto = display::auto_open(
        display,
        loaded_at,
        storage::dismissed_at(&ctx.campaign.key),
        entered,
    );
    if let AutoOpen::At(at) = auto {
        let ctx = ctx.clone();
        after(
            display::wait_ms(at, now_ms()),
            Box::new(move || ctx.open(OpenTrigger::Delay)),
        );
    }
    ctx.auto_open.set(auto);
    ctx.follow_activity();
    commands.register(ctx);
}

/// Moves keyboard focus to the element of `node`, if it is rendered.
pub fn focus(node: &NodeRef) {
    if let Some(element) = node.cast::<HtmlElement>() {
        // Focus only fails for elements that cannot take it; these can.
        let _ = element.focus();
    }
}
