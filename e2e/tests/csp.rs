//! Content-Security-Policy, in real Chromium: the panel (`/widget`) and the agent workspace
//! (`/agent`) are served with a strict policy — no inline script, no `unsafe-inline` or
//! `unsafe-eval`, only `'wasm-unsafe-eval'` for the Wasm — and work under it without a single
//! violation; the site owner's page works with exactly the directives README.md lists for
//! the loader; and a page of an origin that is not allowed cannot frame the panel.

use kefu_e2e::{Agent, Browser, Customer, KefuServer, ServerOptions, TestSite};

/// `kefu.toml` allowing the test site's origin to embed the widget.
pub fn settings_allowing(site: &TestSite) -> String {
    format!(
        "identity_secret = \"e2e-secret\"\nallowed_origins = [\"{}\"]\n",
        site.origin()
    )
}

/// The CSP a site owner's page has after adding what README.md's "Sites with a
/// Content-Security-Policy" section asks for, and nothing else.
fn site_owner_csp(kefu: &str) -> String {
    format!(
        "default-src 'none'; script-src {kefu}; frame-src {kefu}; base-uri 'none'; form-action 'none'"
    )
}

/// A shop page with the pasted tag and nothing else.
fn shop_page(kefu: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>Shop</title></head>\n\
         <body><h1>Shop</h1>\n<script src=\"{kefu}/embed.js\" data-site=\"demo\" async></script>\n</body></html>\n"
    )
}

/// What the browser logged about Content-Security-Policy since the last call.
fn csp_errors(browser: &Browser) -> Vec<String> {
    browser
        .console_errors()
        .into_iter()
        .filter(|error| error.contains("Content Security Policy"))
        .collect()
}

fn csp_header(url: &str) -> String {
    let response = ureq::get(url)
        .call()
        .unwrap_or_else(|error| panic!("GET {url}: {error}"));
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{url} has no CSP"));
    csp.to_str().expect("an ASCII header").to_owned()
}

/// Both app pages carry a strict CSP (checked directive by directive) and start from an
/// external boot script; a customer on a site owner's page with README's directives and an
/// agent in the workspace chat both ways, and neither browser reports any CSP violation. The
/// check can fail: an inline script slipped into the panel is refused, and that is reported.
#[test]
fn the_widget_and_the_workspace_work_under_a_strict_csp_without_violations() {
    let site = TestSite::start();
    let server = KefuServer::start_with(
        ServerOptions::default().file("kefu.toml", settings_allowing(&site)),
    );
    for (path, ancestors) in [
        (
            "/widget",
            format!("frame-ancestors 'self' {}", site.origin()),
        ),
        ("/agent", "frame-ancestors 'self'".to_owned()),
    ] {
        let csp = csp_header(&server.url(path));
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        for wanted in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            ancestors.as_str(),
        ] {
            assert!(
                directives.contains(&wanted),
                "{path}: {wanted:?} missing in {csp}"
            );
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
            "{path}: {csp}"
        );
        let (_, html) = server.get(path);
        for script in html.split("<script").skip(1) {
            let tag = &script[..script.find('>').expect("a closed tag")];
            assert!(
                tag.contains(" src=\"/static/"),
                "{path}: an inline script: <script{tag}>"
            );
            assert!(
                script[tag.len() + 1..].starts_with("</script>"),
                "{path}: a script with a body"
            );
        }
    }

    let kefu = server.base_url();
    site.page("/shop", shop_page(&kefu), Some(&site_owner_csp(&kefu)));
    let agent = Agent::online(&server, "mei", "小美", 5);
    let customer = Customer {
        browser: Browser::start(),
        launcher: "在线客服".to_owned(),
    };
    customer.browser.goto(&format!("{}/shop", site.origin()));
    customer.open_panel();
    customer.say_and_wait("转人工");
    customer.wait_for_status("小美");
    agent.reply("转人工", "您好，请问有什么可以帮您？");
    customer.browser.wait_for_text("您好，请问有什么可以帮您？");
    customer.say_and_wait("谢谢");
    agent.browser.wait_for_text("谢谢");
    // The launcher's badge and the close button exercise the loader's styles (CSSOM).
    customer
        .browser
        .find_by_role("button", "关闭对话窗口")
        .click();
    customer.browser.switch_to_top();
    agent.reply("谢谢", "不客气");
    customer
        .browser
        .find_by_role("button", "在线客服 (1)")
        .click();
    customer.enter_panel();
    customer.browser.wait_for_text("不客气");
    assert_eq!(
        csp_errors(&customer.browser),
        Vec::<String>::new(),
        "the customer's browser"
    );
    assert_eq!(
        csp_errors(&agent.browser),
        Vec::<String>::new(),
        "the agent's browser"
    );

    let ran = customer.browser.execute(
        "const script = document.createElement('script');
         script.textContent = 'window.inlineRan = true;';
         document.head.appendChild(script);
         return window.inlineRan === true;",
        &[],
    );
    assert_eq!(
        ran.as_bool(),
        Some(false),
        "an inline script ran in the panel"
    );
    let reported =
        customer
            .browser
            .wait_for("the browser reports the refused inline script", || {
                let errors = csp_errors(&customer.browser);
                (!errors.is_empty()).then_some(errors)
            });
    assert!(
        reported.iter().any(|error| error.contains("script-src")),
        "the refused inline script is reported: {reported:?}"
    );
}

/// A page of an origin not in `allowed_origins` (the same site under `localhost` instead of
/// `127.0.0.1`) pastes the tag: the launcher appears, but the browser refuses to show the
/// panel in its frame (`frame-ancestors`), so no panel and no connection; the same page from
/// the allowed origin gets the panel. The foreign page's own script cannot open the customer
/// WebSocket either (the server checks Origin); the allowed page's can.
#[test]
fn a_page_of_an_origin_not_allowed_cannot_frame_the_panel() {
    let site = TestSite::start();
    let server = KefuServer::start_with(
        ServerOptions::default().file("kefu.toml", settings_allowing(&site)),
    );
    site.page("/shop", shop_page(&server.base_url()), None);

    let browser = Browser::start();
    browser.goto(&format!("{}/shop", site.foreign_origin()));
    browser.find_by_role("button", "在线客服").click();
    let refused = browser.wait_for("the browser reports the refused frame", || {
        let errors = csp_errors(&browser);
        (!errors.is_empty()).then_some(errors)
    });
    assert!(
        refused
            .iter()
            .any(|error| error.contains("frame-ancestors")),
        "{refused:?}"
    );
    let frame = browser.find_css("iframe");
    browser.switch_to_frame(&frame);
    // The refusal is final once the frame shows the browser's own error page instead of the
    // panel ("127.0.0.1 refused to connect"): only then is it certain the panel never comes.
    browser.wait_until(
        "the frame shows the browser's refusal page",
        "return location.href.startsWith('chrome-error:');",
    );
    let panel = browser.execute("return document.querySelector('[role=dialog]') !== null || document.querySelector('textarea') !== null;", &[]);
    assert_eq!(
        panel.as_bool(),
        Some(false),
        "the panel rendered inside a foreign page"
    );
    browser.switch_to_top();
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("kefu_customer_connections 0"),
        "the refused frame connected:\n{metrics}"
    );
    // Nor may the page's own script open the customer socket (cross-site WebSocket hijacking).
    let socket_url = format!(
        "ws://127.0.0.1:{}/ws/customer",
        server.base_url().rsplit(':').next().unwrap_or_default()
    );
    assert_eq!(try_socket(&browser, &socket_url), "refused");

    // The control: the same page from the allowed origin shows the panel and may connect.
    let allowed = Customer {
        browser,
        launcher: "在线客服".to_owned(),
    };
    allowed.browser.goto(&format!("{}/shop", site.origin()));
    assert_eq!(try_socket(&allowed.browser, &socket_url), "open");
    allowed.open_panel();
    allowed.browser.find_by_role("dialog", "在线客服");
}

/// Opens a WebSocket from the current page's script: `open` or `refused`.
fn try_socket(browser: &Browser, url: &str) -> String {
    browser.execute(
        "window.socketAttempt = 'pending';
         const socket = new WebSocket(arguments[0]);
         socket.onopen = () => { window.socketAttempt = 'open'; socket.close(); };
         socket.onerror = () => { window.socketAttempt = 'refused'; };",
        &[url.into()],
    );
    browser.wait_until(
        "the socket attempt is over",
        "return window.socketAttempt !== 'pending';",
    );
    browser
        .execute("return window.socketAttempt;", &[])
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
