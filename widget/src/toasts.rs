//! Social proof toasts: which notification shows when, for how long, how many in a visit, and
//! what each says ("Joe B. from Miami, FL bought Sneakers", "3 minutes ago") in the widget's
//! language.
//!
//! Pure: [`Toasts`] is told what arrived and what time it is, and answers what to show and
//! when to look again; the component (`components/campaign.rs`) owns the timer, the
//! `EventSource` (`feed.rs`) and the DOM. Must not touch the browser or read the clock.
//!
//! The rules:
//! - One toast at a time, for the owner's `display_seconds` (at least [`MIN_DISPLAY_MS`]), held
//!   on while the pointer or the keyboard focus is on it; the next comes `interval_seconds`
//!   after the last one went. The first comes as soon as there is one.
//! - The freshest waiting notification goes first: a live one overtakes the recent ones the
//!   server sent on connecting. Each is shown once per visit and waits once (the feed sends
//!   the recent ones again when it reconnects, and on every page); older than
//!   [`MAX_AGE_MS`] is not shown.
//! - At most `max_per_visit` in a visit (the tab's session, over page loads). Closing one
//!   stops them for the rest of the visit. The visit is kept as text ([`Toasts::visit`]).

use std::rc::Rc;

use protocol::social::{Notification, NotificationKind, PublicSocialProof, SOMEONE};

use crate::i18n::{Lang, Text};

/// Notifications older than this are not shown (the server's own window for recent ones).
pub const MAX_AGE_MS: i64 = 7 * 86_400_000;
/// A toast stays at least this long, whatever the settings say.
pub const MIN_DISPLAY_MS: i64 = 2_000;
/// While held (pointer or focus on it), a toast is looked at again after this long.
pub const HOLD_MS: i64 = 1_000;
/// Notifications kept waiting, at most (the oldest go first).
const MAX_WAITING: usize = 20;
/// The visit's record when toasts were closed.
const MUTED: &str = "x";

/// What [`Toasts::tick`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Nothing,
    /// A toast appeared (possibly right after the last one went).
    Shown,
    /// The toast went and none followed.
    Hidden,
}

/// The toasts of one widget. Each notification carries `E` along (in the browser, the
/// notification as the feed's JSON parsed, passed on in `hookline:notification`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toasts<E = ()> {
    display_ms: i64,
    interval_ms: i64,
    max_per_visit: usize,
    /// Oldest first.
    waiting: Vec<(Notification, E)>,
    /// Shown in this visit, by id.
    shown: Vec<String>,
    muted: bool,
    /// The toast on screen (shared with the view), and when it goes (unix ms).
    current: Option<(Rc<Notification>, E)>,
    until: i64,
    last_gone_at: Option<i64>,
}

impl<E> Toasts<E> {
    /// Toasts paced by `settings`, for a visit recorded as `visit` (see [`Toasts::visit`]).
    pub fn new(settings: &PublicSocialProof, visit: Option<&str>) -> Self {
        let visit = visit.unwrap_or_default();
        let muted = visit == MUTED;
        Self {
            display_ms: (i64::from(settings.display_seconds) * 1000).max(MIN_DISPLAY_MS),
            interval_ms: i64::from(settings.interval_seconds) * 1000,
            max_per_visit: settings.max_per_visit as usize,
            waiting: Vec::new(),
            shown: if muted {
                Vec::new()
            } else {
                visit
                    .split(' ')
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
                    .collect()
            },
            muted,
            current: None,
            until: 0,
            last_gone_at: None,
        }
    }

    /// The visit as text, for the next page: the ids shown, or [`MUTED`].
    pub fn visit(&self) -> String {
        if self.muted {
            return MUTED.to_owned();
        }
        let mut visit = String::new();
        for id in &self.shown {
            if !visit.is_empty() {
                visit.push(' ');
            }
            visit.push_str(id);
        }
        visit
    }

    /// The toast on screen, and what it carries.
    pub fn current(&self) -> Option<(&Rc<Notification>, &E)> {
        self.current
            .as_ref()
            .map(|(notification, extra)| (notification, extra))
    }

    fn done(&self) -> bool {
        self.muted || self.shown.len() >= self.max_per_visit
    }

    /// Takes a notification that arrived at `now`, with what it carries. `true` if it may be
    /// shown (the caller then asks [`Toasts::next_tick`] again).
    pub fn receive(&mut self, notification: Notification, extra: E, now: i64) -> bool {
        let id = &notification.id;
        if self.done()
            || self.shown.contains(id)
            || self.waiting.iter().any(|(waiting, _)| waiting.id == *id)
            || now.saturating_sub(notification.occurred_at) > MAX_AGE_MS
        {
            return false;
        }
        let at = self
            .waiting
            .iter()
            .position(|(waiting, _)| waiting.occurred_at > notification.occurred_at)
            .unwrap_or(self.waiting.len());
        self.waiting.insert(at, (notification, extra));
        if self.waiting.len() > MAX_WAITING {
            self.waiting.remove(0);
        }
        true
    }

    /// When [`Toasts::tick`] has something to do next (unix ms), if ever.
    pub fn next_tick(&self, now: i64) -> Option<i64> {
        if self.current.is_some() {
            return Some(self.until);
        }
        if self.done() || self.waiting.is_empty() {
            return None;
        }
        Some(
            self.last_gone_at
                .map_or(now, |gone| gone.saturating_add(self.interval_ms))
                .max(now),
        )
    }

    /// Moves on at `now`: the current toast goes when its time is up (unless `held`: the
    /// pointer or the focus is on it), and the next comes when it is due.
    pub fn tick(&mut self, now: i64, held: bool) -> Step {
        let mut step = Step::Nothing;
        if self.current.is_some() {
            if now < self.until {
                return Step::Nothing;
            }
            if held {
                self.until = now.saturating_add(HOLD_MS);
                return Step::Nothing;
            }
            self.current = None;
            self.last_gone_at = Some(now);
            step = Step::Hidden;
        }
        if self.next_tick(now).is_some_and(|due| due <= now)
            && let Some((notification, extra)) = self.waiting.pop()
        {
            self.shown.push(notification.id.clone());
            self.current = Some((Rc::new(notification), extra));
            self.until = now.saturating_add(self.display_ms);
            step = Step::Shown;
        }
        step
    }

    /// The visitor closed the toast: no more in this visit.
    pub fn dismiss(&mut self) {
        self.current = None;
        self.waiting.clear();
        self.muted = true;
    }
}

/// What a toast says, with its link (the product's, when the owner shows links) apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub before: String,
    /// The product or the campaign's name, and the product's link.
    pub what: Option<(String, Option<String>)>,
    pub after: String,
}

impl Sentence {
    /// The whole sentence as text.
    pub fn text(&self) -> String {
        let mut text = self.before.clone();
        if let Some((what, _)) = &self.what {
            text.push_str(what);
        }
        text.push_str(&self.after);
        text
    }
}

/// "Joe B. from Miami, FL bought Sneakers", "Someone entered Spring Giveaway", in `lang`.
pub fn sentence(lang: Lang, notification: &Notification, campaign_name: &str) -> Sentence {
    let name = if notification.name == SOMEONE {
        lang.get(Text::Someone)
    } else {
        notification.name.as_str()
    };
    let who = match &notification.place {
        Some(place) => {
            let (before, after) = split(lang.get(Text::FromPlace), "{place}");
            let mut who = before.replace("{name}", name);
            who.push_str(place);
            who.push_str(after);
            who
        }
        None => name.to_owned(),
    };
    let (template, what) = match (notification.kind, &notification.product) {
        (NotificationKind::Entry, _) => (Text::Entered, Some((campaign_name.to_owned(), None))),
        (NotificationKind::Conversion, Some(product)) => (
            Text::Bought,
            Some((product.name.clone(), product.link.clone())),
        ),
        (NotificationKind::Conversion, None) => (Text::SignedUp, None),
    };
    let (before, after) = split(lang.get(template), "{what}");
    Sentence {
        before: before.replace("{who}", &who),
        what,
        after: after.replace("{who}", &who),
    }
}

/// A template's text before and after `placeholder`. Split before the names are filled in,
/// so a name with braces in it is never read as a placeholder.
fn split<'a>(template: &'a str, placeholder: &str) -> (&'a str, &'a str) {
    template.split_once(placeholder).unwrap_or((template, ""))
}

/// "just now", "3 minutes ago", "2 hours ago", "4 days ago" in `lang`: how long before `now`
/// something happened at `at` (a time ahead of the clock is "just now").
pub fn ago(lang: Lang, at: i64, now: i64) -> String {
    let minutes = now.saturating_sub(at) / 60_000;
    let (n, one, many) = match minutes {
        ..1 => return lang.get(Text::JustNow).to_owned(),
        1..60 => (minutes, Text::MinuteAgo, Text::MinutesAgo),
        60..1440 => (minutes / 60, Text::HourAgo, Text::HoursAgo),
        _ => (minutes / 1440, Text::DayAgo, Text::DaysAgo),
    };
    lang.count(u32::try_from(n).unwrap_or(u32::MAX), one, many)
}

#[cfg(test)]
mod tests {
    use protocol::social::{NotifiedProduct, ToastPosition};

    use super::*;

    const NOW: i64 = 1_795_328_077_000;
    const MINUTE: i64 = 60_000;

    fn pace(interval_seconds: u32, display_seconds: u32, max_per_visit: u32) -> PublicSocialProof {
        PublicSocialProof {
            position: ToastPosition::BottomLeft,
            interval_seconds,
            max_per_visit,
            display_seconds,
        }
    }

    fn conversion(id: &str, occurred_at: i64) -> Notification {
        Notification {
            id: id.to_owned(),
            kind: NotificationKind::Conversion,
            name: "Joe B.".to_owned(),
            place: Some("Miami, FL".to_owned()),
            product: Some(NotifiedProduct {
                name: "Sneakers".to_owned(),
                link: Some("https://sneakers.com/sneakers".to_owned()),
                image: None,
            }),
            occurred_at,
            text: "Joe B. from Miami, FL just bought Sneakers".to_owned(),
        }
    }

    fn shown_id(toasts: &Toasts) -> Option<&str> {
        toasts
            .current()
            .map(|(notification, ())| notification.id.as_str())
    }

    #[test]
    fn one_at_a_time_for_its_time_then_the_interval() {
        let mut toasts = Toasts::new(&pace(8, 6, 5), None);
        assert_eq!(toasts.next_tick(NOW), None, "nothing to show");
        assert!(toasts.receive(conversion("cv_1", NOW - MINUTE), (), NOW));
        assert!(toasts.receive(conversion("cv_2", NOW - 2 * MINUTE), (), NOW));
        assert_eq!(toasts.next_tick(NOW), Some(NOW), "the first comes at once");
        assert_eq!(toasts.tick(NOW, false), Step::Shown);
        assert_eq!(shown_id(&toasts), Some("cv_1"), "the freshest first");
        assert_eq!(toasts.next_tick(NOW), Some(NOW + 6_000));
        assert_eq!(toasts.tick(NOW + 5_999, false), Step::Nothing);
        assert_eq!(toasts.tick(NOW + 6_000, false), Step::Hidden);
        assert_eq!(shown_id(&toasts), None);
        assert_eq!(toasts.next_tick(NOW + 6_000), Some(NOW + 14_000));
        assert_eq!(toasts.tick(NOW + 13_000, false), Step::Nothing);
        assert_eq!(toasts.tick(NOW + 14_000, false), Step::Shown);
        assert_eq!(shown_id(&toasts), Some("cv_2"));
        assert_eq!(toasts.tick(NOW + 20_000, false), Step::Hidden);
        assert_eq!(toasts.next_tick(NOW + 20_000), None, "none left");
        // A late timer does nothing.
        assert_eq!(toasts.tick(NOW + 30_000, false), Step::Nothing);
    }

    #[test]
    fn without_an_interval_the_next_follows_at_once() {
        let mut toasts = Toasts::new(&pace(0, 0, 5), None);
        toasts.receive(conversion("cv_1", NOW), (), NOW);
        toasts.receive(conversion("cv_2", NOW), (), NOW);
        assert_eq!(toasts.tick(NOW, false), Step::Shown);
        assert_eq!(
            shown_id(&toasts),
            Some("cv_2"),
            "of equals, the last to come"
        );
        assert_eq!(
            toasts.next_tick(NOW),
            Some(NOW + MIN_DISPLAY_MS),
            "shown at least {MIN_DISPLAY_MS} ms"
        );
        assert_eq!(toasts.tick(NOW + MIN_DISPLAY_MS, false), Step::Shown);
        assert_eq!(shown_id(&toasts), Some("cv_1"));
    }

    #[test]
    fn a_live_one_overtakes_the_recent_ones() {
        let mut toasts = Toasts::new(&pace(8, 6, 5), None);
        toasts.receive(conversion("cv_1", NOW - 3 * MINUTE), (), NOW);
        toasts.receive(conversion("cv_2", NOW - 2 * MINUTE), (), NOW);
        toasts.tick(NOW, false);
        assert_eq!(shown_id(&toasts), Some("cv_2"));
        assert!(toasts.receive(conversion("cv_3", NOW + 1_000), (), NOW + 1_000));
        toasts.tick(NOW + 6_000, false);
        assert_eq!(toasts.tick(NOW + 14_000, false), Step::Shown);
        assert_eq!(shown_id(&toasts), Some("cv_3"));
    }

    #[test]
    fn held_toasts_stay_until_let_go() {
        let mut toasts = Toasts::new(&pace(8, 6, 5), None);
        toasts.receive(conversion("cv_1", NOW), (), NOW);
        toasts.tick(NOW, false);
        assert_eq!(toasts.tick(NOW + 6_000, true), Step::Nothing);
        assert_eq!(toasts.next_tick(NOW + 6_000), Some(NOW + 6_000 + HOLD_MS));
        assert_eq!(toasts.tick(NOW + 7_000, true), Step::Nothing);
        assert_eq!(shown_id(&toasts), Some("cv_1"));
        assert_eq!(toasts.tick(NOW + 8_000, false), Step::Hidden);
    }

    #[test]
    fn each_once_and_no_more_than_the_maximum_per_visit() {
        let mut toasts = Toasts::new(&pace(0, 2, 2), None);
        assert!(toasts.receive(conversion("cv_1", NOW), (), NOW));
        assert!(
            !toasts.receive(conversion("cv_1", NOW), (), NOW),
            "sent again on reconnecting"
        );
        assert!(
            !toasts.receive(conversion("cv_old", NOW - MAX_AGE_MS - 1), (), NOW),
            "too old"
        );
        toasts.receive(conversion("cv_2", NOW), (), NOW);
        toasts.receive(conversion("cv_3", NOW), (), NOW);
        let mut now = NOW;
        let mut seen = Vec::new();
        while let Some(at) = toasts.next_tick(now) {
            now = at;
            if toasts.tick(now, false) == Step::Shown {
                seen.push(shown_id(&toasts).unwrap_or_default().to_owned());
            }
        }
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(
            !toasts.receive(conversion("cv_4", now), (), now),
            "the visit is done"
        );

        // The next page of the visit shows neither again, nor any more.
        let record = toasts.visit();
        let mut next_page = Toasts::new(&pace(0, 2, 3), Some(&record));
        assert!(!next_page.receive(conversion(&seen[0], NOW), (), NOW));
        assert!(next_page.receive(conversion("cv_5", NOW), (), NOW));
        assert_eq!(next_page.tick(NOW, false), Step::Shown);
        assert!(
            !next_page.receive(conversion("cv_6", NOW), (), NOW),
            "3 in all"
        );

        let none: Toasts = Toasts::new(&pace(0, 2, 0), None);
        assert_eq!(none.next_tick(NOW), None);
    }

    #[test]
    fn closing_one_stops_them_for_the_visit() {
        let mut toasts = Toasts::new(&pace(0, 6, 5), None);
        toasts.receive(conversion("cv_1", NOW), (), NOW);
        toasts.receive(conversion("cv_2", NOW), (), NOW);
        toasts.tick(NOW, false);
        toasts.dismiss();
        assert_eq!((shown_id(&toasts), toasts.next_tick(NOW)), (None, None));
        assert!(!toasts.receive(conversion("cv_3", NOW), (), NOW));
        let next_page = Toasts::new(&pace(0, 6, 5), Some(&toasts.visit()));
        assert_eq!(next_page.visit(), "x");
        let mut next_page = next_page;
        assert!(!next_page.receive(conversion("cv_4", NOW), (), NOW));
    }

    #[test]
    fn only_the_newest_wait() {
        let mut toasts = Toasts::new(&pace(0, 2, 100), None);
        for n in 0..30 {
            toasts.receive(conversion(&format!("cv_{n}"), NOW - 100 + n), (), NOW);
        }
        assert_eq!(toasts.waiting.len(), MAX_WAITING);
        toasts.tick(NOW, false);
        assert_eq!(shown_id(&toasts), Some("cv_29"));
    }

    #[test]
    fn sentences_in_both_languages() {
        let check = |lang: Lang, notification: &Notification, expected: &str| {
            assert_eq!(
                sentence(lang, notification, "Spring Giveaway").text(),
                expected
            );
        };
        let bought = conversion("cv_1", NOW);
        check(Lang::En, &bought, "Joe B. from Miami, FL bought Sneakers");
        check(Lang::Fr, &bought, "Joe B. de Miami, FL a acheté Sneakers");
        let parts = sentence(Lang::En, &bought, "");
        assert_eq!(parts.before, "Joe B. from Miami, FL bought ");
        assert_eq!(
            parts.what,
            Some((
                "Sneakers".to_owned(),
                Some("https://sneakers.com/sneakers".to_owned())
            ))
        );
        assert_eq!(parts.after, "");

        let signed_up = Notification {
            name: SOMEONE.to_owned(),
            place: None,
            product: None,
            ..bought.clone()
        };
        check(Lang::En, &signed_up, "Someone signed up");
        check(Lang::Fr, &signed_up, "Quelqu'un s'est inscrit(e)");
        let entered = Notification {
            kind: NotificationKind::Entry,
            name: "Ann L.".to_owned(),
            place: None,
            product: None,
            ..bought.clone()
        };
        check(Lang::En, &entered, "Ann L. entered Spring Giveaway");
        check(Lang::Fr, &entered, "Ann L. a participé à Spring Giveaway");
        assert_eq!(
            sentence(Lang::En, &entered, "G").what,
            Some(("G".into(), None))
        );

        // Braces in the data are not placeholders.
        let odd = Notification {
            name: "{what} {place}".to_owned(),
            place: Some("{name}".to_owned()),
            ..bought
        };
        check(Lang::En, &odd, "{what} {place} from {name} bought Sneakers");
    }

    #[test]
    fn how_long_ago() {
        let check = |lang: Lang, before: i64, expected: &str| {
            assert_eq!(ago(lang, NOW - before, NOW), expected, "{before} ms");
        };
        check(Lang::En, 0, "just now");
        check(Lang::En, 59_999, "just now");
        check(Lang::En, -5 * MINUTE, "just now");
        check(Lang::En, MINUTE, "1 minute ago");
        check(Lang::En, 59 * MINUTE, "59 minutes ago");
        check(Lang::En, 60 * MINUTE, "1 hour ago");
        check(Lang::En, 23 * 60 * MINUTE, "23 hours ago");
        check(Lang::En, 24 * 60 * MINUTE, "1 day ago");
        check(Lang::En, 6 * 24 * 60 * MINUTE, "6 days ago");
        check(Lang::Fr, 30_000, "à l'instant");
        check(Lang::Fr, MINUTE, "il y a 1 minute");
        check(Lang::Fr, 3 * MINUTE, "il y a 3 minutes");
        check(Lang::Fr, 60 * MINUTE, "il y a 1 heure");
        check(Lang::Fr, 5 * 60 * MINUTE, "il y a 5 heures");
        check(Lang::Fr, 2 * 24 * 60 * MINUTE, "il y a 2 jours");
    }
}
