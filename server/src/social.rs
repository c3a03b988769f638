//! Social proof: turning conversions and entries into the notifications widgets show, and
//! the live feed that pushes them to every open widget of a campaign.
//!
//! The notification rules are pure ([`conversion_notification`], [`entry_notification`]):
//! they apply the owner's choice of fields, and never let an email address through. The feed
//! ([`Activity`]) keeps one broadcast channel per campaign with open widgets; on PostgreSQL it
//! also tells the other server processes (`NOTIFY`), so a widget connected to any of them
//! sees a conversion posted to another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use protocol::social::{
    ActivitySummary, Notification, NotificationKind, NotifiedProduct, ShownFields,
    SocialProofSettings,
};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::{Notify, broadcast};
use tracing::{debug, warn};

use crate::inbound;
use crate::store::{CampaignRecord, ConversionRow, Pool, RecentEntry, Store, StoreError};

/// Notifications sent to a widget when it connects, at most.
pub const RECENT_NOTIFICATIONS: u32 = 10;
/// How far back those go.
pub const RECENT_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;
/// Notifications a slow widget connection may fall behind by before it skips some.
const CHANNEL_CAPACITY: usize = 64;
/// Wait before listening again after the database connection broke.
const RECONNECT_BACKOFF: std::time::Duration = std::time::Duration::from_secs(1);
/// The PostgreSQL channel the server processes tell each other on.
const NOTIFY_CHANNEL: &str = "hookline_activity";
/// How long a widget waits before reconnecting to the feed after losing it (the SSE `retry`
/// each connection is told), at random in this range so that the widgets of a restarted
/// server do not all come back at once.
pub const RECONNECT_AFTER_MS: std::ops::Range<u64> = 5_000..20_000;

/// A reconnection delay for one connection, from [`RECONNECT_AFTER_MS`].
pub fn reconnect_after() -> std::time::Duration {
    std::time::Duration::from_millis(rand::random_range(RECONNECT_AFTER_MS))
}

/// A campaign's social proof settings (`settings.social_proof`); off when absent or invalid.
pub fn settings(campaign: &CampaignRecord) -> SocialProofSettings {
    campaign
        .settings
        .get("social_proof")
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .unwrap_or_default()
}

/// The text, trimmed, unless there is none.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

/// Where the person is, as much as the fields allow: "Miami, FL" (US states by code),
/// "Miami, Australia", "Queensland, Australia", "Australia".
pub fn place(
    city: Option<&str>,
    state: Option<&str>,
    state_code: Option<&str>,
    country: Option<&str>,
    country_code: Option<&str>,
) -> Option<String> {
    let us = present(country_code).is_some_and(|code| code.eq_ignore_ascii_case("US"));
    let region = if us {
        present(state_code).or(present(state))
    } else {
        None
    };
    let parts: Vec<&str> = match (present(city), region, present(country)) {
        (Some(city), Some(region), _) => vec![city, region],
        (Some(city), None, Some(country)) => vec![city, country],
        (Some(city), None, None) => vec![city],
        (None, Some(region), _) if us => vec![region],
        (None, _, Some(country)) => match present(state) {
            Some(state) => vec![state, country],
            None => vec![country],
        },
        (None, _, None) => present(state).into_iter().collect(),
    };
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The notification a conversion makes, with only the fields the owner shows.
pub fn conversion_notification(conversion: &ConversionRow, fields: ShownFields) -> Notification {
    let name = if fields.name {
        inbound::display_name(&conversion.first_name, &conversion.last_name)
    } else {
        inbound::display_name("", "")
    };
    let place = fields
        .location
        .then(|| {
            place(
                conversion.city.as_deref(),
                conversion.state.as_deref(),
                conversion.state_code.as_deref(),
                conversion.country.as_deref(),
                conversion.country_code.as_deref(),
            )
        })
        .flatten();
    let product = fields
        .product
        .then(|| {
            conversion
                .product_name
                .as_ref()
                .map(|name| NotifiedProduct {
                    name: name.clone(),
                    link: conversion.product_link.clone().filter(|_| fields.link),
                    image: conversion.product_image.clone(),
                })
        })
        .flatten();
    let mut text = name.clone();
    if let Some(place) = &place {
        text.push_str(" from ");
        text.push_str(place);
    }
    match &product {
        Some(product) => {
            text.push_str(" just bought ");
            text.push_str(&product.name);
        }
        None => text.push_str(" just signed up"),
    }
    Notification {
        id: format!("cv_{}", conversion.id),
        kind: NotificationKind::Conversion,
        name,
        place,
        product,
        occurred_at: conversion.occurred_at,
        text,
    }
}

/// The notification an entry into `campaign_name` makes.
pub fn entry_notification(
    entry: &RecentEntry,
    campaign_name: &str,
    fields: ShownFields,
    anonymous: bool,
) -> Notification {
    let name = if fields.name && !anonymous {
        inbound::display_name(&entry.first_name, &entry.last_name)
    } else {
        inbound::display_name("", "")
    };
    Notification {
        id: format!("en_{}", entry.id),
        kind: NotificationKind::Entry,
        text: format!("{name} just entered {campaign_name}"),
        name,
        place: None,
        product: None,
        occurred_at: entry.created_at,
    }
}

/// Something that happened, as the server processes tell each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Happened {
    Conversion { id: i64 },
    Entry { id: i64 },
}

#[derive(Debug, Serialize, Deserialize)]
struct Told {
    /// The process that told, which needs no telling.
    from: String,
    /// A group of entries is told in one message (each message is a statement, a round trip).
    happened: Vec<Happened>,
}

/// Most happenings one message tells: a `NOTIFY` payload must stay under 8,000 bytes, and
/// each is at most about 40.
const TOLD_AT_ONCE: usize = 150;

/// The live feed. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Activity {
    inner: Arc<Feed>,
}

#[derive(Debug)]
struct Feed {
    store: Store,
    /// Open widgets' channels by campaign id.
    channels: Mutex<HashMap<i64, broadcast::Sender<Arc<Notification>>>>,
    /// This process, in what it tells the others.
    process: String,
    /// Told each time a widget connects.
    connected: Notify,
}

impl Activity {
    /// Starts the feed; on PostgreSQL, also the task that hears the other processes.
    pub async fn start(store: Store) -> Result<Self, StoreError> {
        let process = format!("{:016x}", rand::random::<u64>());
        let activity = Self {
            inner: Arc::new(Feed {
                store: store.clone(),
                channels: Mutex::default(),
                process,
                connected: Notify::new(),
            }),
        };
        if let Pool::Postgres(pool) = store.pool() {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            let heard = activity.clone();
            tokio::spawn(async move {
                loop {
                    match listener.recv().await {
                        Ok(notification) => heard.heard(notification.payload()).await,
                        // The store is closing (shutdown): give the connection back.
                        Err(sqlx::Error::PoolClosed) => break,
                        Err(error) => {
                            // sqlx reconnects on the next recv; not in a tight loop while
                            // the database is away.
                            warn!(%error, "lost the activity feed from the other processes; reconnecting");
                            tokio::time::sleep(RECONNECT_BACKOFF).await;
                        }
                    }
                }
            });
        }
        Ok(activity)
    }

    /// A receiver of campaign `campaign_id`'s new notifications.
    pub fn subscribe(&self, campaign_id: i64) -> broadcast::Receiver<Arc<Notification>> {
        let receiver = self
            .channels()
            .entry(campaign_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe();
        self.inner.connected.notify_waiters();
        receiver
    }

    /// Waits until at least `n` widget connections are open (tests wait on it).
    pub async fn wait_for_connections(&self, n: usize) {
        loop {
            // Made before the count is read, so a connection in between still wakes it.
            let connected = self.inner.connected.notified();
            if self.connections() >= n {
                return;
            }
            connected.await;
        }
    }

    /// Open widget connections, over all campaigns.
    pub fn connections(&self) -> usize {
        self.channels()
            .values()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }

    /// Tells open widgets (here and in the other processes) about conversion `id`.
    pub async fn conversion_received(&self, id: i64) {
        self.publish(Happened::Conversion { id }).await;
        self.tell(&[Happened::Conversion { id }]).await;
    }

    /// Tells open widgets (here and in the other processes) about entries `ids`.
    pub async fn entries_made(&self, ids: &[i64]) {
        let happened: Vec<Happened> = ids.iter().map(|&id| Happened::Entry { id }).collect();
        for &happening in &happened {
            self.publish(happening).await;
        }
        for told in happened.chunks(TOLD_AT_ONCE) {
            self.tell(told).await;
        }
    }

    fn channels(&self) -> MutexGuard<'_, HashMap<i64, broadcast::Sender<Arc<Notification>>>> {
        // Every change is one call: a panic elsewhere leaves the map whole.
        self.inner
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The campaigns with open widgets, forgetting those that have none any more.
    fn watched(&self) -> Vec<(i64, broadcast::Sender<Arc<Notification>>)> {
        let mut channels = self.channels();
        channels.retain(|_, sender| sender.receiver_count() > 0);
        channels
            .iter()
            .map(|(id, sender)| (*id, sender.clone()))
            .collect()
    }

    async fn tell(&self, happened: &[Happened]) {
        let Pool::Postgres(pool) = self.inner.store.pool() else {
            return;
        };
        let told = Told {
            from: self.inner.process.clone(),
            happened: happened.to_vec(),
        };
        let payload = serde_json::to_string(&told).unwrap_or_default();
        if let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(payload)
            .execute(pool)
            .await
        {
            warn!(%error, "could not tell the other processes about new activity");
        }
    }

    async fn heard(&self, payload: &str) {
        match serde_json::from_str::<Told>(payload) {
            Ok(told) if told.from != self.inner.process => {
                for happening in told.happened {
                    self.publish(happening).await;
                }
            }
            Ok(_) => {}
            Err(error) => debug!(%error, payload, "ignored an activity message"),
        }
    }

    /// Builds and sends the notification to every campaign with open widgets that shows it.
    async fn publish(&self, happened: Happened) {
        let watched = self.watched();
        if watched.is_empty() {
            return;
        }
        if let Err(error) = self.publish_to(happened, watched).await {
            warn!(%error, ?happened, "could not publish activity");
        }
    }

    async fn publish_to(
        &self,
        happened: Happened,
        watched: Vec<(i64, broadcast::Sender<Arc<Notification>>)>,
    ) -> Result<(), StoreError> {
        let store = &self.inner.store;
        match happened {
            Happened::Entry { id } => {
                let Some(entry) = store.recent_entry(id).await? else {
                    return Ok(());
                };
                let Some((_, sender)) = watched.iter().find(|(id, _)| *id == entry.campaign_id)
                else {
                    return Ok(());
                };
                let Some(campaign) = store.campaign_by_id(entry.campaign_id).await? else {
                    return Ok(());
                };
                let settings = settings(&campaign);
                if settings.enabled && settings.show_entries {
                    let notification = entry_notification(
                        &entry,
                        &campaign.name,
                        settings.fields,
                        settings.exclude_contestants,
                    );
                    // Errs only when every widget has gone meanwhile.
                    let _ = sender.send(Arc::new(notification));
                }
            }
            Happened::Conversion { id } => {
                let Some(conversion) = store.conversion(id).await? else {
                    return Ok(());
                };
                let Some(stream) = store.stream_by_id(conversion.stream_id).await? else {
                    return Ok(());
                };
                for (campaign_id, sender) in watched {
                    let Some(campaign) = store.campaign_by_id(campaign_id).await? else {
                        continue;
                    };
                    if !shows_stream(&campaign, stream.workspace_id, &stream.campaign_keys) {
                        continue;
                    }
                    let settings = settings(&campaign);
                    if settings.exclude_contestants
                        && store.is_contestant(campaign.id, &conversion.email).await?
                    {
                        continue;
                    }
                    let _ = sender.send(Arc::new(conversion_notification(
                        &conversion,
                        settings.fields,
                    )));
                }
            }
        }
        Ok(())
    }
}

/// What a widget of `campaign` is shown when it connects at `now`: today's counts (UTC) and
/// the latest notifications (up to [`RECENT_NOTIFICATIONS`] of the last
/// [`RECENT_WINDOW_MS`]), oldest first.
pub async fn recent(
    store: &Store,
    campaign: &CampaignRecord,
    settings: &SocialProofSettings,
    now: i64,
) -> Result<(ActivitySummary, Vec<Notification>), StoreError> {
    let midnight = now - now.rem_euclid(24 * 3600 * 1000);
    let since = now - RECENT_WINDOW_MS;
    let mut summary = ActivitySummary {
        entries_today: store.entries_since(campaign.id, midnight).await?,
        conversions_today: 0,
    };
    let mut notifications = Vec::new();
    if settings.show_entries {
        for entry in store
            .recent_entries(campaign.id, since, RECENT_NOTIFICATIONS)
            .await?
        {
            notifications.push(entry_notification(
                &entry,
                &campaign.name,
                settings.fields,
                settings.exclude_contestants,
            ));
        }
    }
    if let Some(workspace_id) = campaign.workspace_id {
        for stream in store.workspace_streams(workspace_id).await? {
            if !stream.enabled || !shows_stream(campaign, workspace_id, &stream.campaign_keys) {
                continue;
            }
            summary.conversions_today +=
                store.stream_conversions_since(stream.id, midnight).await?;
            for conversion in store
                .stream_conversions(stream.id, None, RECENT_NOTIFICATIONS)
                .await?
            {
                if conversion.occurred_at < since
                    || (settings.exclude_contestants
                        && store.is_contestant(campaign.id, &conversion.email).await?)
                {
                    continue;
                }
                notifications.push(conversion_notification(&conversion, settings.fields));
            }
        }
    }
    notifications.sort_by_key(|notification| std::cmp::Reverse(notification.occurred_at));
    notifications.truncate(RECENT_NOTIFICATIONS as usize);
    notifications.reverse();
    Ok((summary, notifications))
}

/// Whether `campaign`'s widgets show conversions of a stream of workspace `workspace_id`
/// listing `campaign_keys` (none: every campaign of the workspace).
pub fn shows_stream(
    campaign: &CampaignRecord,
    workspace_id: i64,
    campaign_keys: &[String],
) -> bool {
    let settings = settings(campaign);
    settings.enabled
        && settings.show_conversions
        && campaign.workspace_id == Some(workspace_id)
        && (campaign_keys.is_empty()
            || campaign_keys.iter().any(|key| key == campaign.key.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_place(parts: [Option<&str>; 5], expected: Option<&str>) {
        let [city, state, state_code, country, country_code] = parts;
        assert_eq!(
            place(city, state, state_code, country, country_code).as_deref(),
            expected,
            "{parts:?}"
        );
    }

    #[test]
    fn places_read_as_people_write_them() {
        check_place(
            [
                Some("Miami"),
                Some("Florida"),
                Some("FL"),
                Some("United States"),
                Some("US"),
            ],
            Some("Miami, FL"),
        );
        check_place(
            [
                Some("Miami"),
                Some("Florida"),
                None,
                Some("United States"),
                Some("US"),
            ],
            Some("Miami, Florida"),
        );
        check_place(
            [
                Some("Bloggstown"),
                Some("Queensland"),
                None,
                Some("Australia"),
                Some("AU"),
            ],
            Some("Bloggstown, Australia"),
        );
        check_place(
            [
                None,
                Some("Queensland"),
                None,
                Some("Australia"),
                Some("AU"),
            ],
            Some("Queensland, Australia"),
        );
        check_place(
            [None, None, Some("TX"), Some("United States"), Some("US")],
            Some("TX"),
        );
        check_place(
            [None, None, None, Some("Australia"), None],
            Some("Australia"),
        );
        check_place([Some(" "), None, None, None, None], None);
        check_place([None, None, None, None, None], None);
    }

    fn conversion() -> ConversionRow {
        ConversionRow {
            id: 7,
            stream_id: 1,
            email: "joe@example.com".to_owned(),
            first_name: "Joe".to_owned(),
            last_name: "Bloggs".to_owned(),
            occurred_at: 1_528_611_279_398,
            ip: None,
            guid: None,
            city: Some("Miami".to_owned()),
            country: Some("United States".to_owned()),
            country_code: Some("US".to_owned()),
            state: Some("Florida".to_owned()),
            state_code: Some("FL".to_owned()),
            product_name: Some("Sneakers".to_owned()),
            product_link: Some("https://sneakers.com/sneakers".to_owned()),
            product_image: None,
            total: Some("55".to_owned()),
            currency: Some("USD".to_owned()),
            products: "[]".to_owned(),
            raw: "{}".to_owned(),
            received_at: 0,
        }
    }

    #[test]
    fn a_conversion_reads_as_the_seed_shows_it() {
        let shown = conversion_notification(&conversion(), ShownFields::default());
        assert_eq!(shown.text, "Joe B. from Miami, FL just bought Sneakers");
        assert_eq!(shown.id, "cv_7");
        assert_eq!(
            shown.product.and_then(|product| product.link).as_deref(),
            Some("https://sneakers.com/sneakers")
        );
        assert!(
            !serde_json::to_string(&shown.text)
                .unwrap_or_default()
                .contains('@')
        );
    }

    #[test]
    fn hidden_fields_stay_hidden() {
        let fields = ShownFields {
            name: false,
            location: false,
            product: true,
            link: false,
        };
        let shown = conversion_notification(&conversion(), fields);
        assert_eq!(shown.text, "Someone just bought Sneakers");
        assert_eq!(shown.place, None);
        assert_eq!(shown.product.and_then(|product| product.link), None);
        let mut without_product = conversion();
        without_product.product_name = None;
        let shown = conversion_notification(&without_product, ShownFields::default());
        assert_eq!(shown.text, "Joe B. from Miami, FL just signed up");
        let serialised = serde_json::to_string(&shown).unwrap_or_default();
        assert!(!serialised.contains("joe@example.com"), "{serialised}");
    }

    #[test]
    fn an_entry_reads_with_the_campaign_name() {
        let entry = RecentEntry {
            id: 3,
            campaign_id: 1,
            first_name: "Ann".to_owned(),
            last_name: "Lee".to_owned(),
            created_at: 5,
        };
        let shown = entry_notification(&entry, "Spring Giveaway", ShownFields::default(), false);
        assert_eq!(shown.text, "Ann L. just entered Spring Giveaway");
        let anonymous = entry_notification(&entry, "Spring Giveaway", ShownFields::default(), true);
        assert_eq!(anonymous.text, "Someone just entered Spring Giveaway");
    }
}
