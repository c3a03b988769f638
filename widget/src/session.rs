//! The contestant's session in one campaign: the details they gave once, who the server says
//! they are, and what they have done. Kept in `localStorage` (never a cookie) so a returning
//! visitor is recognised; replaced by the server's answer whenever there is one (the server
//! is the truth for totals).
//!
//! Pure data and its text form (`codec.rs`), tested natively. Must not touch the browser:
//! `storage.rs` reads and writes the text.

use protocol::entry::{CompletedMethod, ContestantStatus, EntryAnswer, UnlockedReward};
use protocol::events::ContestantInfo;
use protocol::ids::{ContestantToken, EntryMethodId, ReferralCode};

use crate::codec::{count, field, number, records, write_record};
use crate::rules::utc_day;

/// First field of the first record; a stored session in another format is ignored.
const VERSION: &str = "s1";

#[derive(Debug, Clone, Default)]
#[cfg_attr(test, derive(PartialEq, Eq))]
pub struct Session {
    pub email: String,
    pub name: String,
    /// Whether they ticked the consent box when they gave their details.
    pub consent: bool,
    pub token: Option<ContestantToken>,
    pub referral_code: Option<ReferralCode>,
    pub referral_url: String,
    pub referrals: u32,
    /// The code of the share link this visitor arrived through, sent with each entry.
    pub referred_by: Option<ReferralCode>,
    pub completed: Vec<CompletedMethod>,
    pub actions_completed: u32,
    pub total_entries: u32,
    pub reward: Option<UnlockedReward>,
}

impl Session {
    /// A contestant who has just given their details.
    pub fn new(email: &str, name: &str, consent: bool, referred_by: Option<ReferralCode>) -> Self {
        Self {
            email: email.to_owned(),
            name: name.to_owned(),
            consent,
            referred_by,
            ..Self::default()
        }
    }

    pub fn contestant(&self) -> ContestantInfo {
        ContestantInfo {
            email: self.email.clone(),
            name: self.name.clone(),
        }
    }

    pub fn completion(&self, method: EntryMethodId) -> Option<&CompletedMethod> {
        self.completed
            .iter()
            .find(|done| done.entry_method_id == method)
    }

    /// Takes in the server's answer to an entry of `method`, made at `now` (unix ms).
    ///
    /// The totals are always the server's. The list of completed methods is the server's when
    /// it sends one; from a server that does not, the widget keeps its own, counting a daily
    /// method once per UTC day, so a replayed answer never counts twice.
    pub fn record_entry(&mut self, method: EntryMethodId, answer: &EntryAnswer, now: i64) {
        self.actions_completed = answer.response.actions_completed;
        self.total_entries = answer.response.total_entries;
        let session = &answer.session;
        if session.contestant_token.is_some() {
            self.token.clone_from(&session.contestant_token);
        }
        if session.referral_code.is_some() {
            self.referral_code.clone_from(&session.referral_code);
            self.referral_url.clone_from(&session.referral_url);
            self.referrals = session.referrals;
        }
        if session.completed.is_empty() {
            self.mark_done(method, now);
        } else {
            self.completed.clone_from(&session.completed);
        }
        if answer.reward.is_some() {
            self.reward.clone_from(&answer.reward);
        }
    }

    fn mark_done(&mut self, method: EntryMethodId, now: i64) {
        match self
            .completed
            .iter_mut()
            .find(|done| done.entry_method_id == method)
        {
            Some(done) => {
                if utc_day(done.last_completed_at) != utc_day(now) {
                    done.times += 1;
                }
                done.last_completed_at = now;
            }
            None => self.completed.push(CompletedMethod {
                entry_method_id: method,
                times: 1,
                last_completed_at: now,
            }),
        }
    }

    /// Replaces what the server knows with its status of this contestant.
    pub fn apply_status(&mut self, status: &ContestantStatus) {
        let session = &status.session;
        self.email.clone_from(&status.user.email);
        self.name.clone_from(&status.user.name);
        if session.contestant_token.is_some() {
            self.token.clone_from(&session.contestant_token);
        }
        self.referral_code.clone_from(&session.referral_code);
        self.referral_url.clone_from(&session.referral_url);
        self.referrals = session.referrals;
        self.completed.clone_from(&session.completed);
        self.actions_completed = status.actions_completed;
        self.total_entries = status.total_entries;
        self.reward.clone_from(&status.reward);
    }

    /// The text kept in `localStorage`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let consent = if self.consent { "1" } else { "" };
        let (referrals, actions, total) = (
            self.referrals.to_string(),
            self.actions_completed.to_string(),
            self.total_entries.to_string(),
        );
        write_record(
            &mut out,
            [
                VERSION,
                &self.email,
                &self.name,
                consent,
                self.token.as_ref().map_or("", ContestantToken::as_str),
                self.referral_code.as_ref().map_or("", ReferralCode::as_str),
                &self.referral_url,
                &referrals,
                self.referred_by.as_ref().map_or("", ReferralCode::as_str),
                &actions,
                &total,
            ],
        );
        for done in &self.completed {
            let (id, times, at) = (
                done.entry_method_id.0.to_string(),
                done.times.to_string(),
                done.last_completed_at.to_string(),
            );
            write_record(&mut out, ["c", &id, &times, &at]);
        }
        match &self.reward {
            Some(UnlockedReward::Coupon { code, title }) => {
                write_record(&mut out, ["r", "Coupon", code, title]);
            }
            Some(UnlockedReward::Download { url, title }) => {
                write_record(&mut out, ["r", "Download", url, title]);
            }
            None => {}
        }
        out
    }

    /// Reads [`Self::encode`]'s text. `None` for anything else (another version, no email).
    pub fn decode(text: &str) -> Option<Self> {
        let mut records = records(text);
        let head = records.next()?;
        if field(&head, 0) != VERSION || field(&head, 1).is_empty() {
            return None;
        }
        let mut session = Self {
            email: field(&head, 1).to_owned(),
            name: field(&head, 2).to_owned(),
            consent: field(&head, 3) == "1",
            token: ContestantToken::parse(field(&head, 4)),
            referral_code: ReferralCode::parse(field(&head, 5)),
            referral_url: field(&head, 6).to_owned(),
            referrals: count(&head, 7),
            referred_by: ReferralCode::parse(field(&head, 8)),
            completed: Vec::new(),
            actions_completed: count(&head, 9),
            total_entries: count(&head, 10),
            reward: None,
        };
        for record in records {
            match field(&record, 0) {
                "c" => session.completed.push(CompletedMethod {
                    entry_method_id: EntryMethodId(number(&record, 1)),
                    times: count(&record, 2),
                    last_completed_at: number(&record, 3),
                }),
                "r" => {
                    let (value, title) =
                        (field(&record, 2).to_owned(), field(&record, 3).to_owned());
                    session.reward = match field(&record, 1) {
                        "Coupon" => Some(UnlockedReward::Coupon { code: value, title }),
                        "Download" => Some(UnlockedReward::Download { url: value, title }),
                        _ => None,
                    };
                }
                _ => {}
            }
        }
        Some(session)
    }
}

#[cfg(test)]
mod tests {
    use protocol::entry::{ContestantSession, EntryResponse, EntrySummary};
    use protocol::ids::EntryId;

    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2026-11-22 06:14:37 UTC.
    const NOW: i64 = 1_795_328_077_000;

    fn answer(method: i64, actions: u32, total: u32) -> EntryAnswer {
        EntryAnswer {
            response: EntryResponse {
                entry: EntrySummary {
                    id: EntryId(1),
                    entry_method_id: EntryMethodId(method),
                    entry_type: "visit_url".into(),
                    action: "Visit".into(),
                    worth: 1,
                    created_at: "2026-11-22 06:14:37 UTC".into(),
                },
                actions_completed: actions,
                total_entries: total,
            },
            session: ContestantSession::default(),
            reward: None,
            answer: None,
        }
    }

    fn times(session: &Session, method: i64) -> Option<u32> {
        session
            .completion(EntryMethodId(method))
            .map(|done| done.times)
    }

    #[test]
    fn a_first_generation_answer_is_counted_locally_once_per_day() {
        let mut session = Session::new("joe@example.com", "Joe", true, None);
        session.record_entry(EntryMethodId(3), &answer(3, 1, 2), NOW);
        assert_eq!((session.actions_completed, session.total_entries), (1, 2));
        assert_eq!(times(&session, 3), Some(1));
        // A replayed answer the same day, then the next day.
        session.record_entry(EntryMethodId(3), &answer(3, 1, 2), NOW + 60_000);
        assert_eq!(times(&session, 3), Some(1));
        session.record_entry(EntryMethodId(3), &answer(3, 2, 4), NOW + DAY);
        assert_eq!(times(&session, 3), Some(2));
        assert_eq!(session.token, None);
    }

    #[test]
    fn the_servers_session_replaces_the_local_one() {
        let mut session = Session::new("joe@example.com", "Joe", true, None);
        session.record_entry(EntryMethodId(9), &answer(9, 1, 1), NOW);
        let mut full = answer(3, 4, 7);
        full.session = ContestantSession {
            contestant_token: ContestantToken::parse("ctk_abc"),
            referral_code: ReferralCode::parse("Jb82kd"),
            referral_url: "https://shop.example/?hl_ref=Jb82kd".into(),
            referrals: 2,
            completed: vec![CompletedMethod {
                entry_method_id: EntryMethodId(3),
                times: 4,
                last_completed_at: NOW,
            }],
        };
        full.reward = Some(UnlockedReward::Coupon {
            code: "SAVE10".into(),
            title: "10% off".into(),
        });
        session.record_entry(EntryMethodId(3), &full, NOW);
        assert_eq!(times(&session, 9), None, "the server's list wins");
        assert_eq!(times(&session, 3), Some(4));
        assert_eq!(
            session.token.as_ref().map(ContestantToken::as_str),
            Some("ctk_abc")
        );
        assert_eq!(session.referrals, 2);
        assert!(session.reward.is_some());
        // A later answer without a reward keeps the one unlocked.
        session.record_entry(EntryMethodId(3), &answer(3, 5, 8), NOW + DAY);
        assert!(session.reward.is_some());
        assert_eq!(
            session.token.as_ref().map(ContestantToken::as_str),
            Some("ctk_abc")
        );
    }

    #[test]
    fn a_status_replaces_everything_the_server_knows() {
        let mut session = Session::new("old@example.com", "", false, ReferralCode::parse("Fr13nd"));
        session.record_entry(EntryMethodId(9), &answer(9, 1, 1), NOW);
        let status: ContestantStatus = serde_json::from_str(include_str!(
            "../../protocol/fixtures/contestant_status.json"
        ))
        .unwrap_or_else(|error| panic!("the fixture parses: {error}"));
        session.apply_status(&status);
        assert_eq!(session.email, "joe@example.com");
        assert_eq!((session.actions_completed, session.total_entries), (5, 11));
        assert_eq!(times(&session, 9), None);
        assert_eq!(times(&session, 3), Some(4));
        assert_eq!(
            session.referred_by.as_ref().map(ReferralCode::as_str),
            Some("Fr13nd"),
            "who referred them is the widget's to remember"
        );
    }

    #[test]
    fn sessions_round_trip_through_storage_text() {
        let mut session = Session::new(
            "joe\t@example.com",
            "Joe\nBloggs",
            true,
            ReferralCode::parse("Fr13nd"),
        );
        session.token = ContestantToken::parse("ctk_abc");
        session.referral_code = ReferralCode::parse("Jb82kd");
        session.referral_url = "https://shop.example/?hl_ref=Jb82kd".into();
        session.referrals = 3;
        session.actions_completed = 2;
        session.total_entries = 5;
        session.completed = vec![
            CompletedMethod {
                entry_method_id: EntryMethodId(1),
                times: 1,
                last_completed_at: NOW,
            },
            CompletedMethod {
                entry_method_id: EntryMethodId(3),
                times: 2,
                last_completed_at: NOW + DAY,
            },
        ];
        for reward in [
            None,
            Some(UnlockedReward::Coupon {
                code: "SAVE10".into(),
                title: "10% off".into(),
            }),
            Some(UnlockedReward::Download {
                url: "https://cdn.example/a.pdf".into(),
                title: "Guide".into(),
            }),
        ] {
            session.reward = reward;
            assert_eq!(Session::decode(&session.encode()), Some(session.clone()));
        }
    }

    #[test]
    fn foreign_or_empty_storage_is_no_session() {
        assert_eq!(Session::decode(""), None);
        assert_eq!(Session::decode("s0\tjoe@example.com\n"), None);
        assert_eq!(Session::decode("s1\t\tJoe\n"), None);
        assert_eq!(Session::decode("{\"email\":\"joe@example.com\"}"), None);
    }
}
