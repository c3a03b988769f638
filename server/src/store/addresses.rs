//! What the fraud filter asks about the address an entry came from, on SQLite: how many
//! other contestants entered the campaign from it, and how many entries it sent in the last
//! minute and hour. The entry writer keeps the answer in memory ([`Addresses`]), by campaign
//! and address, instead of an index over `entries (campaign_id, client_ip, created_at)`.
//!
//! Such an index takes each new entry at a random place. Every commit wrote a leaf of it for
//! each entry (a whole 4 KiB page), read it first (mostly from outside the page cache once the
//! database was large), and each checkpoint copied those leaves again: under the ingest
//! benchmark the writer took 28.2 µs per entry with it and its reads, 22.6 without. Written in
//! batches instead (tried: a table filled in key order, the addresses not yet written held in
//! memory) the batches cost what the index had.
//!
//! The entries' addresses stay in `entries.client_ip`, written with each entry as before;
//! this is derived from them, read once as the writer starts ([`Addresses::load`]: one pass
//! over `entries`: 1.1 s for 1.5 million here). It holds an address's distinct contestants up
//! to the most any level asks about, and its entries of the last hour up to the most any level
//! counts: about 100 bytes of memory per address, with the hash table's room (1.5 million
//! addresses: 150 MB). Deleting a contestant takes them out of it
//! (`Store::delete_contestant`, through the writer thread). Where another server process
//! writes to the same database, the writer reads its entries at the start of its next
//! transaction ([`Addresses::catch_up`]); a contestant deleted there still counts here until
//! this process starts again.
//!
//! PostgreSQL keeps the index: several processes write there, and the counts are one
//! statement with the rest of an entry's reads.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use rusqlite::Connection;

use super::FraudCounts;
use crate::fraud::{CountCaps, FraudLevel};

/// The last minute and hour, in ms, as the counts take them (an entry exactly that old is out).
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// The contestants and recent entries kept per address: as many as the most any level counts
/// (each count stops at its level's cap), and one more contestant for the one entering.
fn kept() -> (usize, usize) {
    FraudLevel::ALL
        .into_iter()
        .filter_map(FraudLevel::count_caps)
        .fold((1, 1), |(contestants, entries), caps| {
            (
                contestants.max(as_usize(caps.other_contestants) + 1),
                entries.max(as_usize(caps.entries_last_hour)),
            )
        })
}

fn as_usize(count: u32) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX)
}

/// One address's part of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Address {
    /// One entry came from it (most addresses): by whom, and when (Unix ms).
    Once {
        contestant_id: i64,
        at: i64,
    },
    More(Box<Seen>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Seen {
    /// Distinct, in the order they came, at most [`kept`]'s first.
    contestants: Vec<i64>,
    /// Entries of the last hour (time, contestant), oldest first, at most [`kept`]'s second.
    recent: VecDeque<(i64, i64)>,
}

impl Address {
    fn add(
        &mut self,
        contestant_id: i64,
        at: i64,
        (most_contestants, most_recent): (usize, usize),
    ) {
        if let Self::Once {
            contestant_id: first,
            at: first_at,
        } = *self
        {
            *self = Self::More(Box::new(Seen {
                contestants: vec![first],
                recent: VecDeque::from([(first_at, first)]),
            }));
        }
        let Self::More(seen) = self else {
            unreachable!("an address entered from twice holds a list")
        };
        if !seen.contestants.contains(&contestant_id) && seen.contestants.len() < most_contestants {
            seen.contestants.push(contestant_id);
        }
        seen.recent.push_back((at, contestant_id));
        let since = at.saturating_sub(HOUR_MS);
        while seen.recent.front().is_some_and(|(then, _)| *then <= since)
            || seen.recent.len() > most_recent
        {
            seen.recent.pop_front();
        }
    }

    /// Without `contestant_id`'s entries; `None` if nothing is left.
    fn without(self, contestant_id: i64) -> Option<Self> {
        match self {
            Self::Once {
                contestant_id: only,
                ..
            } if only == contestant_id => None,
            Self::Once { .. } => Some(self),
            Self::More(mut seen) => {
                seen.contestants.retain(|id| *id != contestant_id);
                seen.recent.retain(|(_, id)| *id != contestant_id);
                (!seen.contestants.is_empty()).then_some(Self::More(seen))
            }
        }
    }

    /// (other contestants, entries since `minute`, entries since `hour`), uncapped.
    fn counts(&self, contestant_id: i64, minute: i64, hour: i64) -> (usize, usize, usize) {
        match self {
            Self::Once {
                contestant_id: only,
                at,
            } => (
                usize::from(*only != contestant_id),
                usize::from(*at > minute),
                usize::from(*at > hour),
            ),
            Self::More(seen) => (
                seen.contestants
                    .iter()
                    .filter(|id| **id != contestant_id)
                    .count(),
                seen.recent.iter().filter(|(at, _)| *at > minute).count(),
                seen.recent.iter().filter(|(at, _)| *at > hour).count(),
            ),
        }
    }
}

/// The committed entries' addresses, by campaign and address. Lives on the writer thread.
#[derive(Debug)]
pub(super) struct Addresses {
    by_address: HashMap<(i64, IpAddr), Address>,
    kept: (usize, usize),
    /// The highest id of the entries held.
    through: i64,
    /// `PRAGMA data_version` when `entries` was last read: it changes when another connection
    /// commits.
    data_version: Option<i64>,
}

impl Default for Addresses {
    fn default() -> Self {
        Self {
            by_address: HashMap::new(),
            kept: kept(),
            through: 0,
            data_version: None,
        }
    }
}

impl Addresses {
    /// Every entry's address, from `entries`.
    pub(super) fn load(connection: &Connection) -> rusqlite::Result<Self> {
        let mut addresses = Self::default();
        addresses.catch_up(connection)?;
        Ok(addresses)
    }

    /// Adds the entries past those held, in the order they were written, if another
    /// connection has committed since the last look: another server process on the database
    /// (the writer's own entries are added as it commits them). Asked at the start of each of
    /// the writer's transactions, under SQLite's write lock, so nothing is committed meanwhile;
    /// one `PRAGMA data_version` when nothing was.
    pub(super) fn catch_up(&mut self, connection: &Connection) -> rusqlite::Result<()> {
        let version = connection
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |row| row.get(0))?;
        if self.data_version == Some(version) {
            return Ok(());
        }
        let mut statement = connection.prepare_cached(
            "SELECT id, campaign_id, client_ip, contestant_id, created_at FROM entries
             WHERE id > $1 AND client_ip IS NOT NULL ORDER BY id",
        )?;
        let mut rows = statement.query([self.through])?;
        while let Some(row) = rows.next()? {
            let client_ip: String = row.get(2)?;
            // Written from an `IpAddr`; anything else is no address the filter could ask about.
            if let Ok(ip) = client_ip.parse() {
                self.add(row.get(1)?, ip, row.get(3)?, row.get(4)?);
            }
            self.through = row.get(0)?;
        }
        self.data_version = Some(version);
        Ok(())
    }

    /// Addresses held (for the log).
    pub(super) fn len(&self) -> usize {
        self.by_address.len()
    }

    fn add(&mut self, campaign_id: i64, ip: IpAddr, contestant_id: i64, at: i64) {
        match self.by_address.entry((campaign_id, ip)) {
            Entry::Occupied(mut address) => address.get_mut().add(contestant_id, at, self.kept),
            Entry::Vacant(address) => {
                address.insert(Address::Once { contestant_id, at });
            }
        }
    }

    /// Takes contestant `contestant_id` out of the campaign's `addresses` (they were deleted).
    pub(super) fn forget(&mut self, campaign_id: i64, addresses: &[IpAddr], contestant_id: i64) {
        for ip in addresses {
            if let Some(address) = self.by_address.remove(&(campaign_id, *ip))
                && let Some(left) = address.without(contestant_id)
            {
                self.by_address.insert((campaign_id, *ip), left);
            }
        }
    }
}

/// One write transaction's side: the addresses of the entries it inserted, counted with the
/// committed ones while it runs and added to them when it commits.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// (campaign, address, contestant, time, entry id)
    inserted: Vec<(i64, IpAddr, i64, i64, i64)>,
    /// `inserted.len()` at the entry's savepoint: rolling back to it takes back what followed.
    at_savepoint: usize,
}

impl Pending {
    /// Entry `entry_id`, inserted from `client_ip` (the canonical text of an address, as
    /// stored).
    pub(super) fn inserted(
        &mut self,
        entry_id: i64,
        campaign_id: i64,
        client_ip: &str,
        contestant_id: i64,
        at: i64,
    ) {
        if let Ok(ip) = client_ip.parse() {
            self.inserted
                .push((campaign_id, ip, contestant_id, at, entry_id));
        }
    }

    pub(super) fn savepoint(&mut self) {
        self.at_savepoint = self.inserted.len();
    }

    pub(super) fn rollback_to_savepoint(&mut self) {
        self.inserted.truncate(self.at_savepoint);
    }

    /// After the commit.
    pub(super) fn committed(self, addresses: &mut Addresses) {
        for (campaign_id, ip, contestant_id, at, entry_id) in self.inserted {
            addresses.add(campaign_id, ip, contestant_id, at);
            addresses.through = addresses.through.max(entry_id);
        }
    }

    /// The fraud filter's per-address counts for contestant `contestant_id` entering the
    /// campaign from `client_ip` at `now`: the committed entries' and this transaction's,
    /// each stopped at its cap.
    pub(super) fn counts(
        &self,
        addresses: &Addresses,
        campaign_id: i64,
        client_ip: &str,
        contestant_id: i64,
        now: i64,
        caps: CountCaps,
    ) -> FraudCounts {
        let Ok(ip) = client_ip.parse::<IpAddr>() else {
            return FraudCounts::default();
        };
        let (minute, hour) = (now.saturating_sub(MINUTE_MS), now.saturating_sub(HOUR_MS));
        let mut address = addresses.by_address.get(&(campaign_id, ip)).cloned();
        for (campaign, inserted_ip, contestant, at, _) in &self.inserted {
            if (*campaign, *inserted_ip) == (campaign_id, ip) {
                match &mut address {
                    Some(address) => address.add(*contestant, *at, addresses.kept),
                    None => {
                        address = Some(Address::Once {
                            contestant_id: *contestant,
                            at: *at,
                        });
                    }
                }
            }
        }
        let (others, last_minute, last_hour) = address
            .map(|address| address.counts(contestant_id, minute, hour))
            .unwrap_or_default();
        // At most the cap, so it fits.
        let capped =
            |count: usize, cap: u32| u32::try_from(count).map_or(cap, |count| count.min(cap));
        FraudCounts {
            other_contestants_from_ip: capped(others, caps.other_contestants),
            entries_from_ip_last_minute: capped(last_minute, caps.entries_last_minute),
            entries_from_ip_last_hour: capped(last_hour, caps.entries_last_hour),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::{Addresses, HOUR_MS, MINUTE_MS, Pending};
    use crate::fraud::CountCaps;
    use crate::store::FraudCounts;

    const CAPS: CountCaps = CountCaps {
        other_contestants: 3,
        entries_last_minute: 5,
        entries_last_hour: 30,
    };
    const NOW: i64 = 1_800_000_000_000;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn counts(addresses: &Addresses, pending: &Pending, contestant_id: i64) -> (u32, u32, u32) {
        let FraudCounts {
            other_contestants_from_ip,
            entries_from_ip_last_minute,
            entries_from_ip_last_hour,
        } = pending.counts(addresses, 1, "10.0.0.1", contestant_id, NOW, CAPS);
        (
            other_contestants_from_ip,
            entries_from_ip_last_minute,
            entries_from_ip_last_hour,
        )
    }

    #[test]
    fn an_address_nobody_used_counts_nothing() {
        let mut addresses = Addresses::default();
        addresses.add(1, ip("10.0.0.2"), 5, NOW);
        addresses.add(2, ip("10.0.0.1"), 5, NOW);
        assert_eq!(counts(&addresses, &Pending::default(), 7), (0, 0, 0));
    }

    #[test]
    fn entries_count_by_window_and_others_by_contestant() {
        let mut addresses = Addresses::default();
        let address = ip("10.0.0.1");
        // Exactly a minute (an hour) ago is outside it, as `created_at > now - 60000` in SQL.
        addresses.add(1, address, 5, NOW - MINUTE_MS);
        addresses.add(1, address, 5, NOW - 1_000);
        addresses.add(1, address, 6, NOW - HOUR_MS);
        addresses.add(1, address, 7, NOW - 10);
        assert_eq!(counts(&addresses, &Pending::default(), 7), (2, 2, 3));
        assert_eq!(counts(&addresses, &Pending::default(), 8), (3, 2, 3));
    }

    #[test]
    fn the_transactions_own_entries_count_until_rolled_back() {
        let addresses = Addresses::default();
        let mut pending = Pending::default();
        pending.inserted(1, 1, "10.0.0.1", 5, NOW);
        pending.savepoint();
        pending.inserted(2, 1, "10.0.0.1", 6, NOW);
        assert_eq!(counts(&addresses, &pending, 7), (2, 2, 2));
        pending.rollback_to_savepoint();
        assert_eq!(counts(&addresses, &pending, 7), (1, 1, 1));
        let mut committed = Addresses::default();
        pending.committed(&mut committed);
        assert_eq!(counts(&committed, &Pending::default(), 7), (1, 1, 1));
    }

    #[test]
    fn counts_stop_at_their_caps_and_keep_a_bounded_list() {
        let mut addresses = Addresses::default();
        for contestant in 0..1_000 {
            addresses.add(1, ip("10.0.0.1"), contestant, NOW - 1);
        }
        assert_eq!(counts(&addresses, &Pending::default(), 5_000), (3, 5, 30));
        let (most_contestants, most_recent) = addresses.kept;
        let super::Address::More(seen) = &addresses.by_address[&(1, ip("10.0.0.1"))] else {
            panic!("an address entered a thousand times holds a list");
        };
        assert_eq!(seen.contestants.len(), most_contestants);
        assert_eq!(seen.recent.len(), most_recent);
    }

    #[test]
    fn a_forgotten_contestant_no_longer_counts() {
        let mut addresses = Addresses::default();
        addresses.add(1, ip("10.0.0.1"), 5, NOW - 1);
        addresses.add(1, ip("10.0.0.1"), 6, NOW - 1);
        addresses.add(1, ip("10.0.0.3"), 5, NOW - 1);
        addresses.forget(1, &[ip("10.0.0.1"), ip("10.0.0.3")], 5);
        assert_eq!(counts(&addresses, &Pending::default(), 7), (1, 1, 1));
        assert_eq!(addresses.len(), 1);
        addresses.forget(1, &[ip("10.0.0.1")], 6);
        assert_eq!(addresses.len(), 0);
    }
}
