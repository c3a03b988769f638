//! The fraud filter: scores one entry from the signals ingest gathered, by fixed rules whose
//! thresholds depend on the campaign's [`FraudLevel`].
//!
//! Pure: it takes everything as data (the clock too) and does no IO, so every rule is tested
//! with plain values. Must not query the database or know HTTP; ingest gathers the
//! [`Signals`] inside the entry's transaction and stores the [`Verdict`] with the entry.
//!
//! Each rule that fires adds its weight to the score and its [`Reason`] to the list. Any
//! reason flags the entry; a score at or above the level's disqualification threshold
//! disqualifies it. Flagged and disqualified entries are answered exactly like accepted ones:
//! only the webhooks differ (`subscriber.created` is withheld from disqualified entries).
//!
//! | rule | weight | lenient | standard | strict |
//! | --- | --- | --- | --- | --- |
//! | `honeypot`: the hidden field is filled in | 100 | any text | any text | any text |
//! | `referral_loop`: referred by oneself | 60 | same email | same email or IP | same email or IP |
//! | `disposable_email`: a throw-away mailbox domain | 50 | listed | listed | listed |
//! | `duplicate_email`: this email did this action before | 40 | ≥ 1 earlier | ≥ 1 earlier | ≥ 1 earlier |
//! | `too_fast`: submitted soon after the form was issued | 40 | < 1 s | < 2 s | < 3 s, or no timestamp |
//! | `velocity_ip`: entries from this IP, last minute / hour | 40 | ≥ 30 / ≥ 300 | ≥ 10 / ≥ 100 | ≥ 5 / ≥ 30 |
//! | `duplicate_ip`: other contestants from this IP | 30 | ≥ 20 | ≥ 10 | ≥ 3 |
//! | disqualified at a score of | | ≥ 100 | ≥ 80 | ≥ 50 |
//!
//! So at `standard` one soft signal only flags an entry, two of them (or the honeypot)
//! disqualify it; at `strict` a disposable domain alone does. `off` scores nothing.

use std::net::IpAddr;

/// How hard a campaign screens its entries. Stored per campaign; `standard` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FraudLevel {
    /// No rule runs: every entry is accepted with a score of 0.
    Off,
    Lenient,
    #[default]
    Standard,
    Strict,
}

impl FraudLevel {
    pub const ALL: [Self; 4] = [Self::Off, Self::Lenient, Self::Standard, Self::Strict];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Lenient => "lenient",
            Self::Standard => "standard",
            Self::Strict => "strict",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == text)
    }

    /// The thresholds of this level; `None` for [`FraudLevel::Off`].
    fn thresholds(self) -> Option<Thresholds> {
        match self {
            Self::Off => None,
            Self::Lenient => Some(Thresholds {
                disqualify_at: 100,
                referral_loop_by_ip: false,
                too_fast_ms: 1_000,
                missing_timestamp_is_too_fast: false,
                velocity_per_minute: 30,
                velocity_per_hour: 300,
                other_contestants_per_ip: 20,
            }),
            Self::Standard => Some(Thresholds {
                disqualify_at: 80,
                referral_loop_by_ip: true,
                too_fast_ms: 2_000,
                missing_timestamp_is_too_fast: false,
                velocity_per_minute: 10,
                velocity_per_hour: 100,
                other_contestants_per_ip: 10,
            }),
            Self::Strict => Some(Thresholds {
                disqualify_at: 50,
                referral_loop_by_ip: true,
                too_fast_ms: 3_000,
                missing_timestamp_is_too_fast: true,
                velocity_per_minute: 5,
                velocity_per_hour: 30,
                other_contestants_per_ip: 3,
            }),
        }
    }
}

/// How far the per-address counts of [`Signals`] need to go at a level: each rule fires at or
/// above its threshold, so a count that stops there decides the same. The store stops
/// counting at these, so one busy address (a shared NAT, an attacker) costs a bounded index
/// range per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountCaps {
    pub other_contestants: u32,
    pub entries_last_minute: u32,
    pub entries_last_hour: u32,
}

impl FraudLevel {
    /// The counts this level needs; `None` when it needs none ([`FraudLevel::Off`]).
    pub fn count_caps(self) -> Option<CountCaps> {
        self.thresholds().map(|limits| CountCaps {
            other_contestants: limits.other_contestants_per_ip,
            entries_last_minute: limits.velocity_per_minute,
            entries_last_hour: limits.velocity_per_hour,
        })
    }
}

/// What a level tolerates. Counts are "at or above this fires".
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    disqualify_at: u32,
    /// Whether a referrer on the same IP is a loop (not at `lenient`: households share one).
    referral_loop_by_ip: bool,
    /// Less than this between the form being issued and the entry arriving is too fast.
    too_fast_ms: i64,
    /// Whether an entry without the server-issued timestamp counts as too fast.
    missing_timestamp_is_too_fast: bool,
    velocity_per_minute: u32,
    velocity_per_hour: u32,
    other_contestants_per_ip: u32,
}

/// Why an entry looks suspicious. The codes ([`Reason::as_str`]) are stable: they are stored
/// with the entry and will be shown to campaign owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    DuplicateEmail,
    DuplicateIp,
    DisposableEmail,
    Honeypot,
    TooFast,
    VelocityIp,
    ReferralLoop,
}

impl Reason {
    pub const ALL: [Self; 7] = [
        Self::DuplicateEmail,
        Self::DuplicateIp,
        Self::DisposableEmail,
        Self::Honeypot,
        Self::TooFast,
        Self::VelocityIp,
        Self::ReferralLoop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DuplicateEmail => "duplicate_email",
            Self::DuplicateIp => "duplicate_ip",
            Self::DisposableEmail => "disposable_email",
            Self::Honeypot => "honeypot",
            Self::TooFast => "too_fast",
            Self::VelocityIp => "velocity_ip",
            Self::ReferralLoop => "referral_loop",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }

    /// Points this reason adds to the score. A filled honeypot is near-certain (only bots see
    /// the field), so it weighs enough to disqualify at every level on its own.
    pub fn weight(self) -> u32 {
        match self {
            Self::Honeypot => 100,
            Self::ReferralLoop => 60,
            Self::DisposableEmail => 50,
            Self::DuplicateEmail | Self::TooFast | Self::VelocityIp => 40,
            Self::DuplicateIp => 30,
        }
    }
}

/// The referrer of an entry made through a referral link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// Normalised, like [`Signals::email`].
    pub email: String,
    /// The IP the referrer entered from, when known.
    pub ip: Option<IpAddr>,
}

/// Everything the rules look at, gathered by ingest. Counts leave out the entry being scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signals {
    /// Normalised (trimmed, domain lower-cased).
    pub email: String,
    /// The email's domain, lower-case.
    pub email_domain: String,
    /// The connecting peer; `None` when unknown (the IP rules then do not fire).
    pub client_ip: Option<IpAddr>,
    /// The hidden form field, as sent.
    pub honeypot: String,
    /// Unix ms at which the server issued the form (echoed by the widget), if sent.
    pub form_issued_at: Option<i64>,
    /// Unix ms at which the entry arrived.
    pub now: i64,
    /// Whether another contestant of this campaign has the same mailbox under another
    /// spelling ([`mailbox`]: a `+tag`, Gmail's dots): one person entering as several.
    pub another_contestant_same_mailbox: bool,
    /// Other contestants (emails) who entered this campaign from this IP.
    pub other_contestants_from_ip: u32,
    /// Entries from this IP in this campaign in the minute before `now`.
    pub entries_from_ip_last_minute: u32,
    /// Entries from this IP in this campaign in the hour before `now`.
    pub entries_from_ip_last_hour: u32,
    /// Who referred this contestant, for referral entries.
    pub referrer: Option<Referrer>,
}

/// The filter's judgement of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Sum of the reasons' weights.
    pub score: u32,
    /// In the order of [`Reason::ALL`].
    pub reasons: Vec<Reason>,
    pub disqualified: bool,
}

impl Verdict {
    /// Accepted, flagged (some reason, not enough to disqualify) or disqualified.
    pub fn decision(&self) -> Decision {
        if self.disqualified {
            Decision::Disqualified
        } else if self.reasons.is_empty() {
            Decision::Accepted
        } else {
            Decision::Flagged
        }
    }
}

/// An entry's standing, stored as `entries.verdict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accepted,
    /// Suspicious but kept: its webhooks go out as usual.
    Flagged,
    /// Kept for the record; `subscriber.created` is withheld and `entry.disqualified` sent.
    Disqualified,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Flagged => "flagged",
            Self::Disqualified => "disqualified",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Accepted, Self::Flagged, Self::Disqualified]
            .into_iter()
            .find(|decision| decision.as_str() == text)
    }
}

/// Scores `signals` at `level`.
pub fn score(signals: &Signals, level: FraudLevel) -> Verdict {
    let Some(limits) = level.thresholds() else {
        return Verdict {
            score: 0,
            reasons: Vec::new(),
            disqualified: false,
        };
    };
    let reasons: Vec<Reason> = Reason::ALL
        .into_iter()
        .filter(|&reason| fires(reason, signals, limits))
        .collect();
    let score = reasons.iter().map(|reason| reason.weight()).sum();
    Verdict {
        score,
        disqualified: score >= limits.disqualify_at,
        reasons,
    }
}

fn fires(reason: Reason, signals: &Signals, limits: Thresholds) -> bool {
    match reason {
        Reason::DuplicateEmail => signals.another_contestant_same_mailbox,
        Reason::DuplicateIp => {
            signals.client_ip.is_some()
                && signals.other_contestants_from_ip >= limits.other_contestants_per_ip
        }
        Reason::DisposableEmail => is_disposable_domain(&signals.email_domain),
        Reason::Honeypot => !signals.honeypot.trim().is_empty(),
        Reason::TooFast => match signals.form_issued_at {
            // A time in the future is forged or from another clock: too fast too.
            Some(issued_at) => signals.now - issued_at < limits.too_fast_ms,
            None => limits.missing_timestamp_is_too_fast,
        },
        Reason::VelocityIp => {
            signals.client_ip.is_some()
                && (signals.entries_from_ip_last_minute >= limits.velocity_per_minute
                    || signals.entries_from_ip_last_hour >= limits.velocity_per_hour)
        }
        Reason::ReferralLoop => signals.referrer.as_ref().is_some_and(|referrer| {
            referrer.email.eq_ignore_ascii_case(&signals.email)
                || (limits.referral_loop_by_ip
                    && referrer.ip.is_some()
                    && referrer.ip == signals.client_ip)
        }),
    }
}

/// The mailbox a normalised email (domain lower-cased) delivers to, as the duplicate email
/// rule compares them: the local part lower-cased and cut at a `+` tag (which most providers
/// deliver to the same mailbox), and for Gmail its dots left out too (Gmail ignores them;
/// `googlemail.com` is Gmail). `Joe.Bloggs+win2@gmail.com` is `joebloggs@gmail.com`.
pub fn mailbox(email: &str) -> String {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email.to_ascii_lowercase();
    };
    let domain = domain.to_ascii_lowercase();
    let local = match local.split_once('+') {
        Some((before, _)) if !before.is_empty() => before,
        _ => local,
    };
    let mut local = local.to_lowercase();
    let domain = match domain.as_str() {
        "gmail.com" | "googlemail.com" => {
            local.retain(|c| c != '.');
            "gmail.com".to_owned()
        }
        _ => domain,
    };
    format!("{local}@{domain}")
}

/// Well-known throw-away mailbox providers. A domain matches itself and its subdomains.
pub const DISPOSABLE_DOMAINS: &[&str] = &[
    "10minutemail.com",
    "10minutemail.net",
    "20minutemail.com",
    "burnermail.io",
    "discard.email",
    "dispostable.com",
    "emailondeck.com",
    "emailfake.com",
    "fakeinbox.com",
    "getairmail.com",
    "getnada.com",
    "grr.la",
    "guerrillamail.biz",
    "guerrillamail.com",
    "guerrillamail.de",
    "guerrillamail.net",
    "guerrillamail.org",
    "guerrillamailblock.com",
    "harakirimail.com",
    "inboxkitten.com",
    "jetable.org",
    "mail.tm",
    "mailcatch.com",
    "maildrop.cc",
    "mailexpire.com",
    "mailinator.com",
    "mailinator.net",
    "mailinator2.com",
    "mailnesia.com",
    "mailpoof.com",
    "meltmail.com",
    "mintemail.com",
    "moakt.com",
    "mohmal.com",
    "mytemp.email",
    "nada.email",
    "pokemail.net",
    "sharklasers.com",
    "spam4.me",
    "spambox.us",
    "spamgourmet.com",
    "temp-mail.io",
    "temp-mail.org",
    "tempail.com",
    "tempinbox.com",
    "tempmail.com",
    "tempmail.net",
    "tempmailo.com",
    "tempr.email",
    "throwawaymail.com",
    "trashmail.com",
    "trashmail.de",
    "trashmail.me",
    "trashmail.net",
    "yopmail.com",
    "yopmail.fr",
    "yopmail.net",
];

/// Whether `domain` (lower-case) is a listed disposable domain or a subdomain of one.
pub fn is_disposable_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.');
    DISPOSABLE_DOMAINS.iter().any(|listed| {
        domain == *listed
            || domain
                .strip_suffix(listed)
                .is_some_and(|prefix| prefix.ends_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use FraudLevel::{Lenient, Off, Standard, Strict};
    use Reason::*;

    const NOW: i64 = 1_700_000_000_000;
    const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

    /// An ordinary person: took half a minute to fill the form in, first time here.
    fn person() -> Signals {
        Signals {
            email: "Joe@example.com".to_owned(),
            email_domain: "example.com".to_owned(),
            client_ip: Some(IP),
            honeypot: String::new(),
            form_issued_at: Some(NOW - 30_000),
            now: NOW,
            another_contestant_same_mailbox: false,
            other_contestants_from_ip: 0,
            entries_from_ip_last_minute: 0,
            entries_from_ip_last_hour: 0,
            referrer: None,
        }
    }

    fn check(
        change: impl FnOnce(&mut Signals),
        level: FraudLevel,
        expected_reasons: &[Reason],
        expected_disqualified: bool,
    ) {
        let mut signals = person();
        change(&mut signals);
        let verdict = score(&signals, level);
        assert_eq!(
            (verdict.reasons.as_slice(), verdict.disqualified),
            (expected_reasons, expected_disqualified),
            "at {level:?}: {signals:?}"
        );
        let weights: u32 = expected_reasons.iter().map(|reason| reason.weight()).sum();
        assert_eq!(verdict.score, weights, "the score sums the weights");
    }

    fn nothing(_: &mut Signals) {}

    #[test]
    fn an_ordinary_entry_is_accepted_at_every_level() {
        for level in FraudLevel::ALL {
            check(nothing, level, &[], false);
        }
    }

    #[test]
    fn off_scores_nothing() {
        check(
            |s| {
                s.honeypot = "http://spam.example".into();
                s.email_domain = "mailinator.com".into();
                s.another_contestant_same_mailbox = true;
                s.form_issued_at = Some(NOW);
                s.entries_from_ip_last_minute = 1000;
            },
            Off,
            &[],
            false,
        );
    }

    #[test]
    fn a_filled_honeypot_disqualifies_at_every_level() {
        for level in [Lenient, Standard, Strict] {
            check(|s| s.honeypot = "x".into(), level, &[Honeypot], true);
        }
        check(|s| s.honeypot = "  \n".into(), Strict, &[], false);
    }

    #[test]
    fn a_disposable_domain_flags_and_disqualifies_only_when_strict() {
        let disposable = |s: &mut Signals| s.email_domain = "yopmail.com".into();
        check(disposable, Lenient, &[DisposableEmail], false);
        check(disposable, Standard, &[DisposableEmail], false);
        check(disposable, Strict, &[DisposableEmail], true);
        check(
            |s| s.email_domain = "eu.mailinator.com".into(),
            Standard,
            &[DisposableEmail],
            false,
        );
    }

    #[test]
    fn disposable_domains_match_themselves_and_subdomains_only() {
        for (domain, expected) in [
            ("mailinator.com", true),
            ("x.y.mailinator.com", true),
            ("10minutemail.com", true),
            ("guerrillamail.com", true),
            ("trashmail.de", true),
            ("tempmail.com.", true),
            ("notmailinator.com", false),
            ("mailinator.com.example", false),
            ("example.com", false),
            ("", false),
        ] {
            assert_eq!(is_disposable_domain(domain), expected, "{domain}");
        }
        for listed in DISPOSABLE_DOMAINS {
            assert_eq!(
                listed.to_ascii_lowercase(),
                *listed,
                "lists lower case only"
            );
        }
    }

    #[test]
    fn another_contestant_with_the_same_mailbox_is_a_duplicate_email() {
        for level in [Lenient, Standard, Strict] {
            check(
                |s| s.another_contestant_same_mailbox = true,
                level,
                &[DuplicateEmail],
                false,
            );
        }
    }

    #[test]
    fn mailboxes_ignore_plus_tags_case_and_gmails_dots() {
        for (email, expected) in [
            ("joe@example.com", "joe@example.com"),
            ("Joe@Example.COM", "joe@example.com"),
            ("joe+win@example.com", "joe@example.com"),
            ("joe+a+b@example.com", "joe@example.com"),
            // A local part that is only a tag is left as it is.
            ("+joe@example.com", "+joe@example.com"),
            ("j.o.e@example.com", "j.o.e@example.com"),
            ("Joe.Bloggs+win2@gmail.com", "joebloggs@gmail.com"),
            ("joe.bloggs@googlemail.com", "joebloggs@gmail.com"),
            ("no-at-sign", "no-at-sign"),
        ] {
            assert_eq!(mailbox(email), expected, "{email}");
        }
    }

    #[test]
    fn many_contestants_from_one_ip_are_flagged_by_level() {
        for (others, level, expected) in [
            (19, Lenient, &[][..]),
            (20, Lenient, &[DuplicateIp][..]),
            (9, Standard, &[]),
            (10, Standard, &[DuplicateIp]),
            (2, Strict, &[]),
            (3, Strict, &[DuplicateIp]),
        ] {
            check(
                |s| s.other_contestants_from_ip = others,
                level,
                expected,
                false,
            );
        }
        check(
            |s| {
                s.other_contestants_from_ip = 50;
                s.client_ip = None;
            },
            Strict,
            &[],
            false,
        );
    }

    #[test]
    fn a_submission_soon_after_the_form_was_issued_is_too_fast() {
        for (elapsed_ms, level, expected) in [
            (999, Lenient, &[TooFast][..]),
            (1_000, Lenient, &[][..]),
            (1_999, Standard, &[TooFast]),
            (2_000, Standard, &[]),
            (2_999, Strict, &[TooFast]),
            (3_000, Strict, &[]),
            (0, Standard, &[TooFast]),
            (-60_000, Standard, &[TooFast]),
        ] {
            check(
                |s| s.form_issued_at = Some(NOW - elapsed_ms),
                level,
                expected,
                false,
            );
        }
    }

    #[test]
    fn a_missing_form_timestamp_counts_only_when_strict() {
        check(|s| s.form_issued_at = None, Lenient, &[], false);
        check(|s| s.form_issued_at = None, Standard, &[], false);
        check(|s| s.form_issued_at = None, Strict, &[TooFast], false);
    }

    #[test]
    fn many_entries_from_one_ip_are_flagged_by_level() {
        for (last_minute, last_hour, level, expected) in [
            (29, 29, Lenient, &[][..]),
            (30, 30, Lenient, &[VelocityIp][..]),
            (0, 300, Lenient, &[VelocityIp]),
            (9, 99, Standard, &[]),
            (10, 10, Standard, &[VelocityIp]),
            (0, 100, Standard, &[VelocityIp]),
            (4, 29, Strict, &[]),
            (5, 5, Strict, &[VelocityIp]),
            (0, 30, Strict, &[VelocityIp]),
        ] {
            check(
                |s| {
                    s.entries_from_ip_last_minute = last_minute;
                    s.entries_from_ip_last_hour = last_hour;
                },
                level,
                expected,
                false,
            );
        }
    }

    #[test]
    fn referring_oneself_is_a_loop() {
        let by_email = |s: &mut Signals| {
            s.referrer = Some(Referrer {
                email: "joe@EXAMPLE.com".into(),
                ip: None,
            });
        };
        let by_ip = |s: &mut Signals| {
            s.referrer = Some(Referrer {
                email: "ann@example.com".into(),
                ip: Some(IP),
            });
        };
        let someone_else = |s: &mut Signals| {
            s.referrer = Some(Referrer {
                email: "ann@example.com".into(),
                ip: Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))),
            });
        };
        check(by_email, Lenient, &[ReferralLoop], false);
        check(by_email, Standard, &[ReferralLoop], false);
        check(by_email, Strict, &[ReferralLoop], true);
        check(by_ip, Lenient, &[], false);
        check(by_ip, Standard, &[ReferralLoop], false);
        check(by_ip, Strict, &[ReferralLoop], true);
        check(someone_else, Strict, &[], false);
        check(
            |s| {
                s.client_ip = None;
                s.referrer = Some(Referrer {
                    email: "ann@example.com".into(),
                    ip: None,
                });
            },
            Strict,
            &[],
            false,
        );
    }

    #[test]
    fn two_soft_signals_disqualify_at_standard_but_not_lenient() {
        let bot_retry = |s: &mut Signals| {
            s.another_contestant_same_mailbox = true;
            s.form_issued_at = Some(NOW - 500);
        };
        check(bot_retry, Lenient, &[DuplicateEmail, TooFast], false);
        check(bot_retry, Standard, &[DuplicateEmail, TooFast], true);
        check(bot_retry, Strict, &[DuplicateEmail, TooFast], true);
        let shared_office = |s: &mut Signals| {
            s.other_contestants_from_ip = 12;
            s.entries_from_ip_last_minute = 3;
            s.entries_from_ip_last_hour = 40;
        };
        check(shared_office, Standard, &[DuplicateIp], false);
        check(shared_office, Strict, &[DuplicateIp, VelocityIp], true);
        check(
            |s| {
                s.honeypot = "x".into();
                s.email_domain = "trashmail.com".into();
                s.entries_from_ip_last_minute = 40;
            },
            Lenient,
            &[DisposableEmail, Honeypot, VelocityIp],
            true,
        );
    }

    #[test]
    fn decisions_follow_the_verdict() {
        let mut signals = person();
        assert_eq!(score(&signals, Standard).decision(), Decision::Accepted);
        signals.another_contestant_same_mailbox = true;
        assert_eq!(score(&signals, Standard).decision(), Decision::Flagged);
        signals.honeypot = "x".into();
        assert_eq!(score(&signals, Standard).decision(), Decision::Disqualified);
    }

    #[test]
    fn names_round_trip() {
        for level in FraudLevel::ALL {
            assert_eq!(FraudLevel::parse(level.as_str()), Some(level));
        }
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
        for decision in [
            Decision::Accepted,
            Decision::Flagged,
            Decision::Disqualified,
        ] {
            assert_eq!(Decision::parse(decision.as_str()), Some(decision));
        }
        assert_eq!(FraudLevel::default(), Standard);
        assert_eq!(FraudLevel::parse("Standard"), None);
    }

    /// The store stops counting an address's entries at the level's caps: a count stopped
    /// there decides every rule as the full count would.
    #[test]
    fn counts_stopped_at_the_caps_decide_alike() {
        for level in FraudLevel::ALL {
            let Some(caps) = level.count_caps() else {
                assert_eq!(level, Off);
                continue;
            };
            for full in 0..=400 {
                let scored = |capped: fn(u32, CountCaps) -> (u32, u32, u32)| {
                    let (others, minute, hour) = capped(full, caps);
                    let mut s = person();
                    s.other_contestants_from_ip = others;
                    s.entries_from_ip_last_minute = minute;
                    s.entries_from_ip_last_hour = hour;
                    score(&s, level)
                };
                assert_eq!(
                    scored(|n, _| (n, n, n)),
                    scored(|n, caps| (
                        n.min(caps.other_contestants),
                        n.min(caps.entries_last_minute),
                        n.min(caps.entries_last_hour)
                    )),
                    "{level:?} at {full}"
                );
            }
        }
    }
}
