//! `GET /api/v1/public/campaigns/{key}`, CORS and `/healthz`.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_demo_campaign_is_served_to_any_origin() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/public/campaigns/demo"))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // A campaign that lists no origins takes entries from any page: its origin is echoed.
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("origin")
    );
    assert!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let now = server::clock::now_millis();
    let mut campaign: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let issued_at = campaign
        .as_object_mut()
        .unwrap()
        .remove("issued_at")
        .unwrap();
    let issued_at = issued_at.as_i64().unwrap();
    assert!(
        (now - 60_000..=now + 60_000).contains(&issued_at),
        "issued_at is the server's clock in unix ms: {issued_at}"
    );
    assert_eq!(
        campaign,
        json!({
            "key": "demo",
            "name": "Hookline Demo Giveaway",
            "type": "Competition",
            "status": "running",
            "description": "Enter your email for a chance to win a year of coffee.",
            "consent_text": "I agree to receive emails from the Hookline Demo and accept the terms.",
            "entry_methods": [
                {"id": 1, "type": "email_subscribe", "action": "Subscribe to our newsletter", "worth": 1, "mandatory": true}
            ],
            // The demo page shows social proof.
            "social_proof": {"position": "bottom_left", "interval_seconds": 8, "max_per_visit": 5, "display_seconds": 6}
        })
    );
    let _typed: protocol::campaign::PublicCampaign = serde_json::from_value(campaign).unwrap();
}

#[tokio::test]
async fn an_unknown_campaign_is_404() {
    let app = spawn_app().await;
    for key in ["nope", "bad%20key"] {
        let (status, body) = app
            .get_json(&format!("/api/v1/public/campaigns/{key}"))
            .await;
        assert_eq!(status, 404, "{key}");
        assert_eq!(body["code"], "campaign_not_found", "{key}");
    }
}

#[tokio::test]
async fn preflight_requests_are_answered() {
    let app = spawn_app().await;
    let response = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/api/v1/public/campaigns/demo/entries"),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let methods = response.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");
}

#[tokio::test]
async fn healthz_says_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}
