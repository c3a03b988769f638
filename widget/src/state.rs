//! What one mounted widget shows, and how each thing that happens changes it: the reducer of
//! the campaign view (`components/campaign.rs`).
//!
//! Pure: every [`Action`] carries what happened (the server's answer, the time), so the
//! transitions are tested natively. Side effects (posting, storage, events) stay in the
//! component.

use std::rc::Rc;

use protocol::entry::{ContestantStatus, EntryAnswer};
use protocol::ids::EntryMethodId;
use protocol::social::Notification;
use yew::Reducible;

use crate::components::Ctx;
use crate::form::FieldError;
use crate::session::Session;

/// Where loading the campaign has got to.
#[derive(Debug, Clone, Default)]
pub enum CampaignState {
    #[default]
    Loading,
    /// The campaign, in the context its side effects run in (`components::Ctx`: this module
    /// only holds it).
    Loaded(Ctx),
    /// Missing or malformed key, unknown campaign, or the server could not be reached.
    Unavailable,
}

/// By identity: a loaded campaign never changes in place (comparing every field would cost
/// the bundle that code, on every render).
impl PartialEq for CampaignState {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Loaded(a), Self::Loaded(b)) => a.same(b),
            (Self::Loading, Self::Loading) | (Self::Unavailable, Self::Unavailable) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
#[cfg_attr(test, derive(PartialEq))]
pub struct WidgetState {
    /// The campaign (`hooks/use_campaign.rs` loads it).
    pub campaign: CampaignState,
    /// `None` until the contestant has given their details (or was recognised). Shared, so
    /// views and callbacks hold it without copying.
    pub session: Option<Rc<Session>>,
    /// Errors of the details (or capture) form.
    pub details_errors: Vec<FieldError>,
    /// The error of one entry method's input.
    pub method_error: Option<(EntryMethodId, FieldError)>,
    /// Methods whose post is on its way.
    pub posting: Vec<EntryMethodId>,
    /// Methods whose post waits in the outbox for the connection.
    pub waiting: Vec<EntryMethodId>,
    /// What a data source answered to the latest entry (name, value), shown with it.
    pub answer: Vec<(String, String)>,
    /// The method whose panel is open.
    pub expanded: Option<EntryMethodId>,
    /// A modal or bar widget is showing.
    pub open: bool,
    /// It has been shown on this page already (exit intent opens it once).
    pub opened_before: bool,
    /// The session was read from storage (from then on, the widget keeps it there).
    pub restored: bool,
    /// The social proof toast on screen (`toasts.rs` decides which and when).
    pub toast: Option<Rc<Notification>>,
}

#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq))]
pub enum Action {
    /// At mount: the session kept in storage and the methods still in the outbox.
    Restore {
        session: Option<Rc<Session>>,
        waiting: Vec<EntryMethodId>,
    },
    /// The server's status of the returning contestant.
    Status(ContestantStatus),
    /// The contestant gave valid details.
    LogIn(Session),
    /// "Not you?": forget the session.
    LogOut,
    DetailsInvalid(Vec<FieldError>),
    MethodInvalid(EntryMethodId, FieldError),
    Posting(EntryMethodId),
    Confirmed {
        method: EntryMethodId,
        answer: EntryAnswer,
        now: i64,
    },
    /// The server refused the post. `details` is whether it was the details form's method:
    /// then the contestant is logged out again with the error in that form.
    Refused {
        method: EntryMethodId,
        error: FieldError,
        details: bool,
    },
    /// Every try failed: the post waits in the outbox.
    Queued(EntryMethodId),
    /// Opens a method's panel, or closes it if open.
    Toggle(EntryMethodId),
    Open,
    Close,
    /// A toast appeared, or went (`None`).
    Toast(Option<Rc<Notification>>),
    /// The campaign loaded, or could not be.
    Campaign(CampaignState),
}

fn without(list: &[EntryMethodId], method: EntryMethodId) -> Vec<EntryMethodId> {
    list.iter().copied().filter(|id| *id != method).collect()
}

impl Reducible for WidgetState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Restore { session, waiting } => {
                next.session = session;
                next.waiting = waiting;
                next.restored = true;
            }
            Action::Status(status) => {
                if let Some(session) = &mut next.session {
                    Rc::make_mut(session).apply_status(&status);
                }
            }
            Action::LogIn(session) => {
                next.session = Some(Rc::new(session));
                next.details_errors.clear();
            }
            Action::LogOut => {
                next = Self {
                    campaign: next.campaign.clone(),
                    open: next.open,
                    opened_before: next.opened_before,
                    restored: next.restored,
                    toast: next.toast.take(),
                    ..Self::default()
                };
            }
            Action::DetailsInvalid(errors) => next.details_errors = errors,
            Action::MethodInvalid(method, error) => next.method_error = Some((method, error)),
            Action::Posting(method) => {
                next.posting = without(&next.posting, method);
                next.posting.push(method);
                next.waiting = without(&next.waiting, method);
                if next
                    .method_error
                    .as_ref()
                    .is_some_and(|(id, _)| *id == method)
                {
                    next.method_error = None;
                }
            }
            Action::Confirmed {
                method,
                answer,
                now,
            } => {
                next.posting = without(&next.posting, method);
                next.waiting = without(&next.waiting, method);
                if let Some(session) = &mut next.session {
                    Rc::make_mut(session).record_entry(method, &answer, now);
                }
                next.answer = answer.answer.map(|fields| fields.0).unwrap_or_default();
                if next.expanded == Some(method) {
                    next.expanded = None;
                }
            }
            Action::Refused {
                method,
                error,
                details,
            } => {
                next.posting = without(&next.posting, method);
                next.waiting = without(&next.waiting, method);
                if details {
                    next.session = None;
                    next.details_errors = vec![error];
                } else {
                    next.method_error = Some((method, error));
                    next.expanded = Some(method);
                }
            }
            Action::Queued(method) => {
                next.posting = without(&next.posting, method);
                next.waiting = without(&next.waiting, method);
                next.waiting.push(method);
            }
            Action::Toggle(method) => {
                next.expanded = (next.expanded != Some(method)).then_some(method);
            }
            Action::Open => {
                next.open = true;
                next.opened_before = true;
            }
            Action::Close => next.open = false,
            Action::Toast(toast) => next.toast = toast,
            Action::Campaign(campaign) => next.campaign = campaign,
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use protocol::entry::{ContestantSession, EntryResponse, EntrySummary};
    use protocol::ids::EntryId;

    use super::*;
    use crate::form::Field;

    const NOW: i64 = 1_795_328_077_000;
    const EMAIL: EntryMethodId = EntryMethodId(1);
    const VISIT: EntryMethodId = EntryMethodId(3);

    fn answer(method: EntryMethodId, total: u32) -> EntryAnswer {
        EntryAnswer {
            response: EntryResponse {
                entry: EntrySummary {
                    id: EntryId(9),
                    entry_method_id: method,
                    entry_type: "visit_url".into(),
                    action: "Visit".into(),
                    worth: 1,
                    created_at: String::new(),
                },
                actions_completed: total,
                total_entries: total,
            },
            session: ContestantSession::default(),
            reward: None,
            answer: None,
        }
    }

    fn run(actions: Vec<Action>) -> WidgetState {
        actions
            .into_iter()
            .fold(Rc::new(WidgetState::default()), Reducible::reduce)
            .as_ref()
            .clone()
    }

    fn joe() -> Session {
        Session::new("joe@example.com", "Joe", true, None)
    }

    #[test]
    fn a_data_sources_answer_is_shown_with_its_entry_until_the_next() {
        let mut answered = answer(EMAIL, 1);
        answered.answer = Some(protocol::entry::AnswerFields(vec![(
            "promocode".into(),
            "SAVE-7QK2".into(),
        )]));
        let confirmed = |answer| Action::Confirmed {
            method: EMAIL,
            answer,
            now: NOW,
        };
        let state = run(vec![Action::LogIn(joe()), confirmed(answered.clone())]);
        assert_eq!(
            state.answer,
            [("promocode".to_owned(), "SAVE-7QK2".to_owned())]
        );
        let state = run(vec![
            Action::LogIn(joe()),
            confirmed(answered),
            confirmed(answer(VISIT, 2)),
        ]);
        assert!(
            state.answer.is_empty(),
            "the next entry's confirmation replaces it"
        );
    }

    #[test]
    fn logging_in_then_entering() {
        let state = run(vec![
            Action::LogIn(joe()),
            Action::Posting(EMAIL),
            Action::Confirmed {
                method: EMAIL,
                answer: answer(EMAIL, 1),
                now: NOW,
            },
            Action::Toggle(VISIT),
            Action::Posting(VISIT),
            Action::Confirmed {
                method: VISIT,
                answer: answer(VISIT, 2),
                now: NOW,
            },
        ]);
        assert!(state.answer.is_empty(), "no data source: nothing to show");
        let session = state.session.unwrap_or_default();
        assert_eq!(session.total_entries, 2);
        assert_eq!(session.completed.len(), 2);
        assert!(state.posting.is_empty());
        assert_eq!(state.expanded, None, "a confirmed method's panel closes");
    }

    #[test]
    fn a_refused_details_post_logs_out_with_the_error() {
        let error = FieldError::new(Field::Email, "Bad email.");
        let state = run(vec![
            Action::LogIn(joe()),
            Action::Posting(EMAIL),
            Action::Refused {
                method: EMAIL,
                error: error.clone(),
                details: true,
            },
        ]);
        assert_eq!(state.session, None);
        assert_eq!(state.details_errors, [error]);
        assert!(state.posting.is_empty());
    }

    #[test]
    fn a_refused_action_shows_its_error_in_its_panel() {
        let error = FieldError::new(Field::Value, "Wrong code.");
        let state = run(vec![
            Action::LogIn(joe()),
            Action::Posting(VISIT),
            Action::Refused {
                method: VISIT,
                error: error.clone(),
                details: false,
            },
        ]);
        assert!(state.session.is_some());
        assert_eq!(state.method_error, Some((VISIT, error)));
        assert_eq!(state.expanded, Some(VISIT));
        // Trying again clears it.
        let state = Rc::new(state).reduce(Action::Posting(VISIT));
        assert_eq!(state.method_error, None);
    }

    #[test]
    fn offline_posts_wait_and_go_later() {
        let state = run(vec![
            Action::LogIn(joe()),
            Action::Posting(VISIT),
            Action::Queued(VISIT),
        ]);
        assert_eq!(state.waiting, [VISIT]);
        assert!(state.posting.is_empty());
        let state = Rc::new(state)
            .reduce(Action::Posting(VISIT))
            .reduce(Action::Confirmed {
                method: VISIT,
                answer: answer(VISIT, 1),
                now: NOW,
            });
        assert!(state.waiting.is_empty());
        assert_eq!(state.session.as_ref().map(|s| s.total_entries), Some(1));
    }

    #[test]
    fn restoring_and_logging_out() {
        let state = run(vec![
            Action::Restore {
                session: Some(Rc::new(joe())),
                waiting: vec![VISIT],
            },
            Action::Open,
            Action::LogOut,
        ]);
        assert_eq!(state.session, None);
        assert!(state.waiting.is_empty());
        assert!(
            state.open && state.opened_before,
            "logging out keeps the modal open"
        );
    }

    #[test]
    fn panels_toggle_and_overlays_remember_being_opened() {
        let state = run(vec![Action::Toggle(VISIT)]);
        assert_eq!(state.expanded, Some(VISIT));
        let state = Rc::new(state).reduce(Action::Toggle(VISIT));
        assert_eq!(state.expanded, None);
        let state = run(vec![Action::Open, Action::Close]);
        assert!(!state.open && state.opened_before);
    }
}
