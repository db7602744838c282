//! The HTML pages the server serves, and their Content-Security-Policy.
//!
//! A bundler's `index.html` would start the Wasm with an inline script, which a strict CSP
//! forbids. So the server writes its own small pages: each loads `boot.js` (an external module that
//! imports the wasm-bindgen glue) and the widget's stylesheet, and carries no inline script
//! or style. The customer bundle runs at `/widget` (inside the iframe that `embed.js` opens),
//! the agent bundle at `/agent`: two binaries of the widget crate, one stylesheet.

/// Served at `/static/boot.js`: starts the customer bundle (stable file names from `cargo
/// xtask build-widget`; the version query defeats stale caches).
pub const BOOT_JS: &str = "import init from './kefu-widget.js';\ninit({ module_or_path: new URL('./kefu-widget_bg.wasm', import.meta.url) });\n";

/// Served at `/static/boot-agent.js`: starts the agent bundle, a second binary of the same
/// crate, so visitors never download the agent workspace.
pub const BOOT_AGENT_JS: &str = "import init from './kefu-agent.js';\ninit({ module_or_path: new URL('./kefu-agent_bg.wasm', import.meta.url) });\n";

/// The loader a site owner's script tag points at, minified: `embed/embed.js` is the source,
/// `cargo xtask minify-embed` makes `embed/embed.min.js` from it (see the test below).
pub const EMBED_JS: &str = include_str!("../../embed/embed.min.js");

/// Which face of the bundle a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppPage {
    /// The customer panel, inside the iframe on the host page.
    Widget,
    /// The agent workspace.
    Agent,
}

/// The HTML shell of an app page. `version` is appended to asset URLs so a new build is
/// fetched at once while an unchanged one stays cached.
pub fn app_page(page: AppPage, version: &str) -> String {
    // The Wasm is preloaded with the JS glue, instead of being asked for only once the glue
    // has run: the fetch starts with the page. Its URL is the one the boot script asks for.
    let (title, lang, glue, wasm, boot) = match page {
        AppPage::Widget => (
            "Kefu",
            "zh-CN",
            "kefu-widget.js",
            "kefu-widget_bg.wasm",
            "boot.js",
        ),
        AppPage::Agent => (
            "Kefu 客服工作台 · Agent workspace",
            "zh-CN",
            "kefu-agent.js",
            "kefu-agent_bg.wasm",
            "boot-agent.js",
        ),
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>{title}</title>
<link rel="stylesheet" href="/static/kefu.css?v={version}">
<link rel="modulepreload" href="/static/{glue}?v={version}">
<link rel="preload" href="/static/{wasm}" as="fetch" type="application/wasm" crossorigin>
<script type="module" src="/static/{boot}?v={version}"></script>
</head>
<body></body>
</html>
"#
    )
}

/// The demo host page: a plain page with nothing but the pasted script tag, as a site owner
/// would have it.
pub fn demo_page(public_url: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kefu Demo Shop</title>
</head>
<body>
<h1>Kefu Demo Shop</h1>
<p>这是一个演示网页：右下角的按钮就是站长粘贴的一行代码。This is a demo host page: the button in the corner comes from the one pasted script tag.</p>
<pre>{snippet}</pre>
{tag}
</body>
</html>
"#,
        snippet = escape_html(&embed_snippet(public_url)),
        tag = embed_snippet(public_url),
    )
}

/// The exact tag a site owner pastes.
pub fn embed_snippet(public_url: &str) -> String {
    format!(r#"<script src="{public_url}/embed.js" data-site="demo" async></script>"#)
}

/// The Content-Security-Policy of the app pages: no inline script or style anywhere, the
/// WebSocket only to this server, and framing only by the allowed origins.
pub fn app_csp(page: AppPage, frame_ancestors: &[String]) -> String {
    let ancestors = match page {
        AppPage::Widget if !frame_ancestors.is_empty() => {
            format!("'self' {}", frame_ancestors.join(" "))
        }
        _ => "'self'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    )
}

/// The CSP of the demo host page: what a strict site looks like, with the loader allowed.
pub const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; frame-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/// Escapes text for an HTML text node or attribute value.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {

    /// `embed.min.js` must come from the current `embed.js`: its first line names the
    /// source's fingerprint, as `cargo xtask minify-embed` wrote it.
    #[test]
    fn the_served_loader_is_minified_from_the_current_source() {
        let source = include_bytes!("../../embed/embed.js");
        let fingerprint = source.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
        let header =
            format!("/*! Kefu loader: minified embed/embed.js, fnv1a64 {fingerprint:016x} */");
        assert_eq!(
            EMBED_JS.lines().next(),
            Some(header.as_str()),
            "embed/embed.js changed: run `cargo xtask minify-embed` and commit embed/embed.min.js"
        );
    }

    use super::*;

    #[test]
    fn app_pages_have_no_inline_script_or_style() {
        for page in [AppPage::Widget, AppPage::Agent] {
            let html = app_page(page, "1");
            assert!(!html.contains("<style"), "{html}");
            assert!(!html.contains(" style="), "{html}");
            for script in html.split("<script").skip(1) {
                assert!(
                    script.trim_start().starts_with("type=\"module\" src="),
                    "inline script in {html}"
                );
            }
        }
    }

    #[test]
    fn only_the_widget_may_be_framed_by_other_origins() {
        let origins = vec!["https://shop.example".to_owned()];
        assert!(
            app_csp(AppPage::Widget, &origins)
                .ends_with("frame-ancestors 'self' https://shop.example")
        );
        assert!(app_csp(AppPage::Agent, &origins).ends_with("frame-ancestors 'self'"));
    }

    #[test]
    fn the_demo_page_shows_the_snippet_as_text_and_runs_it_once() {
        let html = demo_page("http://127.0.0.1:8080");
        assert_eq!(html.matches("<script src=").count(), 1);
        assert!(html.contains("&lt;script src=&quot;http://127.0.0.1:8080/embed.js&quot;"));
    }
}
