//! The admin console's pages over HTTP, without a browser (the end-to-end test in `tests/`
//! drives them in Chromium): they need a session (else sign-in, or setup on a new server),
//! show the signed-in workspace's webhooks, connectors, deliveries and attempts, never a
//! connector's secret, and answer another workspace's objects with the not-found page.

use serde_json::json;
use server::clock;

use crate::helpers::{TestApp, entry_body, spawn_app_with};

const OPERATOR_KEY: &str = "operator-key-for-the-tests-0123456789";

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in with `key` as the sign-in form does; the session cookie.
pub(crate) async fn sign_in(app: &TestApp, key: &str) -> String {
    let response = client()
        .post(app.url("/admin/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303, "a valid key signs in");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_owned()
}

/// `GET path` with the session `cookie`: the status, the `location` and the page.
pub(crate) async fn page(app: &TestApp, cookie: Option<&str>, path: &str) -> (u16, String, String) {
    let mut request = client().get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, response.text().await.unwrap())
}

#[tokio::test]
async fn console_pages_send_a_new_server_to_setup_and_others_to_sign_in() {
    let app = spawn_app_with(|config| config.webhook = None).await;
    for path in [
        "/admin",
        "/admin/webhooks",
        "/admin/connectors",
        "/admin/deliveries",
    ] {
        let (status, location, _) = page(&app, None, path).await;
        assert_eq!((status, location.as_str()), (303, "/admin/setup"), "{path}");
    }
    let (status, _, setup) = page(&app, None, "/admin/setup").await;
    assert_eq!(status, 200);
    assert!(setup.contains("data-api=\"POST /api/v1/setup\""), "{setup}");
    let key = app.setup().await;
    for path in ["/admin/webhooks", "/admin/webhooks/new", "/admin/streams"] {
        let (status, location, _) = page(&app, None, path).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/admin/sign-in"),
            "{path}"
        );
    }
    let (status, location, _) =
        page(&app, Some("hl_session=not-a-session"), "/admin/webhooks").await;
    assert_eq!((status, location.as_str()), (303, "/admin/sign-in"));
    let cookie = sign_in(&app, &key).await;
    let (status, _, empty) = page(&app, Some(&cookie), "/admin/webhooks").await;
    assert_eq!(status, 200);
    assert!(empty.contains("Make the first one"), "{empty}");
    let (status, _, _) = page(&app, Some(&cookie), "/admin/setup").await;
    assert_eq!(status, 303, "setup runs once");
}

#[tokio::test]
async fn webhook_pages_show_the_workspaces_own_webhooks_deliveries_and_attempts() {
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.operator_key = Some(OPERATOR_KEY.to_owned());
    })
    .await;
    let key = app.setup().await;
    let (status, connector) = app
        .admin(
            "POST",
            "/api/v1/auth-connectors",
            Some(&key),
            Some(json!({"name": "CRM token", "type": "bearer", "token": "t0ken-never-shown"})),
        )
        .await;
    assert_eq!(status, 201, "{connector}");
    let (status, saved) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({
                "name": "CRM <contacts>", "events": ["entry.created"], "url": app.receiver.url(),
                "auth_connector_id": connector["id"], "retry_schedule": [600], "test_on_save": false,
                "body_template": "{\"email\": \"{{user.email}}\"}"
            })),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let endpoint = saved["endpoint"]["id"].as_str().unwrap().to_owned();
    let (status, answer) = app
        .post_entry("demo", &entry_body("console-1", "ada@example.com"))
        .await;
    assert_eq!(status, 201, "{answer}");
    app.drain(clock::now_millis()).await;
    let (_, deliveries) = app
        .admin(
            "GET",
            &format!("/api/v1/deliveries?endpoint_id={endpoint}"),
            Some(&key),
            None,
        )
        .await;
    let delivery = deliveries["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(deliveries["data"][0]["status"], "delivered");

    let cookie = sign_in(&app, &key).await;
    let (status, _, list) = page(&app, Some(&cookie), "/admin/webhooks").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("CRM &lt;contacts&gt;"),
        "names are escaped: {list}"
    );
    assert!(
        list.contains("100%") && list.contains("1 try"),
        "the success rate: {list}"
    );
    let (status, _, settings) =
        page(&app, Some(&cookie), &format!("/admin/webhooks/{endpoint}")).await;
    assert_eq!(status, 200);
    assert!(
        settings.contains(&format!("value=\"{}\"", app.receiver.url())),
        "{settings}"
    );
    assert!(settings.contains("600"), "the retry schedule: {settings}");
    let connector_id = connector["id"].as_str().unwrap();
    assert!(
        settings.contains(&format!("value=\"{connector_id}\" selected")),
        "the connector is chosen: {settings}"
    );
    let (status, _, history) = page(
        &app,
        Some(&cookie),
        &format!("/admin/webhooks/{endpoint}/history"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        history.contains("data-status=\"delivered\"") && history.contains("entry.created"),
        "{history}"
    );
    let (_, _, failed) = page(
        &app,
        Some(&cookie),
        &format!("/admin/webhooks/{endpoint}/history?outcome=failed"),
    )
    .await;
    assert!(
        failed.contains("No deliveries match"),
        "the outcome filter: {failed}"
    );
    let (status, _, detail) = page(
        &app,
        Some(&cookie),
        &format!("/admin/deliveries/{delivery}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(detail.contains("Try 1"), "{detail}");
    assert!(
        detail.contains(&format!("POST {}", app.receiver.url())),
        "the request line: {detail}"
    );
    assert!(detail.contains("authorization: [redacted]"), "{detail}");
    assert!(
        detail.contains("ada@example.com"),
        "the body sent: {detail}"
    );
    let entry = answer["entry"]["id"].as_i64().unwrap();
    let (status, _, by_entry) = page(
        &app,
        Some(&cookie),
        &format!("/admin/deliveries?entry={entry}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        by_entry.contains(&format!("data-delivery=\"{delivery}\"")),
        "{by_entry}"
    );
    let (_, _, other_entry) = page(
        &app,
        Some(&cookie),
        &format!("/admin/deliveries?entry={}", entry + 1),
    )
    .await;
    assert!(other_entry.contains("No deliveries match"), "{other_entry}");
    let (status, stream) = app
        .admin(
            "POST",
            "/api/v1/streams",
            Some(&key),
            Some(json!({"name": "Shop purchases"})),
        )
        .await;
    assert_eq!(status, 201, "{stream}");
    let (status, _, streams) = page(&app, Some(&cookie), "/admin/streams").await;
    assert_eq!(status, 200);
    assert!(
        streams.contains("Shop purchases") && streams.contains(stream["url"].as_str().unwrap()),
        "the stream and its URL: {streams}"
    );
    let (status, _, connectors) = page(&app, Some(&cookie), "/admin/connectors").await;
    assert_eq!(status, 200);
    assert!(connectors.contains("CRM token") && connectors.contains("CRM &lt;contacts&gt;"));
    for page_text in [&list, &settings, &detail, &connectors] {
        assert!(
            !page_text.contains("t0ken-never-shown"),
            "no page shows the token"
        );
    }

    // An endpoint delivery turned off says why, and offers to turn it back on.
    app.execute(
        "UPDATE endpoints SET enabled = FALSE, disabled_reason = 'gone', n_consecutive_failures = 1",
    )
    .await;
    let (_, _, list) = page(&app, Some(&cookie), "/admin/webhooks").await;
    assert!(
        list.contains("data-status=\"disabled\"") && list.contains("410 Gone"),
        "{list}"
    );
    let (_, _, settings) = page(&app, Some(&cookie), &format!("/admin/webhooks/{endpoint}")).await;
    assert!(settings.contains("Turn it back on"), "{settings}");

    // Another workspace sees none of it.
    let (status, other) = app
        .admin(
            "POST",
            "/api/v1/workspaces",
            Some(OPERATOR_KEY),
            Some(json!({"name": "Other Co"})),
        )
        .await;
    assert_eq!(status, 201, "{other}");
    let stranger = sign_in(&app, other["api_key"]["key"].as_str().unwrap()).await;
    for path in [
        format!("/admin/webhooks/{endpoint}"),
        format!("/admin/webhooks/{endpoint}/example"),
        format!("/admin/webhooks/{endpoint}/history"),
        format!("/admin/deliveries/{delivery}"),
        "/admin/deliveries/dlv_nope".to_owned(),
    ] {
        let (status, _, body) = page(&app, Some(&stranger), &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("Not found"), "{path}");
    }
    let (_, _, theirs) = page(&app, Some(&stranger), "/admin/webhooks").await;
    assert!(!theirs.contains("CRM &lt;contacts"), "{theirs}");
    let (_, _, their_connectors) = page(&app, Some(&stranger), "/admin/connectors").await;
    assert!(!their_connectors.contains("CRM token"));
}
