//! The campaign's rules as the widget applies them before posting: which entry methods are
//! open (mandatory ones first, once or once a day), how far a Reward is, whether the campaign
//! is running. The server applies the same rules and is the judge; these only keep the
//! contestant from being refused.
//!
//! Pure functions of the campaign, the session and `now` (unix ms), tested natively.

use protocol::campaign::{
    CampaignStatus, EntryMethodType, PublicCampaign, PublicEntryMethod, RewardUnlock,
};
use protocol::entry::CompletedMethod;

const DAY_MS: i64 = 86_400_000;

/// The UTC calendar day of a unix-ms instant, the unit of daily methods.
pub fn utc_day(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(DAY_MS)
}

/// Where one entry method stands for the contestant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodState {
    /// Can be done now.
    Open,
    /// Not mandatory, and a mandatory method is still to do.
    Locked,
    /// A once method, done.
    Done,
    /// A daily method, done today (UTC): open again tomorrow.
    DoneToday,
}

impl MethodState {
    pub fn is_done(self) -> bool {
        matches!(self, Self::Done | Self::DoneToday)
    }
}

fn completion(completed: &[CompletedMethod], method: &PublicEntryMethod) -> Option<i64> {
    completed
        .iter()
        .find(|done| done.entry_method_id == method.id && done.times > 0)
        .map(|done| done.last_completed_at)
}

/// Whether every mandatory method has been done (once, for daily ones).
pub fn mandatory_done(campaign: &PublicCampaign, completed: &[CompletedMethod]) -> bool {
    campaign
        .entry_methods
        .iter()
        .filter(|method| method.mandatory)
        .all(|method| completion(completed, method).is_some())
}

pub fn method_state(
    campaign: &PublicCampaign,
    method: &PublicEntryMethod,
    completed: &[CompletedMethod],
    now: i64,
) -> MethodState {
    match completion(completed, method) {
        Some(_) if !method.daily => return MethodState::Done,
        Some(at) if utc_day(at) == utc_day(now) => return MethodState::DoneToday,
        _ => {}
    }
    if !method.mandatory && !mandatory_done(campaign, completed) {
        MethodState::Locked
    } else {
        MethodState::Open
    }
}

/// The methods in the order they are shown: mandatory first, then the others, each group in
/// the campaign's order. `email_subscribe` is done by the details form, so it is not listed.
pub fn listed_methods(campaign: &PublicCampaign) -> Vec<&PublicEntryMethod> {
    let (mut mandatory, others): (Vec<_>, Vec<_>) = campaign
        .entry_methods
        .iter()
        .filter(|method| method.method_type != EntryMethodType::EmailSubscribe)
        .partition(|method| method.mandatory);
    mandatory.extend(others);
    mandatory
}

/// How far a Reward campaign's contestant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u32,
    pub needed: u32,
}

impl Progress {
    pub fn unlocked(self) -> bool {
        self.done >= self.needed
    }
}

/// The progress towards the reward; `None` when the campaign has none. `actions_completed` is
/// the server's count (each day of a daily method counts).
pub fn reward_progress(
    campaign: &PublicCampaign,
    completed: &[CompletedMethod],
    actions_completed: u32,
) -> Option<Progress> {
    let reward = campaign.reward.as_ref()?;
    let progress = match reward.unlock {
        RewardUnlock::Actions { count } => Progress {
            done: actions_completed.min(count),
            needed: count.max(1),
        },
        RewardUnlock::AllMandatory => {
            let mandatory: Vec<_> = campaign
                .entry_methods
                .iter()
                .filter(|method| method.mandatory)
                .collect();
            if mandatory.is_empty() {
                Progress {
                    done: actions_completed.min(1),
                    needed: 1,
                }
            } else {
                let done = mandatory
                    .iter()
                    .filter(|method| completion(completed, method).is_some())
                    .count();
                Progress {
                    done: u32::try_from(done).unwrap_or(u32::MAX),
                    needed: u32::try_from(mandatory.len()).unwrap_or(u32::MAX),
                }
            }
        }
    };
    Some(progress)
}

/// Whether the campaign takes entries at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Opens at this instant (unix ms).
    NotStarted(i64),
    /// Running; closes at this instant, if it has an end.
    Running(Option<i64>),
    /// Ended, paused or not yet published.
    Closed,
}

pub fn schedule(campaign: &PublicCampaign, now: i64) -> Schedule {
    if campaign.status != CampaignStatus::Running {
        return Schedule::Closed;
    }
    match (campaign.starts_at, campaign.ends_at) {
        (_, Some(end)) if now >= end => Schedule::Closed,
        (Some(start), _) if now < start => Schedule::NotStarted(start),
        (_, end) => Schedule::Running(end),
    }
}

#[cfg(test)]
mod tests {
    use protocol::campaign::{CampaignType, PublicReward, RewardKind};
    use protocol::ids::{CampaignKey, EntryMethodId};

    use super::*;

    /// 2026-11-22 06:14:37 UTC.
    const NOW: i64 = 1_795_328_077_000;

    fn method(
        id: i64,
        method_type: EntryMethodType,
        mandatory: bool,
        daily: bool,
    ) -> PublicEntryMethod {
        PublicEntryMethod {
            id: EntryMethodId(id),
            method_type,
            action: format!("Action {id}"),
            worth: 1,
            mandatory,
            daily,
            custom_question: None,
            visit_url: None,
            secret_code: None,
            social_follow: None,
            upload: None,
        }
    }

    fn campaign(methods: Vec<PublicEntryMethod>, reward: Option<RewardUnlock>) -> PublicCampaign {
        PublicCampaign {
            key: CampaignKey::parse("c1").unwrap_or_else(|| unreachable!()),
            name: "C".into(),
            campaign_type: if reward.is_some() {
                CampaignType::Reward
            } else {
                CampaignType::Competition
            },
            status: CampaignStatus::Running,
            description: String::new(),
            consent_text: String::new(),
            entry_methods: methods,
            issued_at: 0,
            starts_at: None,
            ends_at: None,
            image_url: String::new(),
            reward: reward.map(|unlock| PublicReward {
                kind: RewardKind::Coupon,
                title: "10% off".into(),
                description: String::new(),
                unlock,
            }),
            capture: None,
            social_proof: None,
        }
    }

    fn done(id: i64, times: u32, at: i64) -> CompletedMethod {
        CompletedMethod {
            entry_method_id: EntryMethodId(id),
            times,
            last_completed_at: at,
        }
    }

    #[test]
    fn mandatory_methods_come_first_and_unlock_the_others() {
        use EntryMethodType::*;
        use MethodState::*;
        let c = campaign(
            vec![
                method(1, EmailSubscribe, true, false),
                method(2, VisitUrl, false, true),
                method(3, SecretCode, true, false),
                method(4, CustomQuestion, false, false),
            ],
            None,
        );
        let listed: Vec<i64> = listed_methods(&c).iter().map(|m| m.id.0).collect();
        assert_eq!(
            listed,
            [3, 2, 4],
            "mandatory first, email by the details form"
        );
        let check = |completed: &[CompletedMethod], now: i64, expected: [MethodState; 4]| {
            let states: Vec<MethodState> = c
                .entry_methods
                .iter()
                .map(|m| method_state(&c, m, completed, now))
                .collect();
            assert_eq!(states, expected, "{completed:?}");
        };
        check(&[], NOW, [Open, Locked, Open, Locked]);
        check(&[done(1, 1, NOW)], NOW, [Done, Locked, Open, Locked]);
        check(
            &[done(1, 1, NOW), done(3, 1, NOW)],
            NOW,
            [Done, Open, Done, Open],
        );
        let all = [
            done(1, 1, NOW),
            done(3, 1, NOW),
            done(2, 1, NOW),
            done(4, 1, NOW),
        ];
        check(&all, NOW, [Done, DoneToday, Done, Done]);
        // The next UTC day the daily method opens again; once methods stay done.
        let tomorrow = (utc_day(NOW) + 1) * DAY_MS;
        check(&all, tomorrow, [Done, Open, Done, Done]);
        check(&all, tomorrow - 1, [Done, DoneToday, Done, Done]);
        // Zero times (a server's placeholder) is not done.
        check(&[done(1, 0, NOW)], NOW, [Open, Locked, Open, Locked]);
    }

    #[test]
    fn with_no_mandatory_method_everything_is_open() {
        let c = campaign(
            vec![method(2, EntryMethodType::VisitUrl, false, false)],
            None,
        );
        assert_eq!(
            method_state(&c, &c.entry_methods[0], &[], NOW),
            MethodState::Open
        );
    }

    #[test]
    fn reward_progress_by_rule() {
        use EntryMethodType::*;
        let methods = || {
            vec![
                method(1, EmailSubscribe, true, false),
                method(2, VisitUrl, true, false),
                method(3, SecretCode, false, false),
            ]
        };
        let check = |c: &PublicCampaign,
                     completed: &[CompletedMethod],
                     actions: u32,
                     expected: Option<(u32, u32, bool)>| {
            let progress =
                reward_progress(c, completed, actions).map(|p| (p.done, p.needed, p.unlocked()));
            assert_eq!(progress, expected);
        };
        check(&campaign(methods(), None), &[], 0, None);
        let all_mandatory = campaign(methods(), Some(RewardUnlock::AllMandatory));
        check(&all_mandatory, &[], 0, Some((0, 2, false)));
        check(
            &all_mandatory,
            &[done(1, 1, NOW), done(3, 1, NOW)],
            2,
            Some((1, 2, false)),
        );
        check(
            &all_mandatory,
            &[done(1, 1, NOW), done(2, 1, NOW)],
            2,
            Some((2, 2, true)),
        );
        let three = campaign(methods(), Some(RewardUnlock::Actions { count: 3 }));
        check(&three, &[], 2, Some((2, 3, false)));
        check(&three, &[], 5, Some((3, 3, true)));
        let none_mandatory = campaign(
            vec![method(3, SecretCode, false, false)],
            Some(RewardUnlock::AllMandatory),
        );
        check(&none_mandatory, &[], 0, Some((0, 1, false)));
        check(&none_mandatory, &[], 1, Some((1, 1, true)));
    }

    #[test]
    fn schedules() {
        let mut c = campaign(Vec::new(), None);
        assert_eq!(schedule(&c, NOW), Schedule::Running(None));
        c.starts_at = Some(NOW + 1);
        c.ends_at = Some(NOW + 10);
        assert_eq!(schedule(&c, NOW), Schedule::NotStarted(NOW + 1));
        assert_eq!(schedule(&c, NOW + 1), Schedule::Running(Some(NOW + 10)));
        assert_eq!(schedule(&c, NOW + 10), Schedule::Closed);
        c.starts_at = None;
        c.status = CampaignStatus::Paused;
        assert_eq!(schedule(&c, NOW), Schedule::Closed);
    }
}
