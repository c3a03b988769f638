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

#[tokio::test]
async fn a_campaign_shows_its_schedule_reward_capture_and_method_settings_but_no_secret() {
    use protocol::campaign::{CampaignType, EntryMethodType};
    use protocol::ids::CampaignKey;
    use server::store::{NewCampaign, NewEntryMethod};

    let app = spawn_app().await;
    let mut campaign = NewCampaign::new(
        CampaignKey::parse("spring").unwrap(),
        "Spring",
        CampaignType::Reward,
    );
    campaign.starts_at = Some(1_790_000_000_000);
    campaign.ends_at = Some(1_800_000_000_000);
    campaign.image_url = "https://cdn.example/spring.jpg".to_owned();
    campaign.settings = json!({"reward": {"type": "Download", "title": "The guide",
        "download_url": "https://files.example/secret-guide.pdf",
        "unlock": {"rule": "actions", "count": 2}}});
    let mut code = NewEntryMethod::new(EntryMethodType::SecretCode, "Secret");
    code.config = json!({"code": "Beans42", "hint": "On the bag"});
    let mut daily = NewEntryMethod::new(EntryMethodType::VisitUrl, "Visit daily");
    daily.daily = true;
    daily.config = json!({"url": "https://shop.example"});
    campaign.entry_methods = vec![code, daily];
    app.store
        .insert_campaign(&campaign, 0)
        .await
        .unwrap()
        .unwrap();
    let (status, public) = app.get_json("/api/v1/public/campaigns/spring").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            &public["starts_at"],
            &public["ends_at"],
            &public["image_url"]
        ),
        (
            &json!(1_790_000_000_000_i64),
            &json!(1_800_000_000_000_i64),
            &json!("https://cdn.example/spring.jpg")
        )
    );
    assert_eq!(
        public["reward"],
        json!({"type": "Download", "title": "The guide", "description": "",
               "unlock": {"rule": "actions", "count": 2}})
    );
    assert_eq!(
        public["entry_methods"][0]["secret_code"],
        json!({"hint": "On the bag"})
    );
    assert_eq!(public["entry_methods"][1]["daily"], true);
    assert_eq!(
        public["entry_methods"][1]["visit_url"],
        json!({"url": "https://shop.example"})
    );
    let text = public.to_string();
    assert!(
        !text.contains("Beans42") && !text.contains("secret-guide"),
        "no secret code or download link: {text}"
    );

    let mut capture = NewCampaign::new(
        CampaignKey::parse("news").unwrap(),
        "News",
        CampaignType::Capture,
    );
    capture.settings = json!({"capture": {"display": "bar", "button_text": "Join"}});
    capture.entry_methods = vec![NewEntryMethod::new(EntryMethodType::EmailSubscribe, "Join")];
    app.store
        .insert_campaign(&capture, 0)
        .await
        .unwrap()
        .unwrap();
    let (_, public) = app.get_json("/api/v1/public/campaigns/news").await;
    assert_eq!(
        public["capture"],
        json!({"display": "bar", "delay_seconds": 0, "button_text": "Join", "success_text": ""})
    );
}
