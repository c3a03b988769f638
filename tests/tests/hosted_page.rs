//! End-to-end: the hosted campaign page `/c/{key}`, the widget full page with share
//! metadata, and its 404 for unknown keys.

mod common;

use anyhow::Context;
use common::{add_campaign, spawn_server, wait_for_state, wait_in_shadow};
use protocol::campaign::CampaignType;
use tests::Browser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The status line and body of `GET {path}`, over a plain connection.
async fn get(base_url: &str, path: &str) -> anyhow::Result<(String, String)> {
    let address = base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .context("connect to the server")?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[tokio::test]
async fn the_hosted_page_shows_the_widget_with_escaped_share_metadata() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let name = r#"Win "big" <b>now</b> & more"#;
    add_campaign(&server.store, "big", name, CampaignType::Competition, &[]).await?;

    let (status, html) = get(&server.base_url, "/c/big").await?;
    assert!(status.contains("200"), "{status}");
    assert!(
        html.contains("<title>Win &quot;big&quot; &lt;b&gt;now&lt;/b&gt; &amp; more</title>"),
        "{html}"
    );
    assert!(
        !html.contains("<b>now</b>"),
        "nothing of the campaign's text is markup"
    );

    let browser = Browser::start().await?;
    browser
        .goto(&format!("{}/c/big?lang=fr", server.base_url))
        .await?;
    let meta = browser
        .eval(
            r#"const meta = name => { const tag = document.querySelector(`meta[property="${name}"], meta[name="${name}"]`); return tag && tag.content; };
               return { title: document.title, og_title: meta("og:title"), og_description: meta("og:description"),
                        og_type: meta("og:type"), og_url: meta("og:url"), card: meta("twitter:card"),
                        twitter_title: meta("twitter:title"), injected: document.querySelector("b") !== null };"#,
            vec![],
        )
        .await?;
    assert_eq!(meta["title"], name);
    assert_eq!(meta["og_title"], name);
    assert_eq!(meta["twitter_title"], name);
    assert_eq!(meta["og_description"], "The big test campaign.");
    assert_eq!(meta["og_type"], "website");
    assert_eq!(meta["card"], "summary");
    assert_eq!(
        meta["og_url"],
        format!("{}/c/big", server.base_url).as_str()
    );
    assert_eq!(meta["injected"], false);

    // The same widget, full page, in the language asked for.
    wait_for_state(&browser, ".hookline-campaign", "ready").await?;
    let button =
        wait_in_shadow(&browser, ".hookline-campaign", "button[type=submit]", None).await?;
    assert_eq!(button, "Participer");
    browser.screenshot("hosted-page").await?;

    let (status, html) = get(&server.base_url, "/c/nope").await?;
    assert!(status.contains("404"), "{status}");
    assert!(html.contains("Campaign not found"), "{html}");
    let (status, _) = get(&server.base_url, "/c/bad%20key").await?;
    assert!(status.contains("404"), "{status}");
    browser.close().await?;
    Ok(())
}
