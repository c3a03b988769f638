//! What the server keeps across restarts.

use protocol::payload::EventType;
use server::config::WebhookSetting;
use server::store::EndpointRecord;
use server::{Application, Config};

async fn endpoints(app: &Application) -> Vec<(String, EndpointRecord)> {
    let mut found = Vec::new();
    for managed_by in ["settings", "demo"] {
        if let Some(endpoint) = app.store().managed_endpoint(managed_by).await.unwrap() {
            found.push((managed_by.to_owned(), endpoint));
        }
    }
    found
}

#[tokio::test]
async fn secrets_survive_restarts_and_urls_follow_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.path().join("hookline.db").display()),
        demo: true,
        webhook: Some(WebhookSetting {
            url: "http://127.0.0.1:9/hooks".to_owned(),
            secret: None,
            events: vec![EventType::EntryCreated],
        }),
        deliver_in_background: false,
        ..Config::default()
    };
    let first = Application::build(config.clone()).await.unwrap();
    let before = endpoints(&first).await;
    let second = Application::build(config.clone()).await.unwrap();
    let after = endpoints(&second).await;
    assert_ne!(first.port(), second.port());
    assert_eq!(before.len(), 2);
    for ((managed_by, old), (_, new)) in before.iter().zip(&after) {
        assert_eq!(old.public_id, new.public_id, "{managed_by}");
        assert_eq!(
            old.secret, new.secret,
            "{managed_by}: a generated secret is kept"
        );
        assert!(new.secret.starts_with("whsec_"), "{managed_by}");
        assert!(new.enabled, "{managed_by}");
    }
    assert_eq!(
        after[1].1.url,
        format!("{}/demo/receiver", second.base_url())
    );

    let third = Application::build(Config {
        demo: false,
        webhook: None,
        ..config
    })
    .await
    .unwrap();
    assert!(
        endpoints(&third)
            .await
            .iter()
            .all(|(_, endpoint)| !endpoint.enabled),
        "removed settings disable their endpoints"
    );
    let campaigns: i64 = server::with_pool!(third.store().pool(), pool => sqlx::query_scalar("SELECT COUNT(*) FROM campaigns")
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(campaigns, 1, "the demo campaign is seeded once");
}
