//! The status page (`/`): server-rendered HTML from a [`StatusView`], no script.

use crate::view::StatusView;

/// The page for `view`, refreshing itself every `refresh_seconds`.
pub fn render_status_page(view: &StatusView, refresh_seconds: u64) -> String {
    // Replaced by the full page (branch `page`); kept minimal so the crate builds meanwhile.
    format!(
        "<!doctype html><html><head><meta http-equiv=\"refresh\" content=\"{refresh_seconds}\"><title>brickstack monitor</title></head><body><h1>{}</h1></body></html>",
        view.environment
    )
}
