//! End-to-end: the widget on host sites of their own origin, as real sites embed it. Two
//! widgets on one page keep their own events; a page's hostile CSS changes nothing; a page
//! whose Content-Security-Policy forbids WebAssembly gets the hosted campaign page instead of
//! a blank box; a Capture campaign opens as a modal after its delay and answers the JS API's
//! `open`, `close`, `on` and `off`.

mod common;

use anyhow::Context;
use common::{
    RECORD_EVENTS, add_campaign, count_entries, enter_details, host_page, seen, spawn_server,
    wait_for_events, wait_for_state, wait_in_shadow,
};
use protocol::campaign::CampaignType;
use serde_json::json;
use tests::{Browser, HostSite, Page};

#[tokio::test]
async fn two_widgets_on_one_page_each_have_their_own_events() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    add_campaign(
        &server.store,
        "second",
        "The Second Giveaway",
        CampaignType::Competition,
        &[],
    )
    .await?;
    let body = r#"<div class="hookline-campaign" id="first" data-campaign="demo"></div>
                  <div class="hookline-campaign" id="second" data-campaign="second" data-lang="fr"></div>"#;
    let site = HostSite::start([(
        "/two",
        Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/two")).await?;
    wait_for_state(&browser, "#first", "ready").await?;
    wait_for_state(&browser, "#second", "ready").await?;
    let ready = wait_for_events(&browser, "ready", None, 2).await?;
    let mut keys: Vec<String> = ready
        .iter()
        .map(|event| {
            event["detail"]["campaign"]["key"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    keys.sort();
    assert_eq!(keys, ["demo", "second"]);

    // The second widget speaks French (data-lang="fr"); entering it leaves the first alone.
    let button = wait_in_shadow(&browser, "#second", "button[type=submit]", None).await?;
    assert_eq!(button, "Participer");
    enter_details(
        &browser,
        "#second",
        "marie@example.com",
        Some("Marie Curie"),
    )
    .await?;
    let entry = wait_for_events(&browser, "entry", Some("second"), 1).await?;
    assert_eq!(entry[0]["detail"]["campaign"]["key"], "second");
    assert_eq!(
        entry[0]["detail"]["campaign"]["name"],
        "The Second Giveaway"
    );
    wait_in_shadow(&browser, "#second", ".hl-done", Some("1 participation")).await?;
    let events = seen(&browser).await?;
    assert!(
        events
            .iter()
            .filter(|event| event["campaign"] == "demo")
            .all(|event| event["name"] == "ready"),
        "the first widget only got ready: {events:?}"
    );
    let first_form = wait_in_shadow(&browser, "#first", "button[type=submit]", None).await?;
    assert_eq!(
        first_form, "Enter",
        "the first widget still asks for details"
    );
    browser.screenshot("widget-two-on-one-page").await?;
    assert_eq!(count_entries(&server.store).await?, 1);
    browser.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_page_with_hostile_css_does_not_break_the_widget() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let head = format!(
        r#"{RECORD_EVENTS}<style>
             * {{ all: unset; }}
             div {{ display: none; }}
             p, button, input, label, section, form {{ color: red !important; font-size: 40px !important; }}
             .hl-card, .hl-submit {{ display: none !important; }}
           </style>"#
    );
    let body = r#"<div class="hookline-campaign" data-campaign="demo"></div>"#;
    let site = HostSite::start([(
        "/hostile",
        Page::new(host_page(&server.base_url, &head, body)),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/hostile")).await?;
    wait_for_state(&browser, ".hookline-campaign", "ready").await?;
    let layout = browser
        .eval(
            r#"const host = document.querySelector(".hookline-campaign");
               const root = host.shadowRoot;
               const button = root.querySelector("button[type=submit]");
               const style = getComputedStyle(button);
               return { height: host.getBoundingClientRect().height, display: getComputedStyle(host).display,
                        buttonColor: style.color, buttonFont: style.fontSize,
                        buttonShown: button.getBoundingClientRect().height > 0 };"#,
            vec![],
        )
        .await?;
    assert_eq!(layout["display"], "block", "{layout}");
    assert!(
        layout["height"].as_f64().unwrap_or_default() > 200.0,
        "the widget takes its room: {layout}"
    );
    assert_eq!(layout["buttonShown"], true, "{layout}");
    assert_eq!(
        layout["buttonColor"], "rgb(255, 255, 255)",
        "the page's colours stay out: {layout}"
    );
    assert_eq!(
        layout["buttonFont"], "16px",
        "the page's sizes stay out: {layout}"
    );
    browser.screenshot("widget-hostile-css").await?;

    enter_details(&browser, ".hookline-campaign", "css@example.com", None).await?;
    wait_for_events(&browser, "entry", None, 1).await?;
    wait_in_shadow(&browser, ".hookline-campaign", ".hl-done", Some("1 entry")).await?;
    // And the widget's CSS stays in: the page's own paragraphs keep the page's look.
    let page_paragraph = browser
        .eval(
            r#"const p = document.createElement("p"); p.className = "hl-done"; p.textContent = "x";
               document.body.appendChild(p); return getComputedStyle(p).backgroundColor;"#,
            vec![],
        )
        .await?;
    assert_eq!(
        page_paragraph, "rgba(0, 0, 0, 0)",
        "the widget's .hl-done style does not leak out"
    );
    browser.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_page_forbidding_webassembly_gets_the_hosted_page_not_a_blank_box() -> anyhow::Result<()>
{
    let server = spawn_server().await?;
    // The site allows our script (its own and ours), but not compiling WebAssembly
    // (no 'wasm-unsafe-eval'), as strict sites do.
    let csp = format!("script-src 'self' {}", server.base_url);
    let body = r#"<h1>Strict site</h1><div class="hookline-campaign" data-campaign="demo"></div>"#;
    let page = Page::new(host_page(&server.base_url, "", body))
        .with_header("content-security-policy", csp);
    let site = HostSite::start([("/strict", page)]).await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/strict")).await?;
    wait_for_state(&browser, ".hookline-campaign", "fallback").await?;
    let fallback = browser
        .eval(
            r#"const host = document.querySelector(".hookline-campaign");
               const frame = host.querySelector("iframe");
               const link = host.querySelector("a");
               return { frame: frame && frame.src, link: link && link.href, rel: link && link.rel,
                        height: host.getBoundingClientRect().height };"#,
            vec![],
        )
        .await?;
    let hosted = format!("{}/c/demo", server.base_url);
    assert_eq!(fallback["frame"], hosted.as_str(), "{fallback}");
    assert_eq!(fallback["link"], hosted.as_str(), "{fallback}");
    assert_eq!(fallback["rel"], "noopener");
    assert!(
        fallback["height"].as_f64().unwrap_or_default() > 300.0,
        "not a blank box: {fallback}"
    );

    // Inside the frame, on the server's own origin, the widget runs.
    browser
        .client()
        .enter_frame(0)
        .await
        .context("the fallback iframe")?;
    wait_for_state(&browser, ".hookline-campaign", "ready").await?;
    wait_in_shadow(&browser, ".hookline-campaign", "input[name=email]", None).await?;
    browser.client().enter_parent_frame().await?;
    browser.screenshot("widget-csp-fallback").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_capture_modal_opens_after_its_delay_and_follows_the_js_api() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    add_campaign(
        &server.store,
        "news",
        "Get the newsletter",
        CampaignType::Capture,
        &[],
    )
    .await?;
    // The host page's listeners, queued before the script loads: `off` removes one again.
    let head = format!(
        r#"{RECORD_EVENTS}<script>
             window.Hookline = window.Hookline || [];
             window.byQueue = []; window.removed = [];
             function removedListener(detail) {{ window.removed.push(detail); }}
             Hookline.push(["on", "open", function (detail) {{ window.byQueue.push(["open", detail.trigger]); }}]);
             Hookline.push(["on", "close", function (detail) {{ window.byQueue.push(["close", detail.trigger]); }}]);
             Hookline.push(["on", "open", removedListener], ["off", "open", removedListener]);
             window.onHooklineEvent = function (event) {{ (window.gleamStyle = window.gleamStyle || []).push(event.name); }};
           </script>"#
    );
    let body = r#"<h1>A shop</h1><p>Some products.</p>
                  <div class="hookline-campaign" data-campaign="news" data-display="modal" data-delay="1"></div>"#;
    let site =
        HostSite::start([("/shop", Page::new(host_page(&server.base_url, &head, body)))]).await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/shop")).await?;
    wait_for_state(&browser, ".hookline-campaign", "ready").await?;
    let reserved = browser
        .eval(
            "return document.querySelector('.hookline-campaign').getBoundingClientRect().height;",
            vec![],
        )
        .await?;
    assert_eq!(reserved, 0, "a modal takes no room in the page");

    // It opens by itself after its delay (1 s), as a dialog over the page.
    let opened = wait_for_events(&browser, "open", None, 1).await?;
    assert_eq!(opened[0]["detail"]["trigger"], "delay");
    let dialog = browser
        .eval(
            r#"const root = document.querySelector(".hookline-campaign").shadowRoot;
               const dialog = root.querySelector("[role=dialog]");
               const box = dialog.getBoundingClientRect();
               return { modal: dialog.getAttribute("aria-modal"), width: box.width,
                        fixed: getComputedStyle(root.querySelector(".hl-backdrop")).position,
                        focused: root.activeElement && root.activeElement.name };"#,
            vec![],
        )
        .await?;
    assert_eq!(dialog["modal"], "true", "{dialog}");
    assert_eq!(dialog["fixed"], "fixed", "{dialog}");
    assert_eq!(
        dialog["focused"], "email",
        "the email field has the focus: {dialog}"
    );
    browser.screenshot("widget-capture-modal").await?;

    // The JS API closes and opens it.
    browser
        .eval(r#"Hookline.push(["close", "news"]);"#, vec![])
        .await?;
    let closed = wait_for_events(&browser, "close", None, 1).await?;
    assert_eq!(closed[0]["detail"]["trigger"], "command");
    let gone = browser
        .eval("return document.querySelector('.hookline-campaign').shadowRoot.querySelector('[role=dialog]') === null;", vec![])
        .await?;
    assert_eq!(gone, true);
    browser
        .eval(r#"Hookline.push(["open", "news"]);"#, vec![])
        .await?;
    let opened = wait_for_events(&browser, "open", None, 2).await?;
    assert_eq!(opened[1]["detail"]["trigger"], "command");

    // A capture is posted at once: `capture` before the server answers, then `entry`.
    enter_details(&browser, ".hookline-campaign", "reader@example.com", None).await?;
    let entry = wait_for_events(&browser, "entry", None, 1).await?;
    assert_eq!(entry[0]["detail"]["campaign"]["type"], "Capture");
    wait_in_shadow(
        &browser,
        ".hookline-campaign",
        ".hl-done",
        Some("subscribed"),
    )
    .await?;
    let order: Vec<String> = seen(&browser)
        .await?
        .iter()
        .filter_map(|event| event["name"].as_str().map(str::to_owned))
        .collect();
    let position = |name: &str| order.iter().position(|seen| seen == name);
    assert!(
        position("capture") < position("entry"),
        "capture comes first: {order:?}"
    );

    // Escape closes it, as a person would.
    browser
        .find_in_shadow(".hookline-campaign", "[role=dialog]")
        .await?
        .send_keys("\u{e00c}")
        .await?;
    let closed = wait_for_events(&browser, "close", None, 2).await?;
    assert_eq!(closed[1]["detail"]["trigger"], "dismissed");
    let api = browser
        .eval(
            "return [window.byQueue, window.removed, window.gleamStyle];",
            vec![],
        )
        .await?;
    assert_eq!(
        api[0],
        json!([
            ["open", "delay"],
            ["close", "command"],
            ["open", "command"],
            ["close", "dismissed"]
        ]),
        "listeners queued before the script loaded got every event"
    );
    assert_eq!(api[1], json!([]), "a listener taken off gets nothing");
    let names = api[2].as_array().cloned().unwrap_or_default();
    for name in ["ready", "open", "close", "capture", "entry"] {
        assert!(
            names.contains(&json!(name)),
            "onHooklineEvent got {name}: {names:?}"
        );
    }
    assert_eq!(count_entries(&server.store).await?, 1);
    browser.close().await?;
    Ok(())
}

#[tokio::test]
async fn single_page_apps_mount_and_unmount_widgets_idempotently() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let site = HostSite::start([(
        "/app",
        Page::new(host_page(
            &server.base_url,
            RECORD_EVENTS,
            "<main id=app></main>",
        )),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/app")).await?;
    // The app renders its view later, then asks for the widget (twice, as apps do).
    browser
        .eval(
            r##"const view = document.createElement("div");
               view.className = "hookline-campaign"; view.dataset.campaign = "demo"; view.id = "late";
               document.getElementById("app").appendChild(view);
               window.Hookline = window.Hookline || [];
               Hookline.push(["mount", view], ["mount", "#late"]);"##,
            vec![],
        )
        .await?;
    wait_for_state(&browser, "#late", "ready").await?;
    wait_in_shadow(&browser, "#late", "input[name=email]", None).await?;
    let ready = wait_for_events(&browser, "ready", None, 1).await?;
    assert_eq!(ready.len(), 1, "mounted once");

    browser
        .eval(
            r##"Hookline.push(["unmount", "#late"], ["unmount", "#late"]);"##,
            vec![],
        )
        .await?;
    let after = browser
        .eval(
            r##"const view = document.getElementById("late");
               return { state: view.getAttribute("data-hookline-state"), children: view.shadowRoot.childNodes.length };"##,
            vec![],
        )
        .await?;
    assert_eq!(
        after,
        json!({ "state": null, "children": 0 }),
        "unmounted cleanly"
    );

    browser
        .eval(r##"Hookline.push(["mount", "#late"]);"##, vec![])
        .await?;
    wait_for_state(&browser, "#late", "ready").await?;
    wait_for_events(&browser, "ready", None, 2).await?;
    wait_in_shadow(&browser, "#late", "input[name=email]", None).await?;
    browser.close().await?;
    Ok(())
}
