//! Egress: with `HOOKLINE_WEBHOOK_PROXY` every webhook and test request goes through the
//! proxy, after Hookline has resolved the destination and applied the address rules (a
//! refused one never reaches the proxy); with `HOOKLINE_WEBHOOK_SOURCE_ADDRESS` connections
//! leave from that address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use protocol::ids::EndpointId;
use protocol::payload::EventType;
use serde_json::json;
use server::clock;
use server::delivery::Step;
use server::store::ManagedEndpoint;
use tests::TestProxy;

use crate::address::FakeLookup;
use crate::helpers::{PATIENCE, SECRET, TestApp, entry_body, spawn_app_with};

/// Posts `n` entries and sends every delivery due.
async fn post_and_send(app: &TestApp, n: usize) -> Vec<Step> {
    for index in 0..n {
        let (status, body) = app
            .post_entry(
                "demo",
                &entry_body(
                    &format!("egress-{index}"),
                    &format!("joe{index}@example.com"),
                ),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let now = clock::now_millis();
    let mut steps = Vec::new();
    loop {
        match app.worker.try_next(now).await.unwrap() {
            Step::Idle => return steps,
            step => steps.push(step),
        }
    }
}

#[tokio::test]
async fn every_webhook_goes_through_the_proxy_after_the_destination_is_checked() {
    let proxy = TestProxy::start().await;
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let table = HashMap::from([
        ("localhost".to_owned(), vec![loopback]),
        (
            "internal.example".to_owned(),
            vec![IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))],
        ),
    ]);
    let proxy_url = proxy.url();
    let app = spawn_app_with(|config| {
        config.egress.proxy = Some(proxy_url.parse().unwrap());
        config.host_lookup = Arc::new(FakeLookup(table));
    })
    .await;
    let key = app.setup().await;
    // A second endpoint by name (resolved by Hookline, then by the proxy), tested on save.
    let named = app.receiver.url().replace("127.0.0.1", "localhost");
    let (status, saved) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({"name": "By name", "events": ["entry.created"], "url": named})),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(saved["test"]["succeeded"], true, "{saved}");
    // A third whose name resolves where webhooks may not go (added behind the API's back,
    // which would refuse it).
    app.store
        .save_managed_endpoint(&ManagedEndpoint {
            managed_by: "internal",
            public_id: &EndpointId::from_suffix("internal"),
            url: "http://internal.example/hooks",
            secret: SECRET,
            events: &[EventType::EntryCreated],
            now: clock::now_millis(),
        })
        .await
        .unwrap();

    let steps = post_and_send(&app, 3).await;
    assert_eq!(
        steps
            .iter()
            .filter(|step| **step == Step::Delivered)
            .count(),
        6,
        "{steps:?}"
    );
    let received = app.receiver.wait_for(7, PATIENCE).await;
    let proxied = proxy.wait_for(7, PATIENCE).await;
    assert_eq!(
        proxied.len(),
        7,
        "the test request and six deliveries: {proxied:?}"
    );
    assert_eq!(received.len(), 7);
    let mut via_proxy: Vec<String> = proxied
        .iter()
        .map(|request| {
            format!(
                "{} {}",
                request.headers["webhook-id"].to_str().unwrap(),
                request.uri
            )
        })
        .collect();
    let mut at_receiver: Vec<String> = received
        .iter()
        .map(|request| {
            let host = request.header("host").unwrap();
            format!(
                "{} http://{host}{}",
                request.header("webhook-id").unwrap(),
                request.path
            )
        })
        .collect();
    via_proxy.sort();
    at_receiver.sort();
    assert_eq!(
        via_proxy, at_receiver,
        "the receiver got what the proxy carried"
    );
    assert_eq!(
        proxied
            .iter()
            .filter(|request| request.uri.starts_with("http://localhost:"))
            .count(),
        4
    );
    assert!(
        proxied
            .iter()
            .all(|request| !request.uri.contains("internal"))
    );

    // The refused destination was tried (three times, one per entry) and never sent.
    let refused: Vec<(Option<String>, String)> = server::with_pool!(app.store.pool(), pool => {
        sqlx::query_as(
            "SELECT a.error_kind, a.response_snippet FROM attempts a
             JOIN deliveries d ON d.id = a.delivery_id JOIN endpoints e ON e.id = d.endpoint_id
             WHERE e.managed_by = 'internal'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    assert_eq!(refused.len(), 3);
    for (kind, snippet) in refused {
        assert_eq!(kind.as_deref(), Some("blocked_address"), "{snippet}");
        assert!(
            snippet.contains("internal.example resolves to 10.1.2.3"),
            "{snippet}"
        );
    }
}

#[tokio::test]
async fn webhooks_leave_from_the_source_address_set() {
    let source: IpAddr = "127.0.0.2".parse().unwrap();
    let app = spawn_app_with(|config| config.egress.source_address = Some(source)).await;
    let steps = post_and_send(&app, 2).await;
    assert_eq!(steps, [Step::Delivered, Step::Delivered]);
    let received = app.receiver.requests();
    assert_eq!(received.len(), 2);
    for request in received {
        assert_eq!(request.peer.ip(), source);
    }
}

#[tokio::test]
async fn through_a_proxy_connections_to_it_leave_from_the_source_address() {
    let proxy = TestProxy::start().await;
    let source: IpAddr = "127.0.0.3".parse().unwrap();
    let proxy_url = proxy.url();
    let app = spawn_app_with(|config| {
        config.egress.proxy = Some(proxy_url.parse().unwrap());
        config.egress.source_address = Some(source);
    })
    .await;
    assert_eq!(post_and_send(&app, 1).await, [Step::Delivered]);
    let proxied = proxy.requests();
    assert_eq!(proxied.len(), 1);
    assert_eq!(proxied[0].peer.ip(), source);
    assert_eq!(proxied[0].uri, app.receiver.url());
}
