//! The knowledge robot: finds the knowledge item that answers a customer's question.
//!
//! It ships inside the Wasm widget, so it has no dictionary and no model, only an inverted
//! index built in memory from the knowledge items:
//!
//! * **Features.** Text is folded with [`crate::text::normalize`] (full-width → half-width,
//!   lower case). Runs of Chinese/Japanese/Korean characters give character unigrams and
//!   bigrams (Chinese has no spaces, and bigrams capture most words without a dictionary);
//!   other runs of letters and digits give lightly stemmed words plus their character
//!   trigrams (which forgive typos such as `pasword`). Punctuation separates runs. Very
//!   common function characters and words carry no meaning and are dropped.
//! * **Documents.** Every question and every similar question of an enabled item is one
//!   document; an item scores as its best document, so one well-phrased similar question is
//!   enough to match.
//! * **Scoring.** BM25 weighting (inverse document frequency, term-frequency saturation,
//!   length normalisation) turned into a confidence between 0 and 1 by dividing by the
//!   score the query and the document would reach if they were the same text. A question
//!   unrelated to every item shares only a few weak features with any of them and stays
//!   under [`ANSWER_THRESHOLD`]: the robot then misses rather than answer beside the point.
//! * **Suggestions.** The next best items above [`SUGGESTION_THRESHOLD`] (up to
//!   [`MAX_SUGGESTIONS`]) are offered as "您是不是想问".

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::config::KnowledgeItem;
use crate::text::normalize;

/// Confidence from which the best item is given as the answer.
pub const ANSWER_THRESHOLD: f64 = 0.30;
/// Confidence from which an item is offered as a suggestion.
pub const SUGGESTION_THRESHOLD: f64 = 0.18;
/// The most suggestions offered with an answer or a miss.
pub const MAX_SUGGESTIONS: usize = 3;

/// BM25's term-frequency saturation.
const BM25_K1: f64 = 1.2;
/// BM25's length normalisation strength.
const BM25_B: f64 = 0.5;
/// Character trigrams of words only back up the words themselves.
const TRIGRAM_WEIGHT: f64 = 0.35;

/// One matching knowledge item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The knowledge item's id.
    pub id: String,
    /// Confidence between 0 and 1.
    pub score: f64,
    /// The item's main question, shown as a suggestion.
    pub question: String,
    /// The item's answer, sent when the item is the best hit.
    pub answer: String,
}

/// What the robot found for a question.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RobotResult {
    /// The answer, when one item is confident enough.
    pub best: Option<Hit>,
    /// Other likely items, best first, at most [`MAX_SUGGESTIONS`].
    pub suggestions: Vec<Hit>,
}

impl RobotResult {
    pub fn is_hit(&self) -> bool {
        self.best.is_some()
    }
}

/// A feature of a text: a word, a character trigram of a word, or a CJK unigram/bigram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FeatureKind {
    Term,
    Trigram,
}

impl FeatureKind {
    fn weight(self) -> f64 {
        match self {
            FeatureKind::Term => 1.0,
            FeatureKind::Trigram => TRIGRAM_WEIGHT,
        }
    }
}

/// Chinese characters that carry grammar or politeness, not meaning, in customer questions.
const STOP_CHARACTERS: &str = "的了吗呢吧啊呀哦嘛么我你您们他她它是在和与及或请问一下这那个就都也还怎如何什哪啥吧";

/// English words that carry no meaning in customer questions.
const STOP_WORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "did", "do", "doe", "does", "for", "from", "get", "guy", "had", "has", "have", "hello", "hi", "how",
    "i", "if", "im", "in", "is", "it", "its", "just", "me", "my", "of", "ok", "on", "or", "our", "please",
    "so", "some", "that", "the", "there", "this", "to", "u", "us", "want", "wa", "was", "we", "what",
    "whats", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
];

fn is_cjk(character: char) -> bool {
    matches!(character as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x3134F) // CJK Extensions B–G
}

/// Light English stemming: enough to make `orders`/`order`, `shipped`/`ship`,
/// `tracking`/`track` meet, without a stemmer's tables.
fn stem(word: &str) -> String {
    let word = word.strip_suffix("'s").unwrap_or(word);
    let word: String = word.chars().filter(|character| *character != '\'').collect();
    let length = word.len();
    let stemmed = if length > 4 && word.ends_with("ies") {
        format!("{}y", &word[..length - 3])
    } else if length > 5 && word.ends_with("ing") {
        word[..length - 3].to_owned()
    } else if length > 4 && word.ends_with("ed") {
        word[..length - 2].to_owned()
    } else if length > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        word[..length - 1].to_owned()
    } else {
        word
    };
    // `shipped` → `shipp` → `ship`: undo the doubled final consonant.
    let bytes = stemmed.as_bytes();
    if stemmed.len() > 3 && bytes[bytes.len() - 1] == bytes[bytes.len() - 2] && !matches!(bytes[bytes.len() - 1], b'l' | b's' | b'z' | b'e' | b'o') {
        return stemmed[..stemmed.len() - 1].to_owned();
    }
    stemmed
}

/// Splits a text into features, in order, with repetitions.
fn features(text: &str) -> Vec<(FeatureKind, String)> {
    let normalized = normalize(text);
    let mut features = Vec::new();
    let mut word = String::new();
    let mut cjk_run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, features: &mut Vec<(FeatureKind, String)>| {
        if word.is_empty() {
            return;
        }
        let stemmed = stem(word);
        word.clear();
        if stemmed.is_empty() || STOP_WORDS.contains(&stemmed.as_str()) {
            return;
        }
        let characters: Vec<char> = format!("^{stemmed}$").chars().collect();
        if characters.len() > 4 {
            for window in characters.windows(3) {
                features.push((FeatureKind::Trigram, window.iter().collect()));
            }
        }
        features.push((FeatureKind::Term, stemmed));
    };
    let flush_cjk = |run: &mut Vec<char>, features: &mut Vec<(FeatureKind, String)>| {
        let is_stop = |character: &char| STOP_CHARACTERS.contains(*character);
        for (index, character) in run.iter().enumerate() {
            if !is_stop(character) {
                features.push((FeatureKind::Term, character.to_string()));
            }
            if let Some(next) = run.get(index + 1)
                && !is_stop(character)
                && !is_stop(next)
            {
                features.push((FeatureKind::Term, [*character, *next].iter().collect()));
            }
        }
        run.clear();
    };
    for character in normalized.chars() {
        if is_cjk(character) {
            flush_word(&mut word, &mut features);
            cjk_run.push(character);
        } else if character.is_alphanumeric() || (character == '\'' && !word.is_empty()) {
            flush_cjk(&mut cjk_run, &mut features);
            word.push(character);
        } else {
            flush_word(&mut word, &mut features);
            flush_cjk(&mut cjk_run, &mut features);
        }
    }
    flush_word(&mut word, &mut features);
    flush_cjk(&mut cjk_run, &mut features);
    features
}

/// One indexed question.
#[derive(Debug, Clone)]
struct Document {
    item: usize,
    /// Sum of feature weights, BM25's document length.
    length: f64,
    /// The document matched against itself: the denominator of its confidence.
    self_score: f64,
}

/// An indexed item.
#[derive(Debug, Clone)]
struct IndexedItem {
    id: String,
    question: String,
    answer: String,
}

/// An inverted index over the questions and similar questions of enabled knowledge items.
#[derive(Debug, Clone)]
pub struct KnowledgeIndex {
    items: Vec<IndexedItem>,
    documents: Vec<Document>,
    /// Feature → (kind, inverse document frequency, postings of (document, term frequency)).
    postings: BTreeMap<String, Posting>,
    average_length: f64,
    /// The idf of a feature no document has: a query feature the index cannot match still
    /// counts against the query's confidence.
    unseen_idf: f64,
}

#[derive(Debug, Clone)]
struct Posting {
    kind: FeatureKind,
    idf: f64,
    documents: Vec<(usize, u32)>,
}

impl KnowledgeIndex {
    /// Builds the index; disabled items are left out.
    pub fn new(items: &[KnowledgeItem]) -> Self {
        let mut indexed_items = Vec::new();
        let mut documents = Vec::new();
        let mut postings: BTreeMap<String, Posting> = BTreeMap::new();
        let mut document_features: Vec<BTreeMap<String, (FeatureKind, u32)>> = Vec::new();
        for item in items.iter().filter(|item| item.enabled) {
            let item_index = indexed_items.len();
            indexed_items.push(IndexedItem {
                id: item.id.clone(),
                question: item.question.clone(),
                answer: item.answer.clone(),
            });
            for text in std::iter::once(&item.question).chain(item.similar.iter()) {
                let mut counts: BTreeMap<String, (FeatureKind, u32)> = BTreeMap::new();
                for (kind, feature) in features(text) {
                    counts.entry(feature).or_insert((kind, 0)).1 += 1;
                }
                if counts.is_empty() {
                    continue;
                }
                let document_index = documents.len();
                let length = counts.values().map(|(kind, count)| kind.weight() * f64::from(*count)).sum();
                documents.push(Document { item: item_index, length, self_score: 0.0 });
                for (feature, (kind, count)) in &counts {
                    postings
                        .entry(feature.clone())
                        .or_insert_with(|| Posting { kind: *kind, idf: 0.0, documents: Vec::new() })
                        .documents
                        .push((document_index, *count));
                }
                document_features.push(counts);
            }
        }
        let document_count = documents.len() as f64;
        let average_length = if documents.is_empty() {
            1.0
        } else {
            documents.iter().map(|document| document.length).sum::<f64>() / document_count
        };
        for posting in postings.values_mut() {
            posting.idf = bm25_idf(document_count, posting.documents.len() as f64);
        }
        let mut index = KnowledgeIndex {
            items: indexed_items,
            documents,
            postings,
            average_length,
            unseen_idf: bm25_idf(document_count, 0.0),
        };
        for (document_index, counts) in document_features.iter().enumerate() {
            let self_score = counts
                .iter()
                .map(|(feature, (_, count))| {
                    let posting = &index.postings[feature];
                    index.term_score(posting, document_index, *count)
                })
                .sum();
            index.documents[document_index].self_score = self_score;
        }
        index
    }

    /// How many items are indexed (enabled items with a non-empty question).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn term_score(&self, posting: &Posting, document_index: usize, term_frequency: u32) -> f64 {
        let length = self.documents[document_index].length;
        let frequency = f64::from(term_frequency);
        let saturation = frequency * (BM25_K1 + 1.0)
            / (frequency + BM25_K1 * (1.0 - BM25_B + BM25_B * length / self.average_length));
        posting.kind.weight() * posting.idf * saturation
    }

    /// Scores every item for a question and returns the answer (if confident) and up to
    /// three suggestions.
    pub fn ask(&self, question: &str) -> RobotResult {
        let mut query: BTreeMap<String, FeatureKind> = BTreeMap::new();
        for (kind, feature) in features(question) {
            query.insert(feature, kind);
        }
        if query.is_empty() || self.documents.is_empty() {
            return RobotResult::default();
        }
        // The query's own weight, with unseen features at the highest idf: words the
        // knowledge base never uses make the question less likely to be about an item.
        let query_weight: f64 = query
            .iter()
            .map(|(feature, kind)| {
                let idf = self.postings.get(feature).map_or(self.unseen_idf, |posting| posting.idf);
                kind.weight() * idf * (BM25_K1 + 1.0) / (1.0 + BM25_K1)
            })
            .sum();
        let mut document_scores = vec![0.0_f64; self.documents.len()];
        for feature in query.keys() {
            if let Some(posting) = self.postings.get(feature) {
                for &(document_index, term_frequency) in &posting.documents {
                    document_scores[document_index] += self.term_score(posting, document_index, term_frequency);
                }
            }
        }
        let mut item_scores = vec![0.0_f64; self.items.len()];
        for (document_index, score) in document_scores.iter().enumerate() {
            if *score <= 0.0 {
                continue;
            }
            let document = &self.documents[document_index];
            // Geometric mean of "how much of the question the document explains" and "how
            // much of the document the question mentions": both must be high for a match.
            let query_coverage = (score / query_weight).min(1.0);
            let document_coverage = (score / document.self_score).min(1.0);
            let confidence = (query_coverage * document_coverage).sqrt();
            let best = &mut item_scores[document.item];
            if confidence > *best {
                *best = confidence;
            }
        }
        let mut ranked: Vec<(usize, f64)> =
            item_scores.into_iter().enumerate().filter(|(_, score)| *score >= SUGGESTION_THRESHOLD).collect();
        // Highest score first; equal scores keep knowledge-base order, so results are stable.
        ranked.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
        let hit = |(item_index, score): (usize, f64)| {
            let item = &self.items[item_index];
            Hit { id: item.id.clone(), score, question: item.question.clone(), answer: item.answer.clone() }
        };
        let mut ranked = ranked.into_iter();
        let best = match ranked.clone().next() {
            Some((_, score)) if score >= ANSWER_THRESHOLD => ranked.next().map(hit),
            _ => None,
        };
        let suggestions = ranked.take(MAX_SUGGESTIONS).map(hit).collect();
        RobotResult { best, suggestions }
    }
}

/// BM25's inverse document frequency, always positive.
fn bm25_idf(document_count: f64, containing: f64) -> f64 {
    (1.0 + (document_count - containing + 0.5) / (containing + 0.5)).ln()
}

/// The ids of the `limit` most asked items, for the agent's recommended list (推荐知识):
/// highest hit count first, ties in the order given. Items with no hit are not recommended.
pub fn recommended<'a>(hit_counts: &'a [(String, u64)], limit: usize) -> Vec<&'a str> {
    let mut ranked: Vec<(usize, &(String, u64))> =
        hit_counts.iter().enumerate().filter(|(_, (_, count))| *count > 0).collect();
    ranked.sort_by(|left, right| right.1.1.cmp(&left.1.1).then(left.0.cmp(&right.0)));
    ranked.into_iter().take(limit).map(|(_, (id, _))| id.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, question: &str, similar: &[&str], answer: &str) -> KnowledgeItem {
        KnowledgeItem {
            id: id.to_owned(),
            category: String::new(),
            question: question.to_owned(),
            similar: similar.iter().map(|text| text.to_string()).collect(),
            answer: answer.to_owned(),
            enabled: true,
        }
    }

    fn small_index() -> KnowledgeIndex {
        KnowledgeIndex::new(&[
            item("refund", "退款多久到账？", &["钱什么时候退回来"], "1-3 个工作日"),
            item("invoice", "怎么开发票？", &["如何申请电子发票"], "在订单页申请"),
            item("track", "How can I track my order?", &["Where is my package?"], "Open Orders"),
        ])
    }

    #[test]
    fn features_split_chinese_into_unigrams_and_bigrams_without_stop_characters() {
        let found: Vec<String> = features("退款吗？").into_iter().map(|(_, feature)| feature).collect();
        assert_eq!(found, vec!["退", "退款", "款"]);
    }

    #[test]
    fn features_fold_width_and_case_and_stem_english() {
        let found: Vec<String> = features("ＯＲＤＥＲＳ shipped")
            .into_iter()
            .filter(|(kind, _)| *kind == FeatureKind::Term)
            .map(|(_, feature)| feature)
            .collect();
        assert_eq!(found, vec!["order", "ship"]);
    }

    #[test]
    fn finds_items_in_both_languages() {
        let index = small_index();
        assert_eq!(index.ask("退款一般多久能到账").best.map(|hit| hit.id), Some("refund".to_owned()));
        assert_eq!(index.ask("where is my PACKAGE").best.map(|hit| hit.id), Some("track".to_owned()));
    }

    #[test]
    fn unrelated_questions_miss() {
        let index = small_index();
        assert!(!index.ask("今天天气怎么样").is_hit());
        assert!(!index.ask("tell me a joke").is_hit());
        assert!(!index.ask("").is_hit());
        assert!(!index.ask("？？？!!!").is_hit());
    }

    #[test]
    fn disabled_items_are_not_indexed() {
        let mut disabled = item("off", "退款多久到账？", &[], "hidden");
        disabled.enabled = false;
        let index = KnowledgeIndex::new(&[disabled]);
        assert!(index.is_empty());
        assert!(!index.ask("退款多久到账？").is_hit());
    }

    #[test]
    fn recommended_ranks_by_hit_count_then_given_order() {
        let counts = vec![
            ("a".to_owned(), 3),
            ("b".to_owned(), 10),
            ("c".to_owned(), 3),
            ("d".to_owned(), 0),
        ];
        assert_eq!(recommended(&counts, 3), vec!["b", "a", "c"]);
        assert_eq!(recommended(&counts, 10), vec!["b", "a", "c"]);
    }
}
