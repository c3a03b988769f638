//! The entry rules through the HTTP API: mandatory methods first, once or daily, each
//! method's value, the contestant's session token and status, referral links and credits,
//! and Reward campaigns' rewards (a coupon handed out once, even to contestants unlocking at
//! the same moment; a download link), with the webhooks they send.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use protocol::campaign::{CampaignType, EntryMethodType};
use protocol::entry::{ContestantStatus, EntryAnswer, UnlockedReward};
use protocol::ids::CampaignKey;
use protocol::payload::EventType;
use serde_json::{Value, json};
use server::address::AllowList;
use server::clock;
use server::store::{NewCampaign, NewEntryMethod};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const DAY_MS: i64 = 86_400_000;

/// A method of type `kind`, worth `worth`, with `config`.
fn method(kind: EntryMethodType, action: &str, worth: u32, config: Value) -> NewEntryMethod {
    let mut method = NewEntryMethod::new(kind, action);
    method.worth = worth;
    method.config = config;
    method
}

fn mandatory(mut method: NewEntryMethod) -> NewEntryMethod {
    method.mandatory = true;
    method
}

fn daily(mut method: NewEntryMethod) -> NewEntryMethod {
    method.daily = true;
    method
}

/// Creates a running campaign `key` with these methods and settings (no consent asked);
/// returns its methods' ids in order.
async fn add_campaign(
    app: &TestApp,
    key: &str,
    campaign_type: CampaignType,
    settings: Value,
    methods: Vec<NewEntryMethod>,
) -> Vec<i64> {
    let mut campaign = NewCampaign::new(CampaignKey::parse(key).unwrap(), key, campaign_type);
    campaign.settings = settings;
    campaign.entry_methods = methods;
    let created = app
        .store
        .insert_campaign(&campaign, clock::now_millis())
        .await
        .unwrap()
        .unwrap();
    created
        .entry_methods
        .iter()
        .map(|method| method.id.0)
        .collect()
}

/// An entry post of method `method_id` by `email`, with a form shown long enough ago.
fn post(idempotency_key: &str, method_id: i64, email: &str) -> Value {
    json!({
        "idempotency_key": idempotency_key,
        "entry_method_id": method_id,
        "email": email,
        "name": "Joe Bloggs",
        "landing_url": "https://shop.example/giveaway",
        "form_issued_at": clock::now_millis() - 30_000,
    })
}

fn with(mut body: Value, key: &str, value: impl Into<Value>) -> Value {
    body[key] = value.into();
    body
}

/// Posts and expects 201; the answer.
async fn enter(app: &TestApp, campaign: &str, body: &Value) -> EntryAnswer {
    let (status, answer) = app.post_entry(campaign, body).await;
    assert_eq!(status, 201, "{answer}");
    serde_json::from_value(answer).unwrap()
}

/// Posts, expects a refusal with `status` and `code`, and returns its `field`.
async fn refused(
    app: &TestApp,
    campaign: &str,
    body: &Value,
    status: u16,
    code: &str,
) -> Option<String> {
    let entries = app.counts().await.entries;
    let (got, error) = app.post_entry(campaign, body).await;
    assert_eq!(
        (got, error["code"].as_str()),
        (status, Some(code)),
        "{error}"
    );
    assert!(!error["detail"].as_str().unwrap().is_empty());
    assert_eq!(app.counts().await.entries, entries, "nothing is stored");
    error["field"].as_str().map(str::to_owned)
}

async fn status(app: &TestApp, campaign: &str, token: &str) -> (u16, Value) {
    app.get_json(&format!(
        "/api/v1/public/campaigns/{campaign}/contestant?token={token}"
    ))
    .await
}

fn token(answer: &EntryAnswer) -> String {
    answer
        .session
        .contestant_token
        .as_ref()
        .unwrap()
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn mandatory_methods_come_first_and_each_is_done_once_or_once_a_day() {
    let app = spawn_app().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "rules",
        CampaignType::Competition,
        json!({}),
        vec![
            mandatory(method(EmailSubscribe, "Subscribe", 1, json!({}))),
            method(
                VisitUrl,
                "Visit",
                2,
                json!({"url": "https://shop.example/new"}),
            ),
            daily(method(VisitUrl, "Visit daily", 1, json!({}))),
            method(Referral, "Refer a friend", 3, json!({})),
        ],
    )
    .await;
    let (subscribe, visit, every_day, referral) = (ids[0], ids[1], ids[2], ids[3]);
    let field = refused(
        &app,
        "rules",
        &post("k1", visit, "joe@example.com"),
        409,
        "mandatory_first",
    )
    .await;
    assert_eq!(field.as_deref(), Some("entry_method_id"));
    let field = refused(
        &app,
        "rules",
        &post("k1", referral, "joe@example.com"),
        422,
        "not_postable",
    )
    .await;
    assert_eq!(field.as_deref(), Some("entry_method_id"));

    let first = enter(&app, "rules", &post("k1", subscribe, "joe@example.com")).await;
    assert_eq!(first.session.completed.len(), 1);
    refused(
        &app,
        "rules",
        &post("k2", subscribe, "joe@example.com"),
        409,
        "already_entered",
    )
    .await;
    let visited = enter(&app, "rules", &post("k3", visit, "joe@example.com")).await;
    assert_eq!(
        (
            visited.response.actions_completed,
            visited.response.total_entries
        ),
        (2, 3)
    );
    refused(
        &app,
        "rules",
        &post("k4", visit, "joe@EXAMPLE.com"),
        409,
        "already_entered",
    )
    .await;

    let today = enter(&app, "rules", &post("k5", every_day, "joe@example.com")).await;
    let done = |answer: &EntryAnswer, id: i64| {
        answer
            .session
            .completed
            .iter()
            .find(|done| done.entry_method_id.0 == id)
            .map(|done| done.times)
    };
    assert_eq!(done(&today, every_day), Some(1));
    refused(
        &app,
        "rules",
        &post("k6", every_day, "joe@example.com"),
        409,
        "already_entered",
    )
    .await;
    // A day later (the entries moved back a day): once more, and counted as a second day.
    app.execute("UPDATE entries SET created_at = created_at - 86400000")
        .await;
    let tomorrow = enter(&app, "rules", &post("k6", every_day, "joe@example.com")).await;
    assert_eq!(done(&tomorrow, every_day), Some(2));
    assert_eq!(done(&tomorrow, subscribe), Some(1));
    let latest = tomorrow
        .session
        .completed
        .iter()
        .find(|done| done.entry_method_id.0 == every_day)
        .unwrap()
        .last_completed_at;
    assert!((clock::now_millis() - latest).abs() < DAY_MS / 2);
    refused(
        &app,
        "rules",
        &post("k7", visit, "joe@example.com"),
        409,
        "already_entered",
    )
    .await;

    // A refused retry of a stored entry is its first answer again.
    let (status, replayed) = app
        .post_entry("rules", &post("k3", visit, "joe@example.com"))
        .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["entry"]["id"], visited.response.entry.id.0);
    assert_eq!(replayed["total_entries"], 3, "the totals of then");
}

#[tokio::test]
async fn entries_outside_the_schedule_are_refused() {
    let app = spawn_app().await;
    let key = CampaignKey::parse("later").unwrap();
    let mut campaign = NewCampaign::new(key, "Later", CampaignType::Competition);
    campaign.starts_at = Some(clock::now_millis() + DAY_MS);
    campaign.entry_methods = vec![NewEntryMethod::new(
        EntryMethodType::EmailSubscribe,
        "Subscribe",
    )];
    let created = app
        .store
        .insert_campaign(&campaign, 0)
        .await
        .unwrap()
        .unwrap();
    let id = created.entry_methods[0].id.0;
    refused(
        &app,
        "later",
        &post("k1", id, "joe@example.com"),
        409,
        "campaign_not_running",
    )
    .await;
}

#[tokio::test]
async fn each_method_checks_its_value_and_fills_the_webhook() {
    let app = spawn_app().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "values",
        CampaignType::Competition,
        json!({}),
        vec![
            method(EmailSubscribe, "Subscribe", 1, json!({})),
            method(
                CustomQuestion,
                "Coffee?",
                1,
                json!({"question": "How do you take your coffee?", "kind": "choice",
                       "choices": ["Black", "With milk"], "required": true}),
            ),
            method(
                CustomQuestion,
                "Terms",
                1,
                json!({"question": "I accept the terms", "kind": "checkbox", "required": true}),
            ),
            method(
                SecretCode,
                "Secret",
                5,
                json!({"code": "Beans42", "hint": "On the bag"}),
            ),
            method(Upload, "Photo", 2, json!({"accept": "image_url"})),
            method(Upload, "File", 2, json!({"accept": "file"})),
            method(
                SocialFollow,
                "Follow",
                1,
                json!({"provider": "instagram", "profile_url": "https://instagram.com/hookline",
                       "handle": "hookline"}),
            ),
            method(
                VisitUrl,
                "Visit",
                1,
                json!({"url": "https://shop.example/new"}),
            ),
        ],
    )
    .await;
    let email = "joe@example.com";
    enter(&app, "values", &post("k0", ids[0], email)).await;

    let question = post("k1", ids[1], email);
    let field = refused(
        &app,
        "values",
        &with(question.clone(), "value", ""),
        422,
        "answer_required",
    )
    .await;
    assert_eq!(field.as_deref(), Some("value"));
    refused(
        &app,
        "values",
        &with(question.clone(), "value", "Tea"),
        422,
        "invalid_choice",
    )
    .await;
    enter(&app, "values", &with(question, "value", "With milk")).await;
    refused(
        &app,
        "values",
        &with(post("k2", ids[2], email), "value", "false"),
        422,
        "answer_required",
    )
    .await;
    enter(
        &app,
        "values",
        &with(post("k2", ids[2], email), "value", "true"),
    )
    .await;

    refused(
        &app,
        "values",
        &with(post("k3", ids[3], email), "value", "beans"),
        422,
        "wrong_secret_code",
    )
    .await;
    enter(
        &app,
        "values",
        &with(post("k3", ids[3], email), "value", " BEANS42 "),
    )
    .await;

    refused(
        &app,
        "values",
        &with(post("k4", ids[4], email), "value", "javascript:alert(1)"),
        422,
        "invalid_upload",
    )
    .await;
    enter(
        &app,
        "values",
        &with(
            post("k4", ids[4], email),
            "value",
            "https://cdn.example/cup.jpg",
        ),
    )
    .await;

    // A file: uploaded first, then cited; another campaign's upload is refused.
    let (status, upload) = upload_png(&app, "values").await;
    assert_eq!(status, 201, "{upload}");
    let (_, demo_upload) = upload_png(&app, "demo").await;
    refused(
        &app,
        "values",
        &with(
            post("k5", ids[5], email),
            "upload_id",
            demo_upload["upload_id"].clone(),
        ),
        422,
        "invalid_upload",
    )
    .await;
    refused(
        &app,
        "values",
        &with(post("k5", ids[5], email), "upload_id", "upl_nothing"),
        422,
        "invalid_upload",
    )
    .await;
    enter(
        &app,
        "values",
        &with(
            post("k5", ids[5], email),
            "upload_id",
            upload["upload_id"].clone(),
        ),
    )
    .await;
    // An upload cited by another kind of method is no upload of it.
    enter(
        &app,
        "values",
        &with(
            post("k6", ids[6], email),
            "upload_id",
            upload["upload_id"].clone(),
        ),
    )
    .await;
    enter(
        &app,
        "values",
        &with(
            post("k7", ids[7], email),
            "value",
            "https://elsewhere.example",
        ),
    )
    .await;

    assert_eq!(
        app.drain(clock::now_millis()).await.len(),
        9,
        "eight deliveries"
    );
    let bodies: Vec<Value> = app
        .receiver
        .requests()
        .iter()
        .map(|request| request.json())
        .collect();
    let by_type = |kind: &str, n: usize| {
        bodies
            .iter()
            .filter(|body| body["entry"]["type"] == kind)
            .nth(n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_type("email_subscribe", 0)["entry"]["value"], email);
    let coffee = by_type("custom_question", 0);
    assert_eq!(coffee["entry"]["value"], "With milk");
    assert_eq!(
        coffee["user"]["details"]["How do you take your coffee?"],
        "With milk"
    );
    let terms = by_type("custom_question", 1);
    assert_eq!(terms["user"]["details"]["I accept the terms"], "true");
    assert_eq!(
        terms["user"]["details"]["How do you take your coffee?"], "With milk",
        "earlier answers stay"
    );
    assert_eq!(
        by_type("secret_code", 0)["entry"]["value"],
        "Beans42",
        "the campaign's code, as written"
    );
    let photo = by_type("upload", 0);
    assert_eq!(photo["entry"]["value"], "https://cdn.example/cup.jpg");
    assert_eq!(
        photo["entry"]["upload"]["original_url"],
        "https://cdn.example/cup.jpg"
    );
    let file = by_type("upload", 1);
    assert_eq!(file["entry"]["upload"]["original_url"], upload["url"]);
    assert_eq!(file["entry"]["upload"]["content_type"], "image/png");
    assert_eq!(file["entry"]["value"], upload["url"]);
    let follow = by_type("social_follow", 0);
    assert_eq!(
        follow["social_links"],
        json!([{"provider": "instagram", "uid": "", "reference": "hookline"}])
    );
    assert_eq!(follow["entry"]["value"], "https://instagram.com/hookline");
    assert!(follow["entry"]["upload"].is_null());
    assert_eq!(
        by_type("visit_url", 0)["entry"]["value"],
        "https://shop.example/new",
        "the campaign's URL, not what was posted"
    );
    let _typed: protocol::payload::EntryPayload = serde_json::from_value(file).unwrap();
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn upload_png(app: &TestApp, campaign: &str) -> (u16, Value) {
    let boundary = "rulestestboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cup.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(PNG);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(app.url(&format!("/api/v1/public/campaigns/{campaign}/uploads")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn the_session_token_is_minted_once_stored_hashed_and_reads_the_status() {
    let app = spawn_app().await;
    let first = enter(
        &app,
        "demo",
        &with(
            crate::helpers::entry_body("k1", "joe@example.com"),
            "contestant_token",
            "ctk_madeup",
        ),
    )
    .await;
    let token = token(&first);
    assert!(
        token.starts_with("ctk_") && token.len() >= 4 + 22,
        "{token}"
    );
    assert_ne!(token, "ctk_madeup", "a post's token is only a hint");
    let stored: String = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar(
        "SELECT token_hash FROM contestants",
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(&token[4..]), "only the hash is stored");
    let code = first.session.referral_code.clone().unwrap();
    assert!((6..=10).contains(&code.as_str().len()));
    assert_eq!(
        first.session.referral_url,
        app.url(&format!("/c/demo?hl_ref={code}"))
    );

    let (got, body) = status(&app, "demo", &token).await;
    assert_eq!(got, 200, "{body}");
    let read: ContestantStatus = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(read.user.email, "joe@example.com");
    assert_eq!(read.user.name, "Joe Bloggs");
    assert_eq!((read.actions_completed, read.total_entries), (1, 1));
    assert_eq!(read.session.contestant_token.unwrap().as_str(), token);
    assert_eq!(read.session.referral_code, Some(code));
    assert_eq!(read.session.completed.len(), 1);
    assert_eq!(read.reward, None);

    for (campaign, asked, code) in [
        ("demo", "ctk_unknown", "contestant_not_found"),
        ("demo", "not-a-token", "contestant_not_found"),
        ("nope", token.as_str(), "campaign_not_found"),
    ] {
        let (got, body) = status(&app, campaign, asked).await;
        assert_eq!((got, body["code"].as_str()), (404, Some(code)), "{asked}");
    }
    let (got, _) = app
        .get_json("/api/v1/public/campaigns/demo/contestant")
        .await;
    assert_eq!(got, 404);
    // Another campaign's contestant is not found through this one.
    add_campaign(
        &app,
        "other",
        CampaignType::Competition,
        json!({}),
        vec![NewEntryMethod::new(
            EntryMethodType::EmailSubscribe,
            "Subscribe",
        )],
    )
    .await;
    let (got, body) = status(&app, "other", &token).await;
    assert_eq!(
        (got, body["code"].as_str()),
        (404, Some("contestant_not_found"))
    );
}

#[tokio::test]
async fn a_later_entry_keeps_the_token_it_carries_or_replaces_a_lost_one() {
    let app = spawn_app().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "tok",
        CampaignType::Competition,
        json!({}),
        vec![
            method(EmailSubscribe, "Subscribe", 1, json!({})),
            method(VisitUrl, "Visit", 1, json!({})),
            method(VisitUrl, "Visit again", 1, json!({})),
        ],
    )
    .await;
    let first = enter(&app, "tok", &post("k1", ids[0], "joe@example.com")).await;
    let kept = token(&first);
    let second = enter(
        &app,
        "tok",
        &with(
            post("k2", ids[1], "joe@example.com"),
            "contestant_token",
            kept.as_str(),
        ),
    )
    .await;
    assert_eq!(token(&second), kept, "the post's valid token is kept");

    // Another browser (no token): it gets a new one, and the old one stops working.
    let third = enter(&app, "tok", &post("k3", ids[2], "joe@example.com")).await;
    let new = token(&third);
    assert_ne!(new, kept);
    assert_eq!(status(&app, "tok", &kept).await.0, 404);
    assert_eq!(status(&app, "tok", &new).await.0, 200);

    // A replay whose post carries the current token answers it; one without, a new one.
    let (got, replayed) = app
        .post_entry(
            "tok",
            &with(
                post("k3", ids[2], "joe@example.com"),
                "contestant_token",
                new.as_str(),
            ),
        )
        .await;
    assert_eq!(got, 200);
    assert_eq!(replayed["contestant_token"], new.as_str());
    let first_again = post("k1", ids[0], "joe@example.com");
    let (got, replayed) = app.post_entry("tok", &first_again).await;
    assert_eq!(got, 200);
    let replayed: EntryAnswer = serde_json::from_value(replayed).unwrap();
    assert_eq!(
        replayed.response, first.response,
        "the first answer's entry and totals"
    );
    assert_eq!(
        replayed.session.completed.len(),
        3,
        "with what they have done by now"
    );
    let latest = token(&replayed);
    assert_eq!(status(&app, "tok", &latest).await.0, 200);
    assert_eq!(status(&app, "tok", &new).await.0, 404);
}

/// An app whose endpoint takes `entry.created` and `reward.unlocked`, and which believes
/// `X-Forwarded-For` from loopback (so tests can enter from different addresses).
async fn spawn_app_with_rewards() -> TestApp {
    spawn_app_with(|config| {
        config.webhook.as_mut().unwrap().events =
            vec![EventType::EntryCreated, EventType::RewardUnlocked];
        config.trusted_proxies = AllowList::parse("127.0.0.0/8").unwrap();
    })
    .await
}

/// Posts from the client address `ip`, behind the (trusted) loopback proxy.
async fn enter_from(app: &TestApp, campaign: &str, body: &Value, ip: &str) -> EntryAnswer {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/public/campaigns/{campaign}/entries")))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("x-forwarded-for", ip)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

/// `(email, method type, value, verdict, reasons)` of every entry, oldest first.
async fn entries(app: &TestApp) -> Vec<(String, String, String, String, String)> {
    server::with_pool!(app.store.pool(), pool => sqlx::query_as(
        "SELECT c.email, m.method_type, e.entry_value, e.verdict, e.fraud_reasons
         FROM entries e JOIN contestants c ON c.id = e.contestant_id
         JOIN entry_methods m ON m.id = e.entry_method_id ORDER BY e.id",
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

#[tokio::test]
async fn a_friend_who_enters_through_a_share_link_credits_the_referrer_once() {
    let app = spawn_app_with_rewards().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "refer",
        CampaignType::Competition,
        json!({}),
        vec![
            method(EmailSubscribe, "Subscribe", 1, json!({})),
            method(Referral, "Refer a friend", 3, json!({})),
            method(VisitUrl, "Visit", 1, json!({})),
        ],
    )
    .await;
    let ann = enter_from(
        &app,
        "refer",
        &post("a1", ids[0], "ann@example.com"),
        "198.51.100.1",
    )
    .await;
    let code = ann.session.referral_code.clone().unwrap();
    assert!(
        ann.session
            .referral_url
            .ends_with(&format!("/c/refer?hl_ref={code}"))
    );

    // Ann using her own link: she is not new, nothing is credited.
    let own = enter_from(
        &app,
        "refer",
        &with(
            post("a2", ids[2], "ann@example.com"),
            "referrer_code",
            code.as_str(),
        ),
        "198.51.100.1",
    )
    .await;
    assert_eq!((own.session.referrals, own.response.total_entries), (0, 2));
    // Her friend Bob is new.
    let bob_post = with(
        post("b1", ids[0], "bob@example.com"),
        "referrer_code",
        code.as_str(),
    );
    let bob = enter_from(&app, "refer", &bob_post, "203.0.113.9").await;
    assert_eq!(bob.session.referrals, 0);
    // Ann's latest token is her second answer's (that post carried none).
    let ann_token = token(&own);
    assert_ne!(ann_token, token(&ann));
    let (_, read) = status(&app, "refer", &ann_token).await;
    assert_eq!(read["referrals"], 1, "{read}");
    assert_eq!(read["total_entries"], 2 + 3, "the referral method's worth");
    assert_eq!(read["actions_completed"], 3);
    let credited = read["completed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|done| done["entry_method_id"] == ids[1])
        .unwrap()
        .clone();
    assert_eq!(credited["times"], 1);

    // Bob's later entries, or a retry with the code, credit nothing more.
    let (got, _) = app.post_entry("refer", &bob_post).await;
    assert_eq!(got, 200, "a replay");
    let (_, read) = status(&app, "refer", &ann_token).await;
    assert_eq!(read["referrals"], 1);

    let stored = entries(&app).await;
    let credit = stored
        .iter()
        .find(|(_, kind, ..)| kind == "referral")
        .unwrap();
    assert_eq!(
        (credit.0.as_str(), credit.2.as_str(), credit.3.as_str()),
        ("ann@example.com", "bob@example.com", "accepted")
    );

    // Webhooks: Ann's two entries, Bob's entry and Ann's credit.
    app.drain(clock::now_millis()).await;
    let requests = app.receiver.requests();
    let credit = requests
        .iter()
        .map(|request| request.json())
        .find(|body| body["entry"]["type"] == "referral")
        .expect("entry.created for the referrer");
    assert_eq!(credit["user"]["email"], "ann@example.com");
    assert_eq!(credit["entry"]["worth"], 3);
    assert_eq!(credit["user"]["actions_completed"], 3);
    assert_eq!(requests.len(), 4);
}

#[tokio::test]
async fn a_referral_from_the_referrers_own_address_is_flagged_as_a_loop() {
    let app = spawn_app_with_rewards().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "loop",
        CampaignType::Competition,
        json!({}),
        vec![
            method(EmailSubscribe, "Subscribe", 1, json!({})),
            method(Referral, "Refer a friend", 3, json!({})),
        ],
    )
    .await;
    let ann = enter_from(
        &app,
        "loop",
        &post("a1", ids[0], "ann@example.com"),
        "198.51.100.1",
    )
    .await;
    let code = ann.session.referral_code.unwrap();
    // Ann again, under another address of hers, from the same machine.
    enter_from(
        &app,
        "loop",
        &with(
            post("a2", ids[0], "ann.again@example.com"),
            "referrer_code",
            code.as_str(),
        ),
        "198.51.100.1",
    )
    .await;
    let stored = entries(&app).await;
    assert_eq!(stored.len(), 3, "{stored:?}");
    for (email, kind, _, verdict, reasons) in &stored[1..] {
        assert_eq!(
            (verdict.as_str(), reasons.as_str()),
            ("flagged", r#"["referral_loop"]"#),
            "{email} {kind}"
        );
    }
}

#[tokio::test]
async fn without_a_referral_method_nothing_is_credited() {
    let app = spawn_app().await;
    let first = enter(
        &app,
        "demo",
        &crate::helpers::entry_body("k1", "ann@example.com"),
    )
    .await;
    let code = first.session.referral_code.clone().unwrap();
    let mut friend = crate::helpers::entry_body("k2", "bob@example.com");
    friend["referrer_code"] = code.as_str().into();
    enter(&app, "demo", &friend).await;
    let (_, read) = status(&app, "demo", &token(&first)).await;
    assert_eq!(
        (read["referrals"].clone(), read["total_entries"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(app.counts().await.entries, 2);
}

async fn add_coupons(app: &TestApp, campaign: &str, codes: &[&str]) {
    let campaign_id: i64 = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE campaign_key = $1",
    )
    .bind(campaign)
    .fetch_one(pool)
    .await
    .unwrap());
    let codes: Vec<String> = codes.iter().map(|code| (*code).to_owned()).collect();
    app.store.add_coupons(campaign_id, &codes, 0).await.unwrap();
}

#[tokio::test]
async fn a_reward_unlocks_once_with_a_coupon_from_the_pool_and_says_so_everywhere() {
    let app = spawn_app_with_rewards().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "rew",
        CampaignType::Reward,
        json!({"reward": {"type": "Coupon", "title": "10% off",
                          "unlock": {"rule": "actions", "count": 2}}}),
        vec![
            method(EmailSubscribe, "Subscribe", 1, json!({})),
            method(VisitUrl, "Visit", 1, json!({})),
            method(VisitUrl, "Visit more", 1, json!({})),
        ],
    )
    .await;
    add_coupons(&app, "rew", &["SAVE10-A", "SAVE10-B"]).await;
    let first = enter(&app, "rew", &post("k1", ids[0], "joe@example.com")).await;
    assert_eq!(first.reward, None, "one action of two");
    let second = enter(&app, "rew", &post("k2", ids[1], "joe@example.com")).await;
    let coupon = UnlockedReward::Coupon {
        code: "SAVE10-A".into(),
        title: "10% off".into(),
    };
    assert_eq!(second.reward, Some(coupon.clone()));
    let third = enter(&app, "rew", &post("k3", ids[2], "joe@example.com")).await;
    assert_eq!(third.reward, None, "only the unlocking entry carries it");

    let (got, replayed) = app
        .post_entry("rew", &post("k2", ids[1], "joe@example.com"))
        .await;
    assert_eq!(got, 200);
    assert_eq!(
        replayed["reward"],
        json!({"type": "Coupon", "code": "SAVE10-A", "title": "10% off"})
    );
    let latest = replayed["contestant_token"].as_str().unwrap();
    let (_, read) = status(&app, "rew", latest).await;
    let read: ContestantStatus = serde_json::from_value(read).unwrap();
    assert_eq!(read.reward, Some(coupon));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM coupons WHERE contestant_id IS NOT NULL")
            .await,
        1,
        "one code handed out"
    );

    app.drain(clock::now_millis()).await;
    let requests = app.receiver.requests();
    let events: Vec<&str> = requests
        .iter()
        .map(|request| request.header("hookline-event").unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "entry.created",
            "entry.created",
            "reward.unlocked",
            "entry.created"
        ]
    );
    let unlocked = requests[2].json();
    assert_eq!(
        unlocked["reward"],
        json!({"type": "Coupon", "code": "SAVE10-A"})
    );
    assert_eq!(
        unlocked["coupon"],
        json!({"type": "Coupon", "code": "SAVE10-A"})
    );
    assert_eq!(unlocked["entry"]["id"], second.response.entry.id.0);
    assert_eq!(requests[1].json()["coupon"], unlocked["coupon"]);
    assert!(requests[0].json()["reward"].is_null());
    assert_eq!(
        requests[3].json()["reward"],
        unlocked["reward"],
        "later entries carry the reward they have"
    );
}

#[tokio::test]
async fn an_empty_pool_accepts_the_entry_and_a_refilled_one_gives_the_code_later() {
    let app = spawn_app().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "dry",
        CampaignType::Reward,
        json!({"reward": {"type": "Coupon", "title": "Free cup"}}),
        vec![
            mandatory(method(EmailSubscribe, "Subscribe", 1, json!({}))),
            method(VisitUrl, "Visit", 1, json!({})),
        ],
    )
    .await;
    let first = enter(&app, "dry", &post("k1", ids[0], "joe@example.com")).await;
    assert_eq!(first.reward, None, "the pool is empty");
    add_coupons(&app, "dry", &["CUP-1"]).await;
    let second = enter(&app, "dry", &post("k2", ids[1], "joe@example.com")).await;
    assert_eq!(
        second.reward,
        Some(UnlockedReward::Coupon {
            code: "CUP-1".into(),
            title: "Free cup".into()
        })
    );
}

#[tokio::test]
async fn a_download_reward_gives_its_link() {
    let app = spawn_app().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "guide",
        CampaignType::Reward,
        json!({"reward": {"type": "Download", "title": "The guide",
                          "download_url": "https://files.example/guide.pdf"}}),
        vec![
            mandatory(method(EmailSubscribe, "Subscribe", 1, json!({}))),
            mandatory(method(
                CustomQuestion,
                "Why?",
                1,
                json!({"question": "Why coffee?"}),
            )),
        ],
    )
    .await;
    let first = enter(&app, "guide", &post("k1", ids[0], "joe@example.com")).await;
    assert_eq!(first.reward, None, "one mandatory method of two");
    let second = enter(
        &app,
        "guide",
        &with(post("k2", ids[1], "joe@example.com"), "value", "Mornings"),
    )
    .await;
    assert_eq!(
        second.reward,
        Some(UnlockedReward::Download {
            url: "https://files.example/guide.pdf".into(),
            title: "The guide".into()
        })
    );
    app.drain(clock::now_millis()).await;
    let body = app.receiver.requests()[1].json();
    assert_eq!(
        (body["reward"].clone(), body["coupon"].clone()),
        (
            json!({"type": "Download", "code": "https://files.example/guide.pdf"}),
            Value::Null
        )
    );
}

#[tokio::test]
async fn contestants_unlocking_at_once_each_get_a_different_coupon_until_none_is_left() {
    let app = spawn_app_with(|config| {
        config.rate_limits.per_ip = None;
        // On PostgreSQL groups taking coupons at once, as several processes would.
        config.postgres_groups_at_once = 4;
    })
    .await;
    let ids = add_campaign(
        &app,
        "rush",
        CampaignType::Reward,
        json!({"reward": {"type": "Coupon", "title": "5 off"}}),
        vec![method(
            EntryMethodType::EmailSubscribe,
            "Subscribe",
            1,
            json!({}),
        )],
    )
    .await;
    let codes: Vec<String> = (0..6).map(|n| format!("RUSH-{n}")).collect();
    let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    add_coupons(&app, "rush", &code_refs).await;
    let posts: Vec<Value> = (0..24)
        .map(|n| post(&format!("k{n}"), ids[0], &format!("p{n}@example.com")))
        .collect();
    let answers = join_all(posts.iter().map(|body| enter(&app, "rush", body))).await;
    let given: Vec<String> = answers
        .iter()
        .filter_map(|answer| match &answer.reward {
            Some(UnlockedReward::Coupon { code, .. }) => Some(code.clone()),
            _ => None,
        })
        .collect();
    let distinct: BTreeSet<&String> = given.iter().collect();
    assert_eq!(given.len(), 6, "every code handed out: {given:?}");
    assert_eq!(distinct.len(), 6, "each once: {given:?}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM coupons WHERE contestant_id IS NULL")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(DISTINCT contestant_id) FROM coupons")
            .await,
        6
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM contestants WHERE reward_value IS NOT NULL")
            .await,
        6
    );
}

#[tokio::test]
async fn the_status_route_answers_cors_is_never_cached_and_is_rate_limited() {
    let app = spawn_app_with(|config| {
        config.rate_limits.per_ip = Some(server::limits::Rate {
            count: std::num::NonZeroU32::new(2).unwrap(),
            period: std::time::Duration::from_secs(3600),
        });
    })
    .await;
    let first = enter(
        &app,
        "demo",
        &crate::helpers::entry_body("k1", "joe@example.com"),
    )
    .await;
    let response = app
        .client
        .get(app.url(&format!(
            "/api/v1/public/campaigns/demo/contestant?token={}",
            token(&first)
        )))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = status(&app, "demo", &token(&first)).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
}

#[tokio::test]
async fn deleting_a_contestant_takes_their_coupon_credit_email_and_referral_link_too() {
    let app = spawn_app_with_rewards().await;
    use EntryMethodType::*;
    let ids = add_campaign(
        &app,
        "gone",
        CampaignType::Reward,
        json!({"reward": {"type": "Coupon", "title": "Free cup"}}),
        vec![
            mandatory(method(EmailSubscribe, "Subscribe", 1, json!({}))),
            method(Referral, "Refer a friend", 2, json!({})),
        ],
    )
    .await;
    add_coupons(&app, "gone", &["CUP-1", "CUP-2"]).await;
    let ann = enter_from(
        &app,
        "gone",
        &post("a1", ids[0], "ann@example.com"),
        "198.51.100.1",
    )
    .await;
    let code = ann.session.referral_code.unwrap();
    let bob = enter_from(
        &app,
        "gone",
        &with(
            post("b1", ids[0], "bob@example.com"),
            "referrer_code",
            code.as_str(),
        ),
        "203.0.113.9",
    )
    .await;
    assert!(bob.reward.is_some(), "Bob got a coupon too");
    let key = app.setup().await;
    let bob_id: i64 = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar(
        "SELECT id FROM contestants WHERE email = 'bob@example.com'",
    )
    .fetch_one(pool)
    .await
    .unwrap());
    let (status, _) = app
        .admin(
            "DELETE",
            &format!("/api/v1/contestants/{bob_id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let stored = entries(&app).await;
    assert_eq!(
        stored.len(),
        2,
        "Ann's entry and her credit stay: {stored:?}"
    );
    assert_eq!(
        (stored[1].1.as_str(), stored[1].2.as_str()),
        ("referral", ""),
        "without Bob's email"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM coupons").await,
        1,
        "Ann's is left"
    );
    // Ann, whom Cat was referred by, goes too: Cat stays, unlinked.
    enter_from(
        &app,
        "gone",
        &with(
            post("c1", ids[0], "cat@example.com"),
            "referrer_code",
            code.as_str(),
        ),
        "203.0.113.10",
    )
    .await;
    let ann_id: i64 = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar(
        "SELECT id FROM contestants WHERE email = 'ann@example.com'",
    )
    .fetch_one(pool)
    .await
    .unwrap());
    let (status, _) = app
        .admin(
            "DELETE",
            &format!("/api/v1/contestants/{ann_id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contestants").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM contestants WHERE referred_by IS NOT NULL")
            .await,
        0
    );
}
