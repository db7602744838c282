//! The small, safe formatting a robot answer may use: links `[text](https://…)`, line breaks
//! and `- ` lists. Nothing else.
//!
//! The parser turns the answer into plain data ([`Block`]s of [`Inline`]s); the panel builds
//! DOM nodes from it with Leptos, so the text always ends up in text nodes and a link's
//! target in an `href` attribute set through the DOM. HTML in the text stays literal text.
//! A link is kept only when its target is an absolute `http://` or `https://` URL without
//! spaces or control characters; anything else (`javascript:`, `data:`, relative paths) is
//! shown as the literal text the knowledge base contains.
//!
//! Only robot answers go through here: what customers and agents type is always plain text.

/// A piece of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// A link to an `http`/`https` URL (checked by [`safe_href`]).
    Link {
        text: String,
        href: String,
    },
}

/// A paragraph or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Consecutive lines of text; each inner `Vec` is one line (rendered with line breaks
    /// between them).
    Paragraph(Vec<Vec<Inline>>),
    /// Consecutive lines starting with `- `; each inner `Vec` is one item.
    List(Vec<Vec<Inline>>),
}

/// A robot answer as one line of plain text, for a preview: link texts without their
/// markdown, list items after a "·", lines joined by spaces.
pub fn plain_text(text: &str) -> String {
    let inline_text = |line: Vec<Inline>| {
        line.into_iter()
            .map(|inline| match inline {
                Inline::Text(text) | Inline::Link { text, .. } => text,
            })
            .collect::<String>()
    };
    let mut parts = Vec::new();
    for block in parse(text) {
        match block {
            Block::Paragraph(lines) => parts.extend(lines.into_iter().map(inline_text)),
            Block::List(items) => parts.extend(
                items
                    .into_iter()
                    .map(|item| format!("· {}", inline_text(item))),
            ),
        }
    }
    parts.join(" ")
}

/// Parses a robot answer. Empty lines separate paragraphs; `- ` (or `* `, `• `) at the start
/// of a line makes a list item.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut after_blank_line = true;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.trim().is_empty() {
            after_blank_line = true;
            continue;
        }
        let item = ["- ", "* ", "• "]
            .iter()
            .find_map(|marker| trimmed.strip_prefix(marker));
        match (item, blocks.last_mut()) {
            (Some(item), Some(Block::List(items))) => items.push(inlines(item.trim())),
            (Some(item), _) => blocks.push(Block::List(vec![inlines(item.trim())])),
            (None, Some(Block::Paragraph(lines))) if !after_blank_line => {
                lines.push(inlines(line.trim_end()))
            }
            (None, _) => blocks.push(Block::Paragraph(vec![inlines(line.trim_end())])),
        }
        after_blank_line = false;
    }
    blocks
}

/// Splits one line into text and links.
pub fn inlines(line: &str) -> Vec<Inline> {
    let mut result: Vec<Inline> = Vec::new();
    let mut text = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let candidate = &rest[open..];
        match link_at(candidate) {
            Some((link_text, href, consumed)) => {
                if !text.is_empty() {
                    result.push(Inline::Text(std::mem::take(&mut text)));
                }
                result.push(Inline::Link {
                    text: link_text.to_owned(),
                    href,
                });
                rest = &candidate[consumed..];
            }
            None => {
                text.push('[');
                rest = &candidate[1..];
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        result.push(Inline::Text(text));
    }
    result
}

/// `[text](url)` at the start of `candidate`: the text, the checked URL and the bytes used.
/// `None` when it is not a link or the URL is not safe (the caller keeps it as text).
fn link_at(candidate: &str) -> Option<(&str, String, usize)> {
    let close = candidate.find(']')?;
    let link_text = &candidate[1..close];
    if link_text.trim().is_empty() || link_text.contains('[') {
        return None;
    }
    let after = candidate[close + 1..].strip_prefix('(')?;
    let end = after.find(')')?;
    let href = safe_href(&after[..end])?;
    Some((link_text, href, close + 1 + 1 + end + 1))
}

/// The URL if it is an absolute `http:` or `https:` URL with a host and without spaces,
/// quotes, angle brackets or control characters.
pub fn safe_href(url: &str) -> Option<String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let host_ok = rest
        .chars()
        .next()
        .is_some_and(|first| first.is_alphanumeric() || first == '[');
    let chars_ok = !url.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`')
    });
    (host_ok && chars_ok).then(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn plain_text_keeps_the_words_of_links_and_lists() {
        assert_eq!(
            plain_text("详见[退货政策](https://example.com/returns)。\n- 一\n- 二"),
            "详见退货政策。 · 一 · 二"
        );
    }

    fn text(text: &str) -> Inline {
        Inline::Text(text.to_owned())
    }

    fn link(text: &str, href: &str) -> Inline {
        Inline::Link {
            text: text.to_owned(),
            href: href.to_owned(),
        }
    }

    #[test]
    fn plain_text_is_one_paragraph_of_one_line() {
        assert_eq!(parse("你好"), [Block::Paragraph(vec![vec![text("你好")]])]);
    }

    #[test]
    fn http_and_https_links_are_links() {
        assert_eq!(
            inlines(
                "详见[退货政策](https://example.com/returns)。或 [docs](HTTP://example.com/a?b=1#c)"
            ),
            [
                text("详见"),
                link("退货政策", "https://example.com/returns"),
                text("。或 "),
                link("docs", "HTTP://example.com/a?b=1#c")
            ]
        );
    }

    #[test]
    fn unsafe_or_malformed_links_stay_literal_text() {
        for line in [
            "[点我](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](data:text/html,<b>)",
            "[x](/relative)",
            "[x](//evil.example)",
            "[x](https://a.example/\"onmouseover=\"x)",
            "[x](https:// spaced)",
            "[x](https://)",
            "[](https://example.com)",
            "[x] (https://example.com)",
            "[unclosed(https://example.com)",
            "[x](https://example.com",
        ] {
            assert_eq!(inlines(line), [text(line)], "{line}");
        }
    }

    #[test]
    fn html_stays_text() {
        assert_eq!(
            inlines("<img src=x onerror=alert(1)>"),
            [text("<img src=x onerror=alert(1)>")]
        );
    }

    #[test]
    fn brackets_before_a_link_do_not_hide_it() {
        assert_eq!(
            inlines("[注意] 见[这里](https://example.com)"),
            [text("[注意] 见"), link("这里", "https://example.com")]
        );
    }

    #[test]
    fn lines_lists_and_paragraphs() {
        let answer = "到账时间取决于支付渠道：\n- 微信 / 支付宝：1–3 个工作日\n- 银行卡：[3–7 天](https://example.com/bank)\n之后\n再说\n\n新段落";
        assert_eq!(
            parse(answer),
            [
                Block::Paragraph(vec![vec![text("到账时间取决于支付渠道：")]]),
                Block::List(vec![
                    vec![text("微信 / 支付宝：1–3 个工作日")],
                    vec![text("银行卡："), link("3–7 天", "https://example.com/bank")]
                ]),
                Block::Paragraph(vec![vec![text("之后")], vec![text("再说")]]),
                Block::Paragraph(vec![vec![text("新段落")]]),
            ]
        );
    }

    #[test]
    fn a_dash_without_a_space_is_not_a_list() {
        assert_eq!(
            parse("-5 度"),
            [Block::Paragraph(vec![vec![text("-5 度")]])]
        );
    }
}
