//! What an agent needs to know from a `User-Agent` header: the browser and the system, as
//! a short label such as `Chrome 131 · Windows`, or `WeChat 8.0 · iOS 17.5`.
//!
//! Not a full parser: it recognises the browsers and systems customers of Chinese and
//! international sites use, and says `unknown` for the rest rather than guessing. The header
//! is untrusted input, so the label is built only from recognised names and version digits.

/// The label for a `User-Agent` header; `None` when neither browser nor system is recognised.
pub fn describe(user_agent: &str) -> Option<String> {
    let browser = browser(user_agent);
    let system = system(user_agent);
    match (browser, system) {
        (None, None) => None,
        (browser, system) => Some(format!(
            "{} · {}",
            browser.unwrap_or_else(|| "unknown".to_owned()),
            system.unwrap_or_else(|| "unknown".to_owned())
        )),
    }
}

/// Browsers in the order to test them: in-app browsers and Chromium derivatives first, since
/// their headers also name Chrome and Safari.
const BROWSERS: &[(&str, &str)] = &[
    ("MicroMessenger/", "WeChat"),
    ("DingTalk/", "DingTalk"),
    ("AlipayClient/", "Alipay"),
    ("QQBrowser/", "QQ Browser"),
    ("UCBrowser/", "UC Browser"),
    ("Quark/", "Quark"),
    ("HuaweiBrowser/", "Huawei Browser"),
    ("MiuiBrowser/", "Mi Browser"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("YaBrowser/", "Yandex"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
];

fn browser(user_agent: &str) -> Option<String> {
    for (token, name) in BROWSERS {
        if let Some(version) = version_after(user_agent, token) {
            return Some(with_version(name, &version, 1));
        }
    }
    // Safari says `Version/17.5 … Safari/605.1.15`: the product version is the first.
    if user_agent.contains("Safari/") {
        let version = version_after(user_agent, "Version/").unwrap_or_default();
        return Some(with_version("Safari", &version, 2));
    }
    None
}

fn system(user_agent: &str) -> Option<String> {
    if user_agent.contains("HarmonyOS") || user_agent.contains("OpenHarmony") {
        return Some("HarmonyOS".to_owned());
    }
    if user_agent.contains("iPhone") || user_agent.contains("iPad") || user_agent.contains("iPod") {
        // `CPU iPhone OS 17_5 like Mac OS X`
        let version = version_after(user_agent, " OS ")
            .map(|version| version.replace('_', "."))
            .unwrap_or_default();
        return Some(with_version("iOS", &version, 2));
    }
    if let Some(version) = version_after(user_agent, "Android ") {
        return Some(with_version("Android", &version, 1));
    }
    if user_agent.contains("Android") {
        return Some("Android".to_owned());
    }
    if user_agent.contains("Windows") {
        return Some("Windows".to_owned());
    }
    if user_agent.contains("Mac OS X") || user_agent.contains("Macintosh") {
        return Some("macOS".to_owned());
    }
    if user_agent.contains("CrOS") {
        return Some("ChromeOS".to_owned());
    }
    if user_agent.contains("Linux") {
        return Some("Linux".to_owned());
    }
    None
}

/// The digits and dots (or underscores) right after `token`, if the token is present.
fn version_after(user_agent: &str, token: &str) -> Option<String> {
    let start = user_agent.find(token)? + token.len();
    Some(
        user_agent[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
            .take(16)
            .collect(),
    )
}

/// `name` with the first `parts` numbers of `version` (`Chrome 131`, `iOS 17.5`).
fn with_version(name: &str, version: &str, parts: usize) -> String {
    let short: Vec<&str> = version
        .split(['.', '_'])
        .filter(|part| !part.is_empty())
        .take(parts)
        .collect();
    if short.is_empty() {
        name.to_owned()
    } else {
        format!("{name} {}", short.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_desktop_and_mobile_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131 · Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131 · Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari 17.5 · macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN",
                "WeChat 8 · iOS 17.5",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; 23127PN0CC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 Mobile Safari/537.36",
                "Chrome 120 · Android 14",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox 133 · Linux",
            ),
        ];
        for (user_agent, label) in cases {
            assert_eq!(describe(user_agent).as_deref(), Some(label), "{user_agent}");
        }
    }

    #[test]
    fn unknown_or_hostile_headers_give_no_label_or_only_known_words() {
        assert_eq!(describe(""), None);
        assert_eq!(describe("curl/8.5.0"), None);
        let hostile = describe("<script>alert(1)</script> Chrome/<img src=x> Windows").unwrap();
        assert_eq!(hostile, "Chrome · Windows");
    }
}
