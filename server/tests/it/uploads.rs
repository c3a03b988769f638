//! Uploads for `upload` entry methods (images only, known by their bytes, capped) and Reward
//! campaigns' coupon pools.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// A multipart body with the given `(name, filename, bytes)` fields.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "hooklinetestboundary";
    let mut body = Vec::new();
    for (name, filename, bytes) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(filename) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, fields: &[(&str, Option<&str>, &[u8])]) -> (u16, Value) {
    let (content_type, body) = multipart(fields);
    let response = app
        .client
        .post(app.url("/api/v1/public/campaigns/demo/uploads"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn an_image_is_stored_and_served_and_nothing_else_is() {
    let app = spawn_app().await;
    let (status, answer) = upload(&app, &[("file", Some("me.png"), PNG)]).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer["upload_id"].as_str().unwrap().starts_with("upl_"));
    assert_eq!(answer["content_type"], "image/png");
    let url = answer["url"].as_str().unwrap();
    assert!(url.starts_with(&app.url("/uploads/upl_")), "{url}");
    let served = app.client.get(url).send().await.unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    for (bytes, status, code) in [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".as_slice(),
            415,
            "unsupported_upload_type",
        ),
        (b"%PDF-1.7 ...".as_slice(), 415, "unsupported_upload_type"),
    ] {
        let (got, error) = upload(&app, &[("file", Some("x.png"), bytes)]).await;
        assert_eq!(
            (got, error["code"].as_str()),
            (status, Some(code)),
            "{error}"
        );
    }
    let (status, error) = upload(&app, &[("note", None, b"hello")]).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("invalid_upload"))
    );
    let (status, error) = upload(
        &app,
        &[
            ("entry_method_id", None, b"1"),
            ("file", Some("x.png"), PNG),
        ],
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("unknown_entry_method")),
        "the demo's only method is not an upload method"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM uploads").await, 1);
    let (status, _) = app.get_json("/uploads/upl_nope").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_upload_methods_size_limit_holds() {
    let app = spawn_app().await;
    let key = app.setup().await;
    let (status, method) = app
        .admin(
            "POST",
            "/api/v1/campaigns/demo/entry-methods",
            Some(&key),
            Some(json!({"type": "upload", "action": "Show us your cup", "config": {"accept": "file", "max_bytes": 64}})),
        )
        .await;
    assert_eq!(status, 201, "{method}");
    let id = method["id"].to_string();
    let mut big = PNG.to_vec();
    big.extend(std::iter::repeat_n(0_u8, 100));
    let (status, error) = upload(
        &app,
        &[
            ("entry_method_id", None, id.as_bytes()),
            ("file", Some("big.png"), &big),
        ],
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("payload_too_large")),
        "{error}"
    );
    let (status, _) = upload(
        &app,
        &[
            ("entry_method_id", None, id.as_bytes()),
            ("file", Some("ok.png"), PNG),
        ],
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn coupon_codes_fill_a_pool_once_each() {
    let app = spawn_app().await;
    let key = app.setup().await;
    let (status, pool) = app
        .admin(
            "POST",
            "/api/v1/campaigns/demo/coupons",
            Some(&key),
            Some(json!({"codes": ["SAVE-1", "SAVE-2", " ", "SAVE-1", "SAVE-3"]})),
        )
        .await;
    assert_eq!(status, 200, "{pool}");
    assert_eq!(
        (&pool["added"], &pool["available"], &pool["assigned"]),
        (&json!(3), &json!(3), &json!(0))
    );
    let (_, pool) = app
        .admin(
            "POST",
            "/api/v1/campaigns/demo/coupons",
            Some(&key),
            Some(json!({"codes": ["SAVE-3", "SAVE-4"]})),
        )
        .await;
    assert_eq!((&pool["added"], &pool["available"]), (&json!(1), &json!(4)));
    let (_, pool) = app
        .admin("GET", "/api/v1/campaigns/demo/coupons", Some(&key), None)
        .await;
    assert_eq!(pool["available"], 4);
    let (status, error) = app
        .admin(
            "POST",
            "/api/v1/campaigns/demo/coupons",
            Some(&key),
            Some(json!({"codes": ["bad\u{7}code"]})),
        )
        .await;
    assert_eq!((status, error["field"].as_str()), (422, Some("codes[0]")));
}
