//! Text folding shared by every rule that compares what a person typed.
//!
//! Customers type on phones with Chinese input methods, so the same word arrives in
//! full-width (`ＨＵＭＡＮ`, `　结束会话　`) or half-width form, in any case, with stray
//! spaces. Every comparison in the core (the end phrase, transfer keywords, the knowledge
//! robot) goes through [`normalize`] so that they all agree on what "the same text" means.

/// The phrase a customer types to leave a human session (from the guide: 输入"结束会话"可以退出人工).
pub const END_PHRASE: &str = "结束会话";

/// The end phrase of each language the widget speaks (`zh-CN`, `en`), as [`end_phrase`]
/// gives it; a customer may type any of them, whatever the panel's language.
pub const END_PHRASES: [(&str, &str); 2] = [("zh-CN", END_PHRASE), ("en", "end chat")];

/// The end phrase to tell a customer of `locale` about: English for an `en…` tag, else
/// `结束会话`.
pub fn end_phrase(locale: &str) -> &'static str {
    if locale.trim().to_ascii_lowercase().starts_with("en") {
        END_PHRASES[1].1
    } else {
        END_PHRASE
    }
}

/// Folds one character: full-width ASCII to half-width, the ideographic space to a plain
/// space, ASCII letters to lower case. Other characters are returned unchanged.
pub fn fold_char(character: char) -> char {
    match character {
        // U+FF01..=U+FF5E mirror U+0021..=U+007E at a fixed offset.
        '\u{FF01}'..='\u{FF5E}' => {
            let folded = char::from_u32(character as u32 - 0xFEE0).unwrap_or(character);
            folded.to_ascii_lowercase()
        }
        '\u{3000}' => ' ',
        _ => character.to_ascii_lowercase(),
    }
}

/// Folds every character with [`fold_char`], turns every run of whitespace into one plain
/// space and trims both ends.
///
/// Punctuation is kept: the end phrase must match exactly, and the robot tokenizer drops
/// punctuation itself.
pub fn normalize(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for character in text.chars().map(fold_char) {
        if character.is_whitespace() {
            pending_space = !normalized.is_empty();
            continue;
        }
        if pending_space {
            normalized.push(' ');
            pending_space = false;
        }
        normalized.push(character);
    }
    normalized
}

/// True when the customer typed exactly an end phrase ([`END_PHRASES`]: `结束会话`, `end
/// chat` in any case), ignoring surrounding whitespace (half- or full-width). Anything else,
/// such as `我不想结束会话` or `please end chat`, is an ordinary message: ending a human
/// session by accident would be worse than asking twice.
pub fn is_end_phrase(text: &str) -> bool {
    let text = normalize(text);
    END_PHRASES.iter().any(|(_, phrase)| text == *phrase)
}

/// Short replies that acknowledge rather than ask: "好的", "谢谢", "嗯嗯", "ok", "thanks!".
/// The robot does not answer them with its no-answer reply, and they do not count as
/// misses towards a transfer (a customer saying "thank you" twice is not stuck).
const ACKNOWLEDGEMENTS: &[&str] = &[
    "好",
    "好的",
    "好滴",
    "好吧",
    "好嘞",
    "好哒",
    "行",
    "行吧",
    "可以",
    "嗯",
    "嗯嗯",
    "恩",
    "恩恩",
    "哦",
    "哦哦",
    "噢",
    "喔",
    "收到",
    "了解",
    "明白",
    "明白了",
    "知道了",
    "懂了",
    "谢谢",
    "谢谢你",
    "谢谢您",
    "谢了",
    "多谢",
    "感谢",
    "非常感谢",
    "谢谢啦",
    "好的谢谢",
    "ok",
    "okay",
    "k",
    "kk",
    "thanks",
    "thank you",
    "thx",
    "ty",
    "got it",
    "cool",
    "great",
    "fine",
    "alright",
    "sure",
    "ok thanks",
    "okay thanks",
];

/// Whether `text` only acknowledges (see [`ACKNOWLEDGEMENTS`]), ignoring case, width,
/// spaces, punctuation and emoji such as "好的！" or "thanks 🙏"; a question mark makes it
/// a question ("嗯？").
pub fn is_acknowledgement(text: &str) -> bool {
    let normalized = normalize(text).to_lowercase();
    // "嗯？" and "ok?" ask something.
    if normalized.contains('?') {
        return false;
    }
    let words: Vec<&str> = normalized
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    if words.is_empty() {
        return false;
    }
    // "ok, thanks" and "好的，谢谢": punctuation between words is a space in English and
    // nothing in Chinese.
    let (spaced, tight) = (words.join(" "), words.concat());
    ACKNOWLEDGEMENTS
        .iter()
        .any(|phrase| *phrase == spaced || *phrase == tight)
}

/// True when `keyword` occurs in `text` (both are normalized here).
///
/// Keywords made only of ASCII letters, digits and spaces (`human`, `agent`) must match
/// whole words, so that `agents` or `humanity` do not transfer; other keywords (`转人工`)
/// match anywhere, because Chinese has no spaces between words.
pub fn contains_keyword(text: &str, keyword: &str) -> bool {
    let text = normalize(text);
    let keyword = normalize(keyword);
    if keyword.is_empty() {
        return false;
    }
    let is_ascii_word = keyword
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || character == ' ');
    if !is_ascii_word {
        return text.contains(&keyword);
    }
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find(&keyword) {
        let start = search_from + found;
        let end = start + keyword.len();
        let boundary_before = text[..start]
            .chars()
            .next_back()
            .is_none_or(|character| !character.is_ascii_alphanumeric());
        let boundary_after = text[end..]
            .chars()
            .next()
            .is_none_or(|character| !character.is_ascii_alphanumeric());
        if boundary_before && boundary_after {
            return true;
        }
        // Keywords are ASCII here, so `start + 1` is a character boundary of the match.
        search_from = start + 1;
    }
    false
}

/// Number of Unicode scalar values, the unit of every text size limit in the protocol.
pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {

    #[test]
    fn acknowledgements_are_recognised_with_punctuation_width_and_emoji() {
        for text in [
            "好的",
            "好的！",
            "谢谢",
            "谢谢～",
            "嗯嗯",
            "收到。",
            "好的，谢谢",
            "OK",
            "ｏｋ",
            "Thanks!",
            "thank you 🙏",
            "ok, thanks",
        ] {
            assert!(is_acknowledgement(text), "{text:?}");
        }
    }

    #[test]
    fn questions_and_longer_messages_are_not_acknowledgements() {
        for text in [
            "",
            "！！",
            "嗯？",
            "ok?",
            "好的，那退款多久到账？",
            "谢谢，请问怎么开发票",
            "ok how do I reset my password",
            "不好",
            "okay so",
        ] {
            assert!(!is_acknowledgement(text), "{text:?}");
        }
    }

    use super::*;

    #[test]
    fn normalize_folds_full_width_and_case_and_spaces() {
        assert_eq!(normalize("　ＨＵＭＡＮ　 Agent\t "), "human agent");
        assert_eq!(normalize("ｒｅｆｕｎｄ？"), "refund?");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn end_phrase_is_exact_after_trimming() {
        assert!(is_end_phrase("结束会话"));
        assert!(is_end_phrase("  结束会话\n"));
        assert!(is_end_phrase("　结束会话　"));
        assert!(!is_end_phrase("我不想结束会话"));
        assert!(!is_end_phrase("结束会话吗"));
        assert!(!is_end_phrase("结束 会话"));
    }

    #[test]
    fn the_english_end_phrase_ends_too_in_any_case_and_width() {
        assert!(is_end_phrase("end chat"));
        assert!(is_end_phrase("  End Chat "));
        assert!(is_end_phrase("ＥＮＤ　ＣＨＡＴ"));
        assert!(!is_end_phrase("please end chat"));
        assert!(!is_end_phrase("endchat"));
        assert_eq!(end_phrase("en-US"), "end chat");
        assert_eq!(end_phrase("zh-CN"), "结束会话");
        assert_eq!(end_phrase(""), "结束会话");
    }

    #[test]
    fn ascii_keywords_match_whole_words_only() {
        assert!(contains_keyword("I want a HUMAN please", "human"));
        assert!(contains_keyword("ａｇｅｎｔ", "agent"));
        assert!(!contains_keyword("are your agents bots", "agent"));
        assert!(!contains_keyword("humanity", "human"));
        assert!(contains_keyword("humanity, human", "human"));
    }

    #[test]
    fn chinese_keywords_match_anywhere() {
        assert!(contains_keyword("我要转人工！", "转人工"));
        assert!(!contains_keyword("我要退款", "转人工"));
        assert!(!contains_keyword("anything", ""));
    }
}
