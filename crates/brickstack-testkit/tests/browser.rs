//! The headless browser against a tiny page served on loopback from the test's own runtime: the
//! DOM dump shows what the server sent, a screenshot is a PNG in `target/test-artifacts/`, a page
//! that never answers ends in a timeout (the browser killed), and finding the binary follows its
//! documented order.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use brickstack_testkit::browser::{
    BrowserError, artifacts_dir, find_chromium_in, require_chromium,
};

const PAGE: &str = "<!doctype html><html><head><title>testkit page</title>\
<style>body{background:#fff;font-family:sans-serif} h1{color:#1a7f37}</style></head>\
<body><h1 id=\"greeting\" data-check=\"yes\">Hello from brickstack</h1>\
<table><tr data-row=\"1\"><td>one</td></tr></table></body></html>";

/// Serves `PAGE` at `/` on a free loopback port; the URL.
async fn serve() -> String {
    let app = Router::new().route("/", get(|| async { Html(PAGE) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn dump_dom_shows_the_served_page() {
    let Some(chromium) = require_chromium("dump_dom_shows_the_served_page") else {
        return;
    };
    let url = serve().await;
    let dom = chromium
        .dump_dom(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}\nhint: {}", e.hint()));
    assert!(
        dom.contains("<h1 id=\"greeting\" data-check=\"yes\">Hello from brickstack</h1>"),
        "{dom}"
    );
    assert!(dom.contains("<title>testkit page</title>"), "{dom}");
    // The browser's DOM, not the bytes sent: it added the `<tbody>` the source left out.
    assert!(dom.contains("<tbody><tr data-row=\"1\">"), "{dom}");
}

#[tokio::test]
async fn screenshot_writes_a_png_into_the_artifacts() {
    let Some(chromium) = require_chromium("screenshot_writes_a_png_into_the_artifacts") else {
        return;
    };
    let url = serve().await;
    let png = artifacts_dir().unwrap().join("testkit-browser.png");
    chromium
        .screenshot(&url, &png, 640, 360)
        .await
        .unwrap_or_else(|e| panic!("{e}\nhint: {}", e.hint()));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // The IHDR chunk: width and height, big-endian, at bytes 16..24.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (640, 360));
    assert!(png.starts_with(artifacts_dir().unwrap()));
}

#[tokio::test]
async fn a_page_that_never_answers_times_out_and_the_browser_is_killed() {
    let Some(chromium) =
        require_chromium("a_page_that_never_answers_times_out_and_the_browser_is_killed")
    else {
        return;
    };
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let result = chromium
        .with_timeout(Duration::from_secs(3))
        .dump_dom(&url)
        .await;
    match result {
        Err(BrowserError::Timeout { seconds: 3, .. }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run outlived its deadline: {:?}",
        started.elapsed()
    );
}

#[test]
fn finding_chromium_follows_the_documented_order() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("chromium");
    std::fs::write(&fake, "").unwrap();
    let missing = dir.path().join("nope");
    // The variable wins, and a wrong value is an error, not a fallback.
    assert_eq!(find_chromium_in(Some(&fake), &[]).unwrap(), fake);
    match find_chromium_in(Some(&missing), std::slice::from_ref(&fake)) {
        Err(BrowserError::NotFound { searched }) => {
            assert!(searched.contains("BRICKSTACK_CHROMIUM"), "{searched}")
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Without it: the fixed places first, then PATH.
    let found = find_chromium_in(None, &[missing.clone(), fake.clone()]).unwrap();
    let fixed: Vec<PathBuf> = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(found, fixed.first().cloned().unwrap_or(fake));
}
