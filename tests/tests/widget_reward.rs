//! End-to-end: a Reward campaign, in headless Chromium, against the real server with the host
//! page standing in for the parts of the contract the server does not answer yet. The page
//! wraps `fetch` (as a test double of the server to come): it adds the campaign's reward and
//! the visit's URL to the real campaign answer, a contestant token and the unlocked coupon to
//! the real entry answers, and answers the contestant status route. Entries are still the
//! real server's: the widget's progress, coupon, `reward` event, new-tab link and returning
//! visitor's status are what is tested.

mod common;

use common::{
    RECORD_EVENTS, add_campaign, count_entries, enter_details, host_page, spawn_server,
    wait_for_events, wait_for_state, wait_in_shadow,
};
use protocol::campaign::{CampaignType, EntryMethodType};
use tests::{Browser, HostSite, Page};

const HOST: &str = ".hookline-campaign";

/// The future server, in front of today's: see the module comment.
const SERVER_TO_COME: &str = r#"<script>
  window.statusAsked = 0;
  const realFetch = window.fetch.bind(window);
  const json = (value, status) => new Response(JSON.stringify(value), { status: status || 200, headers: { "content-type": "application/json" } });
  window.fetch = async function (url, init) {
    url = String(url);
    if (url.includes("/contestant?token=ctk_test")) {
      window.statusAsked += 1;
      return json({ user: { email: "joe@example.com", name: "Joe" }, contestant_token: "ctk_test",
        referral_code: "Jb82kd", referral_url: "https://shop.example/?hl_ref=Jb82kd", referrals: 1,
        completed: [{ entry_method_id: 1, times: 1, last_completed_at: Date.now() },
                    { entry_method_id: 2, times: 1, last_completed_at: Date.now() }],
        actions_completed: 2, total_entries: 7,
        reward: { type: "Coupon", code: "SAVE10-7QK2", title: "10% off" } });
    }
    const response = await realFetch(url, init);
    if (url.endsWith("/campaigns/rew")) {
      const campaign = await response.json();
      campaign.reward = { type: "Coupon", title: "10% off", description: "One use, any order.", unlock: { rule: "actions", count: 2 } };
      campaign.entry_methods[1].visit_url = { url: location.origin + "/new-range" };
      return json(campaign);
    }
    if (url.endsWith("/campaigns/rew/entries") && response.ok) {
      const answer = await response.json();
      answer.contestant_token = "ctk_test";
      if (answer.actions_completed >= 2) answer.reward = { type: "Coupon", code: "SAVE10-7QK2", title: "10% off" };
      return json(answer, response.status);
    }
    return response;
  };
</script>"#;

#[tokio::test]
async fn a_reward_shows_progress_then_its_coupon() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    add_campaign(
        &server.store,
        "rew",
        "10% off your next order",
        CampaignType::Reward,
        &[(EntryMethodType::VisitUrl, "See the new range")],
    )
    .await?;
    let head = format!("{RECORD_EVENTS}{SERVER_TO_COME}");
    let body = r#"<div class="hookline-campaign" data-campaign="rew"></div>"#;
    let site = HostSite::start([
        (
            "/offer",
            Page::new(host_page(&server.base_url, &head, body)),
        ),
        (
            "/new-range",
            Page::new("<!doctype html><title>New range</title><p>New range</p>"),
        ),
    ])
    .await;
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

    // A returning visitor: the server's status replaces what the browser kept.
    browser.goto(&site.url("/offer")).await?;
    wait_for_events(&browser, "login", None, 1).await?;
    wait_in_shadow(&browser, HOST, ".hl-done", Some("7 entries")).await?;
    wait_in_shadow(&browser, HOST, ".hl-code", Some("SAVE10-7QK2")).await?;
    let asked = browser.eval("return window.statusAsked;", vec![]).await?;
    assert_eq!(asked, 1, "the status was asked with the kept token");
    browser.close().await?;
    Ok(())
}
