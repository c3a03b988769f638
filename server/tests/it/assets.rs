//! The demo page, `www/` and the widget bundle.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_demo_page_and_www_files_are_served() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("Hookline demo"));
    let css = app.get("/www/site.css").await;
    assert_eq!(css.status().as_u16(), 200);
    assert_eq!(app.get("/www/missing.css").await.status().as_u16(), 404);
}

#[tokio::test]
async fn a_missing_bundle_explains_itself_in_the_console() {
    let app = spawn_app().await;
    let loader = app.get("/widget/hookline.js").await;
    assert_eq!(loader.status().as_u16(), 200);
    assert!(
        loader.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let script = loader.text().await.unwrap();
    assert!(
        script.contains("console.error") && script.contains("cargo xtask widget"),
        "{script}"
    );
    assert_eq!(app.get("/widget/other.js").await.status().as_u16(), 404);
}

#[tokio::test]
async fn the_bundle_is_served_uncached_with_its_types() {
    let app = spawn_app().await;
    std::fs::write(
        app.widget_dir.join("hookline.js"),
        "window.Hookline = window.Hookline || [];",
    )
    .unwrap();
    std::fs::write(
        app.widget_dir.join("hookline_widget_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let loader = app.get("/widget/hookline.js").await;
    assert_eq!(loader.status().as_u16(), 200);
    assert_eq!(loader.headers()["cache-control"], "no-cache");
    assert!(loader.text().await.unwrap().contains("window.Hookline"));
    let wasm = app.get("/widget/hookline_widget_bg.wasm").await;
    assert_eq!(wasm.status().as_u16(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(wasm.headers()["cache-control"], "no-cache");
}
