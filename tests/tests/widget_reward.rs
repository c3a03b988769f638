//! End-to-end: a Reward campaign, in headless Chromium against the real server. The widget
//! shows the progress towards the reward; the action that completes the unlock rule gets a
//! coupon code from the campaign's pool (the server's answer), shown in the widget and sent
//! as the `reward` event; the visit is a new-tab link without `window.opener`. A returning
//! visitor gets the server's status with their session token: a friend who entered through
//! their share link meanwhile shows in their totals.

mod common;

use anyhow::Context;
use common::{
    RECORD_EVENTS, add_campaign_configured, count_entries, enter_details, entry_method, host_page,
    spawn_server, wait_for_events, wait_for_state, wait_in_shadow,
};
use protocol::campaign::{CampaignType, EntryMethodType};
use serde_json::json;
use tests::{Browser, HostSite, Page};

const HOST: &str = ".hookline-campaign";

#[tokio::test]
async fn a_reward_shows_progress_then_its_coupon() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let body = r#"<div class="hookline-campaign" data-campaign="rew"></div>"#;
    let site = HostSite::start([
        (
            "/offer",
            Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
        ),
        (
            "/new-range",
            Page::new("<!doctype html><title>New range</title><p>New range</p>"),
        ),
    ])
    .await;
    use EntryMethodType::*;
    let campaign = add_campaign_configured(
        &server.store,
        "rew",
        "10% off your next order",
        CampaignType::Reward,
        json!({"reward": {"type": "Coupon", "title": "10% off", "description": "One use, any order.",
                          "unlock": {"rule": "actions", "count": 2}}}),
        vec![
            entry_method(EmailSubscribe, "Subscribe to our newsletter", 1, true, json!({})),
            entry_method(
                VisitUrl,
                "See the new range",
                2,
                false,
                json!({"url": site.url("/new-range")}),
            ),
            entry_method(Referral, "Tell a friend", 2, false, json!({})),
        ],
    )
    .await?;
    let codes = ["SAVE10-7QK2".to_owned(), "SAVE10-8XY3".to_owned()];
    server.store.add_coupons(campaign.id, &codes, 0).await?;

    let browser = Browser::start().await?;
    browser.goto(&site.url("/offer")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    enter_details(&browser, HOST, "joe@example.com", Some("Joe")).await?;
    wait_for_events(&browser, "entry", None, 1).await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-progress-text",
        Some("1 of 2 actions done"),
    )
    .await?;
    browser.screenshot("widget-reward-progress").await?;

    // The visit is a real link to a new tab, without `window.opener`; the click counts.
    let link = browser
        .find_in_shadow(HOST, ".hl-method[data-type=visit_url] a.hl-action")
        .await?;
    assert_eq!(link.attr("target").await?.as_deref(), Some("_blank"));
    assert_eq!(
        link.attr("rel").await?.as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(link.attr("href").await?, Some(site.url("/new-range")));
    link.click().await?;
    let reward = wait_for_events(&browser, "reward", None, 1).await?;
    assert_eq!(reward[0]["detail"]["reward"]["type"], "Coupon");
    assert_eq!(reward[0]["detail"]["reward"]["code"], "SAVE10-7QK2");
    assert_eq!(reward[0]["detail"]["reward"]["title"], "10% off");
    assert_eq!(reward[0]["detail"]["user"]["email"], "joe@example.com");
    let entry = wait_for_events(&browser, "entry", None, 2).await?;
    assert_eq!(
        entry[1]["detail"]["value"],
        site.url("/new-range"),
        "the visited URL is the entry's value"
    );
    let code = wait_in_shadow(&browser, HOST, ".hl-code", None).await?;
    assert_eq!(code, "SAVE10-7QK2");
    wait_in_shadow(&browser, HOST, ".hl-unlocked", Some("unlocked")).await?;
    let tabs = browser.client().windows().await?;
    assert_eq!(tabs.len(), 2, "the visit opened a tab");
    browser.screenshot("widget-reward-unlocked").await?;
    assert_eq!(count_entries(&server.store).await?, 2);
    let given: Option<i64> = server::with_pool!(server.store.pool(), pool => {
        sqlx::query_scalar("SELECT contestant_id FROM coupons WHERE code = 'SAVE10-7QK2'")
            .fetch_one(pool)
            .await?
    });
    assert!(given.is_some(), "the code is handed out, once");

    // Joe's share link; a friend enters through it in a browser of their own.
    browser
        .find_in_shadow(HOST, ".hl-method[data-type=referral] button.hl-action")
        .await?
        .click()
        .await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-method[data-type=referral] #hl-value",
        None,
    )
    .await?;
    let link = browser
        .eval(
            r#"return document.querySelector(".hookline-campaign").shadowRoot.querySelector(".hl-method[data-type=referral] #hl-value").value;"#,
            vec![],
        )
        .await?;
    let link = link.as_str().context("a share link")?.to_owned();
    let friend = Browser::start().await?;
    friend.goto(&link).await?;
    wait_for_state(&friend, HOST, "ready").await?;
    enter_details(&friend, HOST, "ann@example.com", Some("Ann")).await?;
    wait_in_shadow(
        &friend,
        HOST,
        ".hl-progress-text",
        Some("1 of 2 actions done"),
    )
    .await?;
    friend.close().await?;

    // A returning visitor: the server's status (asked with the kept token) replaces what
    // the browser kept, with the friend's credit; the coupon is shown again.
    let token = browser
        .eval("return localStorage.getItem('hookline:s:rew');", vec![])
        .await?;
    assert!(
        token.as_str().is_some_and(|kept| kept.contains("ctk_")),
        "the session keeps the server's token: {token}"
    );
    browser.goto(&site.url("/offer")).await?;
    wait_for_events(&browser, "login", None, 1).await?;
    wait_in_shadow(&browser, HOST, ".hl-done", Some("5 entries")).await?;
    wait_in_shadow(&browser, HOST, ".hl-code", Some("SAVE10-7QK2")).await?;
    browser.screenshot("widget-reward-returning").await?;
    assert_eq!(
        count_entries(&server.store).await?,
        4,
        "Ann's entry and Joe's credit"
    );
    browser.close().await?;
    Ok(())
}
