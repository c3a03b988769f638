//! Rate limits on the public entry route: per client IP, per campaign and per email, each a
//! GCRA limiter ([`governor`]) kept in memory by this process (several processes behind a
//! load balancer each keep their own, so the effective limit is the sum).
//!
//! Also the rule for finding the client's IP behind the operator's trusted proxies.
//!
//! Must not know HTTP: it answers with [`Limited`], which the API turns into a 429 with
//! `Retry-After`.

use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::address::AllowList;

/// A rate: `count` events per `period`, all of which may come at once (the burst).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Duration,
}

impl Rate {
    /// `60/m`, `10000/s`, `5/h`; `None` for `off`.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let problem = || format!("expected a rate like 60/m (per s, m or h) or off, got {text:?}");
        let (count, unit) = text.split_once('/').ok_or_else(problem)?;
        let count: NonZeroU32 = count.trim().parse().map_err(|_| problem())?;
        let period = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(problem()),
        };
        Ok(Some(Self { count, period }))
    }

    fn quota(self) -> Quota {
        let interval = self.period / self.count.get();
        Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(self.count))
            .allow_burst(self.count)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// The limits of the entry route; `None` turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `HOOKLINE_RATE_LIMIT_PER_IP`: entries from one client address.
    pub per_ip: Option<Rate>,
    /// `HOOKLINE_RATE_LIMIT_PER_CAMPAIGN`: entries into one campaign, from everyone.
    pub per_campaign: Option<Rate>,
    /// `HOOKLINE_RATE_LIMIT_PER_EMAIL`: entries by one email address in one campaign.
    pub per_email: Option<Rate>,
}

impl Default for RateLimitSettings {
    /// Generous for people (a visitor doing every action of a campaign, an office behind one
    /// address), tight for scripts.
    fn default() -> Self {
        let rate = |count: u32, seconds: u64| {
            NonZeroU32::new(count).map(|count| Rate {
                count,
                period: Duration::from_secs(seconds),
            })
        };
        Self {
            per_ip: rate(60, 60),
            per_campaign: rate(20_000, 1),
            per_email: rate(20, 60),
        }
    }
}

/// Which limit a refused entry hit, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub scope: Scope,
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Ip,
    Campaign,
    Email,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Campaign => "campaign",
            Self::Email => "email",
        }
    }
}

/// Checks between prunings of keys that have recovered their whole burst.
const PRUNE_EVERY: u64 = 4_096;

/// The entry route's limiters. Cloning shares them.
#[derive(Debug, Clone)]
pub struct RateLimits {
    inner: Arc<Limiters>,
}

#[derive(Debug)]
struct Limiters {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_campaign: Option<DefaultKeyedRateLimiter<i64>>,
    per_email: Option<DefaultKeyedRateLimiter<(i64, String)>>,
    checks: AtomicU64,
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            inner: Arc::new(Limiters {
                per_ip: settings
                    .per_ip
                    .map(|rate| DefaultKeyedRateLimiter::keyed(rate.quota())),
                per_campaign: settings
                    .per_campaign
                    .map(|rate| DefaultKeyedRateLimiter::keyed(rate.quota())),
                per_email: settings
                    .per_email
                    .map(|rate| DefaultKeyedRateLimiter::keyed(rate.quota())),
                checks: AtomicU64::new(0),
            }),
        }
    }

    /// Counts one entry from `ip` (when known) into campaign `campaign_id` by `email`,
    /// unless a limit is reached. The most particular limit is checked first and the
    /// campaign's last, so the campaign's count is of entries that passed the others (one
    /// noisy sender does not use up everyone's share).
    pub fn check(&self, ip: Option<IpAddr>, campaign_id: i64, email: &str) -> Result<(), Limited> {
        let limits = &self.inner;
        if limits.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        if let Some(limiter) = &limits.per_email {
            // Any case: mailboxes that differ only in case are, in practice, one person.
            check(limiter, &(campaign_id, email.to_lowercase()), Scope::Email)?;
        }
        if let (Some(limiter), Some(ip)) = (&limits.per_ip, ip) {
            check(limiter, &ip.to_canonical(), Scope::Ip)?;
        }
        if let Some(limiter) = &limits.per_campaign {
            check(limiter, &campaign_id, Scope::Campaign)?;
        }
        Ok(())
    }

    /// Counts one request from `ip` (when known) against the per-address limit only (uploads,
    /// which come before the entry that cites them).
    pub fn check_address(&self, ip: Option<IpAddr>) -> Result<(), Limited> {
        match (&self.inner.per_ip, ip) {
            (Some(limiter), Some(ip)) => check(limiter, &ip.to_canonical(), Scope::Ip),
            _ => Ok(()),
        }
    }

    /// Forgets the keys that are back to a full burst (they behave as new keys), so memory
    /// follows the recent traffic, not all traffic ever.
    fn prune(&self) {
        let limits = &self.inner;
        if let Some(limiter) = &limits.per_ip {
            limiter.retain_recent();
        }
        if let Some(limiter) = &limits.per_campaign {
            limiter.retain_recent();
        }
        if let Some(limiter) = &limits.per_email {
            limiter.retain_recent();
        }
    }
}

fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
    scope: Scope,
) -> Result<(), Limited> {
    limiter.check_key(key).map_err(|not_until| Limited {
        scope,
        retry_after: not_until.wait_time_from(DefaultClock::default().now()),
    })
}

/// The client's address: the connecting peer's, or, when the peer is one of the operator's
/// `trusted` proxies, the last address in `X-Forwarded-For` that is not a trusted proxy
/// (each proxy appends the address it saw, so the rightmost untrusted one is the first that
/// nobody in the chain could have forged).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &AllowList) -> IpAddr {
    let peer = peer.to_canonical();
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    let Some(forwarded_for) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in forwarded_for.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !trusted.contains(client) {
                    return client;
                }
            }
            // A malformed hop: what is left of it cannot be trusted; the last good one stands.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        let rate = Rate::parse("60/m").expect("valid").expect("on");
        assert_eq!(
            (rate.count.get(), rate.period),
            (60, Duration::from_secs(60))
        );
        assert_eq!(rate.to_string(), "60/m");
        assert_eq!(Rate::parse(" OFF "), Ok(None));
        for bad in ["60", "0/m", "x/m", "60/d", "-1/s", ""] {
            assert!(Rate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_limit_counts_its_own_key() {
        let rate = |count| {
            Some(Rate {
                count: NonZeroU32::new(count).expect("above zero"),
                period: Duration::from_secs(3600),
            })
        };
        let limits = RateLimits::new(RateLimitSettings {
            per_ip: rate(3),
            per_campaign: rate(100),
            per_email: rate(2),
        });
        let ip: IpAddr = "203.0.113.7".parse().expect("an IP");
        assert!(limits.check(Some(ip), 1, "a@x").is_ok());
        assert!(limits.check(Some(ip), 1, "a@x").is_ok());
        let refused = limits
            .check(Some(ip), 1, "a@x")
            .expect_err("third from a@x");
        assert_eq!(refused.scope, Scope::Email);
        assert!(refused.retry_after > Duration::from_secs(60));
        // Refused by its email, the third did not count against the address.
        assert!(limits.check(Some(ip), 1, "b@x").is_ok());
        let refused = limits
            .check(Some(ip), 1, "c@x")
            .expect_err("fourth from the address");
        assert_eq!(refused.scope, Scope::Ip);
        let other: IpAddr = "198.51.100.1".parse().expect("an IP");
        assert!(limits.check(Some(other), 1, "c@x").is_ok());
        assert!(
            limits.check(Some(other), 2, "a@x").is_ok(),
            "another campaign"
        );
    }

    fn check_ip(peer: &str, forwarded: Option<&str>, trusted: &str, expected: &str) {
        let trusted = AllowList::parse(trusted).expect("networks");
        let got = client_ip(peer.parse().expect("an IP"), forwarded, &trusted);
        assert_eq!(
            got.to_string(),
            expected,
            "{peer} {forwarded:?} via {trusted}"
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        check_ip("203.0.113.7", Some("1.2.3.4"), "", "203.0.113.7");
        check_ip("203.0.113.7", Some("1.2.3.4"), "10.0.0.0/8", "203.0.113.7");
        check_ip(
            "10.0.0.2",
            Some("198.51.100.9"),
            "10.0.0.0/8",
            "198.51.100.9",
        );
        check_ip(
            "10.0.0.2",
            Some("6.6.6.6, 198.51.100.9, 10.0.0.3"),
            "10.0.0.0/8",
            "198.51.100.9",
        );
        check_ip("10.0.0.2", None, "10.0.0.0/8", "10.0.0.2");
        check_ip("10.0.0.2", Some("junk, 10.0.0.3"), "10.0.0.0/8", "10.0.0.3");
        check_ip(
            "::ffff:10.0.0.2",
            Some("198.51.100.9"),
            "10.0.0.0/8",
            "198.51.100.9",
        );
    }
}
