//! The hosted campaign page, `GET /c/{key}`: the widget full page, with the campaign's title,
//! description and image as share metadata (Open Graph, Twitter), so a campaign can be shared
//! without any site of the owner's. It is also where the loader sends visitors of pages whose
//! Content-Security-Policy forbids WebAssembly.
//!
//! The page is `www/campaign.html` with `{{…}}` placeholders, read at each request (it is
//! small, and edits show at once); every value put in is HTML-escaped here. Unknown keys get
//! a 404 page. Must not hold business rules: it reads the campaign and renders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use protocol::ids::CampaignKey;

use protocol::campaign::PublicCampaign;

use super::public::public_campaign;
use crate::clock;
use crate::store::Store;

/// The page template, in `www/`.
pub const TEMPLATE_FILE: &str = "campaign.html";

#[derive(Debug, Clone)]
struct HostedState {
    store: Store,
    template: Arc<PathBuf>,
}

pub fn routes<S: Clone + Send + Sync + 'static>(store: Store, www_dir: &Path) -> Router<S> {
    Router::new()
        .route("/c/{key}", get(page))
        .with_state(HostedState {
            store,
            template: Arc::new(www_dir.join(TEMPLATE_FILE)),
        })
}

/// What the page shows of a campaign, before escaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedPage {
    pub key: String,
    pub title: String,
    pub description: String,
    /// An absolute `http(s)://` image URL, or empty.
    pub image_url: String,
    /// The page's own address, for `og:url`; empty when unknown.
    pub page_url: String,
    /// `data-lang` of the widget (`?lang=fr`), or empty.
    pub lang: String,
}

async fn page(
    State(state): State<HostedState>,
    UrlPath(key): UrlPath<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let campaign = match CampaignKey::parse(&key) {
        Some(key) => state.store.campaign_by_key(&key).await,
        None => Ok(None),
    };
    let campaign = match campaign {
        Ok(Some(campaign)) => campaign,
        Ok(None) => return html(StatusCode::NOT_FOUND, NOT_FOUND_PAGE.to_owned()),
        Err(error) => {
            tracing::error!(%error, "the hosted page could not read its campaign");
            return html(StatusCode::INTERNAL_SERVER_ERROR, ERROR_PAGE.to_owned());
        }
    };
    let template = match tokio::fs::read_to_string(state.template.as_path()).await {
        Ok(template) => template,
        Err(error) => {
            tracing::error!(%error, path = %state.template.display(), "the hosted page template is missing");
            return html(StatusCode::INTERNAL_SERVER_ERROR, ERROR_PAGE.to_owned());
        }
    };
    let lang = query
        .get("lang")
        .filter(|lang| {
            (1..=12).contains(&lang.len())
                && lang.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
        })
        .cloned()
        .unwrap_or_default();
    let campaign = public_campaign(campaign, clock::now_millis());
    let page = hosted_page(&campaign, page_url(&headers, &key), lang);
    html(StatusCode::OK, render(&template, &page))
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// `http://{Host}/c/{key}` (`https` behind a proxy that says so). The host is only echoed,
/// escaped, into a meta tag.
fn page_url(headers: &HeaderMap, key: &str) -> String {
    let Some(host) = headers.get(HOST).and_then(|host| host.to_str().ok()) else {
        return String::new();
    };
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|proto| proto.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    format!("{}://{host}/c/{key}", if https { "https" } else { "http" })
}

/// The campaign as the page shows it: what the widget is told (`PublicCampaign`), so an
/// image shows here as soon as the public campaign has one. Only `http(s)` images are used.
pub fn hosted_page(campaign: &PublicCampaign, page_url: String, lang: String) -> HostedPage {
    let image = &campaign.image_url;
    let web_image = image.starts_with("https://") || image.starts_with("http://");
    HostedPage {
        key: campaign.key.as_str().to_owned(),
        title: campaign.name.clone(),
        description: campaign.description.clone(),
        image_url: if web_image {
            image.clone()
        } else {
            String::new()
        },
        page_url,
        lang,
    }
}

/// `text` safe inside HTML text and double- or single-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The share metadata: Open Graph and Twitter card tags, every value escaped.
fn meta_tags(page: &HostedPage) -> String {
    let mut tags = Vec::new();
    let mut tag = |attribute: &str, name: &str, value: &str| {
        if !value.is_empty() {
            tags.push(format!(
                r#"<meta {attribute}="{name}" content="{}">"#,
                escape(value)
            ));
        }
    };
    tag("name", "description", &page.description);
    tag("property", "og:type", "website");
    tag("property", "og:title", &page.title);
    tag("property", "og:description", &page.description);
    tag("property", "og:url", &page.page_url);
    tag("property", "og:image", &page.image_url);
    let card = if page.image_url.is_empty() {
        "summary"
    } else {
        "summary_large_image"
    };
    tag("name", "twitter:card", card);
    tag("name", "twitter:title", &page.title);
    tag("name", "twitter:description", &page.description);
    tag("name", "twitter:image", &page.image_url);
    tags.join("\n")
}

/// Fills the template: `{{title}}`, `{{description}}`, `{{key}}`, `{{lang}}` (escaped
/// values) and `{{meta}}` (the tags of [`meta_tags`]).
pub fn render(template: &str, page: &HostedPage) -> String {
    template
        .replace("{{meta}}", &meta_tags(page))
        .replace("{{title}}", &escape(&page.title))
        .replace("{{description}}", &escape(&page.description))
        .replace("{{key}}", &escape(&page.key))
        .replace("{{lang}}", &escape(&page.lang))
}

const NOT_FOUND_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Campaign not found</title>
<style>body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1c1e21;background:#f5f6f8}main{max-width:32rem;margin:15vh auto;padding:0 1rem}</style>
</head><body><main><h1>Campaign not found</h1><p>This campaign does not exist, or it has been removed.</p></main></body></html>
"#;

const ERROR_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title></head>
<body><p>Something went wrong on our side. Please try again.</p></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn page(title: &str, description: &str, image_url: &str) -> HostedPage {
        HostedPage {
            key: "a1XyD".into(),
            title: title.into(),
            description: description.into(),
            image_url: image_url.into(),
            page_url: "https://h.example/c/a1XyD".into(),
            lang: String::new(),
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("Plain café"), "Plain café");
    }

    #[test]
    fn every_value_is_escaped_where_it_lands() {
        let template = "<title>{{title}}</title>{{meta}}<p>{{description}}</p><div data-campaign=\"{{key}}\" data-lang=\"{{lang}}\">";
        let rendered = render(template, &page("Win \"big\" <now>", "Tom & Jerry's", ""));
        assert!(
            rendered.contains("<title>Win &quot;big&quot; &lt;now&gt;</title>"),
            "{rendered}"
        );
        assert!(
            rendered.contains(
                r#"<meta property="og:title" content="Win &quot;big&quot; &lt;now&gt;">"#
            )
        );
        assert!(
            rendered
                .contains(r#"<meta property="og:description" content="Tom &amp; Jerry&#39;s">"#)
        );
        assert!(rendered.contains(r#"<meta name="twitter:card" content="summary">"#));
        assert!(
            rendered.contains(r#"<meta property="og:url" content="https://h.example/c/a1XyD">"#)
        );
        assert!(!rendered.contains("og:image"), "no image, no image tags");
        assert!(!rendered.contains("<now>") && !rendered.contains("{{"));
    }

    #[test]
    fn an_image_makes_a_large_card() {
        let rendered = render(
            "{{meta}}",
            &page("T", "", "https://cdn.example/a.jpg?x=1&y=2"),
        );
        assert!(rendered.contains(
            r#"<meta property="og:image" content="https://cdn.example/a.jpg?x=1&amp;y=2">"#
        ));
        assert!(rendered.contains(r#"<meta name="twitter:card" content="summary_large_image">"#));
        assert!(
            !rendered.contains("description"),
            "empty descriptions are left out"
        );
    }

    #[test]
    fn page_urls_follow_the_host_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(page_url(&headers, "k"), "");
        headers.insert(HOST, HeaderValue::from_static("h.example:8080"));
        assert_eq!(page_url(&headers, "k"), "http://h.example:8080/c/k");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(page_url(&headers, "k"), "https://h.example:8080/c/k");
    }
}
