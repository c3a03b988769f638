//! Rate limits on the public entry route (429 with `Retry-After`, nothing stored) and the
//! client address behind trusted proxies.

use std::num::NonZeroU32;
use std::time::Duration;

use serde_json::Value;
use server::address::AllowList;
use server::limits::{Rate, RateLimitSettings};

use crate::helpers::{TestApp, entry_body, spawn_app_with};

fn per_hour(count: u32) -> Option<Rate> {
    Some(Rate {
        count: NonZeroU32::new(count).unwrap(),
        period: Duration::from_secs(3600),
    })
}

async fn app_with(limits: RateLimitSettings, trusted: &str) -> TestApp {
    let trusted = AllowList::parse(trusted).unwrap();
    spawn_app_with(move |config| {
        config.rate_limits = limits;
        config.trusted_proxies = trusted;
    })
    .await
}

/// Posts an entry as the widget does, optionally through a proxy that saw `forwarded_for`;
/// the status, the body and `Retry-After`.
async fn post(
    app: &TestApp,
    key: &str,
    email: &str,
    forwarded_for: Option<&str>,
) -> (u16, Value, Option<u64>) {
    let mut request = app
        .client
        .post(app.url("/api/v1/public/campaigns/demo/entries"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(entry_body(key, email).to_string());
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    (status, body, retry_after)
}

#[tokio::test]
async fn too_many_entries_from_one_address_get_429_and_store_nothing() {
    let app = app_with(
        RateLimitSettings {
            per_ip: per_hour(3),
            per_campaign: None,
            per_email: None,
        },
        "",
    )
    .await;
    for n in 0..3 {
        let (status, body, _) =
            post(&app, &format!("k{n}"), &format!("p{n}@example.com"), None).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body, retry_after) = post(&app, "k3", "p3@example.com", None).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("from this address"),
        "{body}"
    );
    let retry_after = retry_after.expect("a Retry-After header");
    assert!((1..=1200).contains(&retry_after), "{retry_after}");
    assert_eq!(app.counts().await.entries, 3);
    // Forwarded addresses mean nothing from a peer that is not a trusted proxy.
    let (status, _, _) = post(&app, "k4", "p4@example.com", Some("198.51.100.1")).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn one_email_and_one_campaign_have_their_own_limits() {
    let app = app_with(
        RateLimitSettings {
            per_ip: None,
            per_campaign: per_hour(4),
            per_email: per_hour(2),
        },
        "",
    )
    .await;
    assert_eq!(post(&app, "a1", "ann@example.com", None).await.0, 201);
    // Refused (the demo's one method is done once), but counted: limits count attempts.
    assert_eq!(post(&app, "a2", "ann@example.com", None).await.0, 409);
    let (status, body, _) = post(&app, "a3", "ANN@example.com", None).await;
    assert_eq!(status, 429);
    assert!(
        body["detail"].as_str().unwrap().contains("with this email"),
        "{body}"
    );
    assert_eq!(post(&app, "b1", "bob@example.com", None).await.0, 201);
    assert_eq!(post(&app, "c1", "cat@example.com", None).await.0, 201);
    let (status, body, _) = post(&app, "d1", "dan@example.com", None).await;
    assert_eq!(status, 429);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("into this campaign"),
        "{body}"
    );
    // A retry of an accepted entry is its answer again, not a new entry: never limited.
    let (status, _, _) = post(&app, "a1", "ann@example.com", None).await;
    assert_eq!(status, 200);
    assert_eq!(app.counts().await.entries, 3);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let app = app_with(
        RateLimitSettings {
            per_ip: per_hour(1),
            per_campaign: None,
            per_email: None,
        },
        "127.0.0.0/8",
    )
    .await;
    let (status, _, _) = post(&app, "k1", "a@example.com", Some("198.51.100.1")).await;
    assert_eq!(status, 201);
    let (status, _, _) = post(&app, "k2", "b@example.com", Some("6.6.6.6, 198.51.100.2")).await;
    assert_eq!(status, 201, "another client address");
    let (status, _, _) = post(&app, "k3", "c@example.com", Some("198.51.100.1")).await;
    assert_eq!(status, 429, "the first client again");
    let ips: Vec<Option<String>> = server::with_pool!(app.store.pool(), pool => {
        sqlx::query_scalar("SELECT client_ip FROM entries ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert_eq!(
        ips,
        [
            Some("198.51.100.1".to_owned()),
            Some("198.51.100.2".to_owned())
        ]
    );
}
