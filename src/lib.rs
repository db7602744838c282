//! The Kefu widget: one Leptos (CSR) crate, two faces, each its own Wasm binary.
//!
//! * Customer mode (`src/main.rs`, binary `kefu-widget`, served at `/widget` inside the
//!   iframe that `embed.js` opens): [`customer`] — the chat panel, its protocol session and
//!   its bridge to the host page.
//! * Agent mode (`src/bin/kefu-agent.rs`, binary `kefu-agent`, served at `/agent`): [`agent`]
//!   — the agent workspace; [`admin`] — its settings area, for admins.
//!
//! Two binaries of one crate, so that visitors download only the customer side: the agent
//! workspace is most of the code and none of their business. `cargo xtask build-widget` builds
//! both.
//!
//! Shared: [`transcript`] (a conversation's log, folded with kefu-core's reducer, and how it
//! reads), [`socket`] (a reconnecting WebSocket), [`i18n`] (every visible string in zh-CN and
//! en), [`follow`] (transcripts that stay at their newest line), [`richtext`] (the safe formatting of robot answers), [`storage`], [`typing`] (typing
//! indicators both ways). Protocol sessions
//! are plain data with `on_frame` methods, tested without a page; components only read
//! signals and send frames.

pub mod admin;
pub mod agent;
pub mod customer;
pub mod follow;
pub mod i18n;
pub mod richtext;
pub mod socket;
pub mod storage;
pub mod transcript;
pub mod typing;

/// What the page's URL tells the app (set by `embed.js` on the iframe's URL).
#[derive(Debug, Clone, Default)]
pub struct PageParams {
    pub lang: Option<String>,
    pub group: Option<String>,
    /// The host page's origin, the only one the panel talks to by postMessage.
    pub host: Option<String>,
    /// `local` runs the in-browser backend (see [`customer::backend`]).
    pub backend: Option<String>,
}

/// Reads [`PageParams`] from the current URL.
pub fn page_params() -> PageParams {
    let search = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return PageParams::default();
    };
    let get = |key: &str| params.get(key).filter(|value| !value.is_empty());
    PageParams {
        lang: get("lang"),
        group: get("group"),
        host: get("host"),
        backend: get("backend"),
    }
}

/// The browser's preferred language tag.
pub fn browser_language() -> String {
    web_sys::window()
        .and_then(|window| window.navigator().language())
        .unwrap_or_else(|| "zh-CN".to_owned())
}

// The unit tests of the pure modules run in the same headless browser as the component tests.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
