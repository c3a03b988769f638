//! The offline queue ("outbox"): every entry post is written here before it is sent and
//! removed once the server has answered, so an entry made offline, or on a page closed before
//! the answer came, is sent again on the `online` event or the next page load, with the same
//! idempotency key: the server stores it exactly once.
//!
//! Pure data and its text form (`codec.rs`), tested natively; `storage.rs` keeps the text in
//! `localStorage`. Must not touch the browser.

use protocol::ids::{CampaignKey, EntryMethodId};

use crate::codec::{field, number, records, write_record};

/// Most posts kept; the oldest go first. A person makes a handful of entries offline.
pub const MAX_ITEMS: usize = 50;
/// Posts older than this (unix ms) are dropped unsent: the campaign has likely moved on.
pub const MAX_AGE_MS: i64 = 7 * 86_400_000;

/// One entry post waiting for the server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub campaign: CampaignKey,
    pub entry_method_id: EntryMethodId,
    pub idempotency_key: String,
    /// What the action captured, for the `entry` event when it is confirmed.
    pub value: String,
    /// The JSON body, exactly as first posted.
    pub body: String,
    /// When it was made, unix ms.
    pub queued_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    items: Vec<Pending>,
}

impl Outbox {
    /// Adds `item`, replacing one with the same idempotency key, dropping the oldest beyond
    /// [`MAX_ITEMS`].
    pub fn put(&mut self, item: Pending) {
        self.remove(&item.idempotency_key);
        self.items.push(item);
        if self.items.len() > MAX_ITEMS {
            let excess = self.items.len() - MAX_ITEMS;
            self.items.drain(..excess);
        }
    }

    /// Removes the post with this idempotency key. Returns whether there was one.
    pub fn remove(&mut self, idempotency_key: &str) -> bool {
        let before = self.items.len();
        self.items
            .retain(|item| item.idempotency_key != idempotency_key);
        self.items.len() != before
    }

    /// Drops posts older than [`MAX_AGE_MS`] at `now`.
    pub fn expire(&mut self, now: i64) {
        self.items
            .retain(|item| now.saturating_sub(item.queued_at) < MAX_AGE_MS);
    }

    /// The posts for `campaign`, oldest first.
    pub fn for_campaign<'a>(
        &'a self,
        campaign: &'a CampaignKey,
    ) -> impl Iterator<Item = &'a Pending> {
        self.items
            .iter()
            .filter(move |item| item.campaign == *campaign)
    }

    /// The post waiting for this method of `campaign`, if any: doing the action again while it
    /// waits reuses it rather than making a second entry.
    pub fn waiting(&self, campaign: &CampaignKey, method: EntryMethodId) -> Option<&Pending> {
        self.items
            .iter()
            .find(|item| item.campaign == *campaign && item.entry_method_id == method)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            let (method, at) = (
                item.entry_method_id.0.to_string(),
                item.queued_at.to_string(),
            );
            write_record(
                &mut out,
                [
                    "q1",
                    item.campaign.as_str(),
                    &method,
                    &item.idempotency_key,
                    &item.value,
                    &item.body,
                    &at,
                ],
            );
        }
        out
    }

    /// Reads [`Self::encode`]'s text, skipping records it does not understand.
    pub fn decode(text: &str) -> Self {
        let items = records(text)
            .filter(|record| field(record, 0) == "q1" && !field(record, 3).is_empty())
            .filter_map(|record| {
                Some(Pending {
                    campaign: CampaignKey::parse(field(&record, 1))?,
                    entry_method_id: EntryMethodId(number(&record, 2)),
                    idempotency_key: field(&record, 3).to_owned(),
                    value: field(&record, 4).to_owned(),
                    body: field(&record, 5).to_owned(),
                    queued_at: number(&record, 6),
                })
            })
            .collect();
        Self { items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_328_077_000;

    fn key(text: &str) -> CampaignKey {
        CampaignKey::parse(text).unwrap_or_else(|| unreachable!("valid test key"))
    }

    fn pending(campaign: &str, method: i64, idempotency_key: &str, at: i64) -> Pending {
        Pending {
            campaign: key(campaign),
            entry_method_id: EntryMethodId(method),
            idempotency_key: idempotency_key.into(),
            value: "With milk".into(),
            body: "{\"idempotency_key\":\"".to_owned()
                + idempotency_key
                + "\",\n\t\"x\":\"a\\\\b\"}",
            queued_at: at,
        }
    }

    fn keys(outbox: &Outbox, campaign: &str) -> Vec<String> {
        let campaign = key(campaign);
        outbox
            .for_campaign(&campaign)
            .map(|item| item.idempotency_key.clone())
            .collect()
    }

    #[test]
    fn the_same_key_is_kept_once() {
        let mut outbox = Outbox::default();
        outbox.put(pending("a", 1, "k1", NOW));
        outbox.put(pending("b", 1, "k2", NOW));
        outbox.put(pending("a", 1, "k1", NOW + 5));
        assert_eq!(keys(&outbox, "a"), ["k1"]);
        assert_eq!(keys(&outbox, "b"), ["k2"]);
        assert!(outbox.remove("k1"));
        assert!(!outbox.remove("k1"));
        assert_eq!(keys(&outbox, "a"), Vec::<String>::new());
    }

    #[test]
    fn a_waiting_action_is_found_by_campaign_and_method() {
        let mut outbox = Outbox::default();
        outbox.put(pending("a", 1, "k1", NOW));
        outbox.put(pending("a", 2, "k2", NOW));
        let a = key("a");
        assert_eq!(
            outbox
                .waiting(&a, EntryMethodId(2))
                .map(|p| p.idempotency_key.as_str()),
            Some("k2")
        );
        assert_eq!(outbox.waiting(&a, EntryMethodId(3)), None);
        assert_eq!(outbox.waiting(&key("b"), EntryMethodId(1)), None);
    }

    #[test]
    fn it_stays_small_and_forgets_old_posts() {
        let mut outbox = Outbox::default();
        for n in 0..MAX_ITEMS + 3 {
            outbox.put(pending("a", 1, &format!("k{n}"), NOW));
        }
        let kept = keys(&outbox, "a");
        assert_eq!(kept.len(), MAX_ITEMS);
        assert_eq!(kept[0], "k3", "the oldest went first");
        let mut outbox = Outbox::default();
        outbox.put(pending("a", 1, "old", NOW - MAX_AGE_MS));
        outbox.put(pending("a", 1, "new", NOW - MAX_AGE_MS + 1));
        outbox.expire(NOW);
        assert_eq!(keys(&outbox, "a"), ["new"]);
    }

    #[test]
    fn it_round_trips_through_storage_text() {
        let mut outbox = Outbox::default();
        outbox.put(pending("a", 1, "k1", NOW));
        outbox.put(pending("b", 7, "k2", NOW + 1));
        assert_eq!(Outbox::decode(&outbox.encode()), outbox);
        assert!(Outbox::decode("").is_empty());
        assert!(Outbox::decode("q0\ta\t1\tk\n").is_empty());
        assert!(Outbox::decode("q1\tbad key\t1\tk\n").is_empty());
    }
}
