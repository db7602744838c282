//! The knowledge robot: finds the knowledge item that answers a customer's question.
//!
//! It ships inside the Wasm widget, so it has no dictionary and no model, only an inverted
//! index built in memory from the knowledge items:
//!
//! * **Features.** Text is folded with [`crate::text::normalize`] (full-width → half-width,
//!   lower case). Runs of Chinese/Japanese/Korean characters give character bigrams (most
//!   Chinese words, without a dictionary) and, at half weight, unigrams (which link words
//!   sharing a character, 退款/退货); other runs of letters and digits give lightly stemmed
//!   words. Punctuation separates runs. Very common function characters (的吗你我…) and
//!   words carry no meaning alone and give no unigram; a bigram of one function character
//!   and one other is kept, because it is what tells 你好 from 好的 and 在吗 from 在哪. The
//!   question form X不X / X没X (在不在, 能不能) is folded to X…吗 (在吗). An unknown word of
//!   five letters or more is replaced by the nearest known word within one or two edits,
//!   which forgives typos such as `pasword`.
//! * **Documents.** Every question and every similar question of an enabled item is one
//!   document. Rarity (idf) is counted in *items*, so a word repeated across the similar
//!   questions of one item stays telling of it.
//! * **Scoring.** Each document gets a BM25 score (idf, term-frequency saturation, length
//!   normalisation). The confidence of an item combines two coverages between 0 and 1:
//!   - *the customer's side*: the share of the message's weight that any question of the
//!     item explains. A word or character the knowledge base never uses weighs as much as
//!     the rarest word; an unknown bigram a quarter of that (it is mostly two words side by
//!     side, 买东西送 → 西送), an unknown function bigram (我想) nothing. The message's weight
//!     gets a prior of [`MESSAGE_PRIOR`] rare words, so that one or two characters (好的,
//!     收到) can never explain "all of the message" the way a real question does;
//!   - *the item's side*: the mean, over the item's [`BEST_QUESTIONS`] best matching
//!     questions, of each question's BM25 score over the score it would reach against
//!     itself. A word found in most questions of an item (换货 in the exchange item) is what
//!     the item is about; a word found in one of them (收到 in "收到的包裹破损了") is not.
//!
//!   The confidence is their weighted harmonic mean ([`MESSAGE_SIDE_WEIGHT`] on the
//!   customer's side), high only when both are: an unrelated message shares a word or two
//!   with some item but leaves most of one side unexplained and stays under
//!   [`ANSWER_THRESHOLD`], and the robot misses rather than answer beside the point. The
//!   threshold is set on the demo paraphrase set (`core/tests/robot_accuracy.rs`) between
//!   the highest unrelated message and the lowest right answer, choosing no wrong answer to
//!   unrelated messages over a few more hits. When the two best items explain the same
//!   words of the message and score alike (密码: forgotten or changed?), the robot misses
//!   and offers both rather than guess.
//! * **Suggestions.** The next best items above [`SUGGESTION_THRESHOLD`] (up to
//!   [`MAX_SUGGESTIONS`]) are offered as "您是不是想问".

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::config::KnowledgeItem;
use crate::text::normalize;

/// Confidence from which the best item is given as the answer.
pub const ANSWER_THRESHOLD: f64 = 0.23;
/// Confidence from which an item is offered as a suggestion.
pub const SUGGESTION_THRESHOLD: f64 = 0.12;
/// The most suggestions offered with an answer or a miss.
pub const MAX_SUGGESTIONS: usize = 3;

/// BM25's term-frequency saturation.
const BM25_K1: f64 = 1.2;
/// BM25's length normalisation strength.
const BM25_B: f64 = 0.5;
/// A misspelt word matched through its nearest known word counts a little less.
const CORRECTED_WORD_WEIGHT: f64 = 0.8;
/// Single CJK characters only back up the bigrams.
const UNIGRAM_WEIGHT: f64 = 0.5;
/// The message's weight starts at this many rare words (idf of a word of one item), so that
/// a message of one or two characters cannot be "fully explained" by the word it shares.
const MESSAGE_PRIOR: f64 = 2.0;
/// How many of an item's best matching questions its side of the confidence averages.
const BEST_QUESTIONS: usize = 3;
/// Weight of the customer's side in the harmonic mean (the item's side has the rest).
const MESSAGE_SIDE_WEIGHT: f64 = 0.6;
/// The runner-up scoring at least this share of the best, on the same words of the message,
/// leaves the robot undecided.
const UNDECIDED_RATIO: f64 = 0.8;

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
    /// A word of a language written with spaces (English), lightly stemmed.
    Word,
    /// Two adjacent CJK characters: most Chinese words, without a dictionary.
    Bigram,
    /// A single CJK character: weak evidence alone, but it links words that share a
    /// character (退款 / 退货) when bigrams differ.
    Unigram,
    /// Two adjacent CJK characters, one of them a function character: 你好, 在吗, 好的.
    Function,
}

impl FeatureKind {
    fn weight(self) -> f64 {
        match self {
            FeatureKind::Unigram => UNIGRAM_WEIGHT,
            _ => 1.0,
        }
    }

    /// Share of the rarest word's weight a feature no knowledge item has adds to a message.
    /// An unknown word or character is content the knowledge base does not cover; an unknown
    /// bigram is mostly two words side by side (its characters count on their own); an
    /// unknown function bigram is grammar.
    fn unseen_share(self) -> f64 {
        match self {
            FeatureKind::Word | FeatureKind::Unigram => 1.0,
            FeatureKind::Bigram => 0.25,
            FeatureKind::Function => 0.0,
        }
    }
}

/// Chinese characters that carry grammar or politeness, not meaning, in customer questions.
const STOP_CHARACTERS: &str =
    "的了吗呢吧啊呀哦嘛么我你您们他她它是和与及或这那个就都也还怎如何什哪啥";

/// English words that carry no meaning in customer questions.
const STOP_WORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "doe", "does", "for", "from", "get", "guy", "had", "has", "have", "how",
    "i", "if", "im", "in", "is", "it", "its", "just", "me", "my", "of", "ok", "on", "or", "our",
    "please", "so", "some", "that", "the", "there", "this", "to", "u", "us", "want", "wa", "was",
    "we", "what", "whats", "when", "where", "which", "who", "why", "will", "with", "would", "you",
    "your",
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
/// `tracking`/`track` meet, without a stemmer's tables. Only ASCII words are stemmed: the
/// rules are English, and byte-wise suffix checks on other scripts would cut characters.
fn stem(word: &str) -> String {
    let word = word.strip_suffix("'s").unwrap_or(word);
    let word: String = word
        .chars()
        .filter(|character| *character != '\'')
        .collect();
    if !word.is_ascii() {
        return word;
    }
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
    let length = bytes.len();
    if length > 3
        && bytes[length - 1] == bytes[length - 2]
        && !matches!(bytes[length - 1], b'l' | b's' | b'z' | b'e' | b'o')
    {
        return stemmed[..length - 1].to_owned();
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
        features.push((FeatureKind::Word, stemmed));
    };
    let flush_cjk = |run: &mut Vec<char>, features: &mut Vec<(FeatureKind, String)>| {
        // The question form X不X / X没X (在不在, 有没有) asks "X吗": fold it so.
        let mut folded: Vec<char> = Vec::with_capacity(run.len() + 1);
        let mut is_question = false;
        let mut index = 0;
        while index < run.len() {
            if index + 2 < run.len()
                && matches!(run[index + 1], '不' | '没')
                && run[index + 2] == run[index]
            {
                is_question = true;
                folded.push(run[index]);
                index += 3;
            } else {
                folded.push(run[index]);
                index += 1;
            }
        }
        if is_question && folded.last() != Some(&'吗') {
            folded.push('吗');
        }
        let is_stop = |character: &char| STOP_CHARACTERS.contains(*character);
        for (index, character) in folded.iter().enumerate() {
            if !is_stop(character) {
                features.push((FeatureKind::Unigram, character.to_string()));
            }
            if let Some(next) = folded.get(index + 1) {
                let kind = match (is_stop(character), is_stop(next)) {
                    (false, false) => FeatureKind::Bigram,
                    (true, true) => continue,
                    _ => FeatureKind::Function,
                };
                features.push((kind, [*character, *next].iter().collect()));
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
    /// How many of its questions are indexed (questions without any feature are not).
    documents: usize,
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
    /// The known words (not CJK n-grams), candidates for spelling correction.
    vocabulary: Vec<String>,
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
                documents: 0,
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
                indexed_items[item_index].documents += 1;
                let length = counts
                    .values()
                    .map(|(kind, count)| kind.weight() * f64::from(*count))
                    .sum();
                documents.push(Document {
                    item: item_index,
                    length,
                    self_score: 0.0,
                });
                for (feature, (kind, count)) in &counts {
                    postings
                        .entry(feature.clone())
                        .or_insert_with(|| Posting {
                            kind: *kind,
                            idf: 0.0,
                            documents: Vec::new(),
                        })
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
            documents
                .iter()
                .map(|document| document.length)
                .sum::<f64>()
                / document_count
        };
        // Rarity is counted in items, not documents: a word repeated in five similar
        // questions of one item is *more* telling of that item, not less.
        let item_count = indexed_items.len() as f64;
        for posting in postings.values_mut() {
            let mut items_with_feature: Vec<usize> = posting
                .documents
                .iter()
                .map(|(document_index, _)| documents[*document_index].item)
                .collect();
            items_with_feature.dedup();
            posting.idf = bm25_idf(item_count, items_with_feature.len() as f64);
        }
        let mut index = KnowledgeIndex {
            items: indexed_items,
            documents,
            postings,
            average_length,
            unseen_idf: bm25_idf(item_count, 0.0),
            vocabulary: Vec::new(),
        };
        index.vocabulary = index
            .postings
            .iter()
            .filter(|(_, posting)| posting.kind == FeatureKind::Word)
            .map(|(feature, _)| feature.clone())
            .collect();
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

    /// The known word closest to an unknown one, to forgive typos (`pasword`): at most one
    /// edit for words of 5 to 8 letters, two from 9 letters; shorter words are left alone
    /// because one edit turns them into other words (`tell` → `sell`). Ties go to the first word in
    /// alphabetical order, so the answer never depends on anything but the index.
    fn correct_spelling(&self, word: &str) -> Option<&str> {
        let length = word.chars().count();
        let max_edits = match length {
            0..=4 => return None,
            5..=8 => 1,
            _ => 2,
        };
        let mut best: Option<(usize, &str)> = None;
        for known in &self.vocabulary {
            if known.chars().count().abs_diff(length) > max_edits {
                continue;
            }
            let distance = edit_distance(word, known);
            if distance <= max_edits
                && best.is_none_or(|(best_distance, _)| distance < best_distance)
            {
                best = Some((distance, known));
            }
        }
        best.map(|(_, known)| known)
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
        // Feature → weight factor (1, or less for a corrected spelling).
        let mut query: BTreeMap<String, (FeatureKind, f64)> = BTreeMap::new();
        for (kind, feature) in features(question) {
            if kind == FeatureKind::Word
                && !self.postings.contains_key(&feature)
                && let Some(corrected) = self.correct_spelling(&feature)
            {
                query
                    .entry(corrected.to_owned())
                    .or_insert((kind, CORRECTED_WORD_WEIGHT));
                continue;
            }
            query.insert(feature, (kind, 1.0));
        }
        if query.is_empty() || self.documents.is_empty() {
            return RobotResult::default();
        }
        // The query's own weight, with unseen features at the highest idf: words the
        // knowledge base never uses make the question less likely to be about an item.
        // The prior keeps a message of a word or two from being "all explained".
        let prior = MESSAGE_PRIOR * bm25_idf(self.items.len() as f64, 1.0);
        let query_weight: f64 = prior
            + query
                .iter()
                .map(|(feature, (kind, factor))| {
                    let idf = self
                        .postings
                        .get(feature)
                        .map_or(self.unseen_idf * kind.unseen_share(), |posting| posting.idf);
                    kind.weight() * factor * idf
                })
                .sum::<f64>();
        let mut document_scores = vec![0.0_f64; self.documents.len()];
        // Query weight explained by any question of each item: paraphrases often take one
        // word from one similar question and another word from another.
        let mut item_matched_weight = vec![0.0_f64; self.items.len()];
        let mut item_seen_feature = vec![usize::MAX; self.items.len()];
        for (feature_number, (feature, (kind, factor))) in query.iter().enumerate() {
            if let Some(posting) = self.postings.get(feature) {
                for &(document_index, term_frequency) in &posting.documents {
                    document_scores[document_index] +=
                        factor * self.term_score(posting, document_index, term_frequency);
                    let item = self.documents[document_index].item;
                    if item_seen_feature[item] != feature_number {
                        item_seen_feature[item] = feature_number;
                        item_matched_weight[item] += kind.weight() * factor * posting.idf;
                    }
                }
            }
        }
        // The item's side: how much of each of its questions the customer said, for its
        // best few questions, best first.
        let mut best_coverages = vec![[0.0_f64; BEST_QUESTIONS]; self.items.len()];
        for (document_index, score) in document_scores.iter().enumerate() {
            let document = &self.documents[document_index];
            let coverage = (score / document.self_score).min(1.0);
            let best = &mut best_coverages[document.item];
            if coverage > best[BEST_QUESTIONS - 1] {
                best[BEST_QUESTIONS - 1] = coverage;
                best.sort_by(|left, right| right.total_cmp(left));
            }
        }
        let mut ranked: Vec<(usize, f64)> = Vec::new();
        for (item_index, best) in best_coverages.iter().enumerate() {
            let message_side = (item_matched_weight[item_index] / query_weight).min(1.0);
            let counted = self.items[item_index].documents.clamp(1, BEST_QUESTIONS);
            let item_side = best.iter().sum::<f64>() / counted as f64;
            if message_side <= 0.0 || item_side <= 0.0 {
                continue;
            }
            // Weighted harmonic mean: high only when both sides are.
            let confidence = 1.0
                / (MESSAGE_SIDE_WEIGHT / message_side + (1.0 - MESSAGE_SIDE_WEIGHT) / item_side);
            if confidence >= SUGGESTION_THRESHOLD {
                ranked.push((item_index, confidence.min(1.0)));
            }
        }
        // Highest score first; equal scores keep knowledge-base order, so results are stable.
        ranked.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
        let hit = |(item_index, score): (usize, f64)| {
            let item = &self.items[item_index];
            Hit {
                id: item.id.clone(),
                score,
                question: item.question.clone(),
                answer: item.answer.clone(),
            }
        };
        // Two items that explain exactly the same words of the message and score alike
        // (密码: forgotten or changed?) differ only in how they are written, not in what the
        // customer said: the robot then asks, offering both, rather than guess.
        let undecided = match ranked.as_slice() {
            [(first, first_score), (second, second_score), ..] => {
                item_matched_weight[*first] == item_matched_weight[*second]
                    && *second_score >= UNDECIDED_RATIO * first_score
            }
            _ => false,
        };
        let mut ranked = ranked.into_iter();
        let best = match ranked.clone().next() {
            Some((_, score)) if score >= ANSWER_THRESHOLD && !undecided => ranked.next().map(hit),
            _ => None,
        };
        let suggestions = ranked.take(MAX_SUGGESTIONS).map(hit).collect();
        RobotResult { best, suggestions }
    }
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbours (the usual typing mistakes) each cost one.
fn edit_distance(left: &str, right: &str) -> usize {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    let width = right.len() + 1;
    let mut table = vec![0usize; (left.len() + 1) * width];
    for (row, cell) in table.iter_mut().step_by(width).enumerate() {
        *cell = row;
    }
    for (column, cell) in table.iter_mut().take(width).enumerate() {
        *cell = column;
    }
    for row in 1..=left.len() {
        for column in 1..=right.len() {
            let substitution = usize::from(left[row - 1] != right[column - 1]);
            let mut best = (table[(row - 1) * width + column] + 1)
                .min(table[row * width + column - 1] + 1)
                .min(table[(row - 1) * width + column - 1] + substitution);
            if row > 1
                && column > 1
                && left[row - 1] == right[column - 2]
                && left[row - 2] == right[column - 1]
            {
                best = best.min(table[(row - 2) * width + column - 2] + 1);
            }
            table[row * width + column] = best;
        }
    }
    table[left.len() * width + right.len()]
}

/// BM25's inverse document frequency, always positive.
fn bm25_idf(document_count: f64, containing: f64) -> f64 {
    (1.0 + (document_count - containing + 0.5) / (containing + 0.5)).ln()
}

/// The ids of the `limit` most asked items, for the agent's recommended list (推荐知识):
/// highest hit count first, ties in the order given. Items with no hit are not recommended.
pub fn recommended(hit_counts: &[(String, u64)], limit: usize) -> Vec<&str> {
    let mut ranked: Vec<(usize, &(String, u64))> = hit_counts
        .iter()
        .enumerate()
        .filter(|(_, (_, count))| *count > 0)
        .collect();
    ranked.sort_by(|left, right| right.1.1.cmp(&left.1.1).then(left.0.cmp(&right.0)));
    ranked
        .into_iter()
        .take(limit)
        .map(|(_, (id, _))| id.as_str())
        .collect()
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
            item(
                "refund",
                "退款多久到账？",
                &["钱什么时候退回来"],
                "1-3 个工作日",
            ),
            item(
                "invoice",
                "怎么开发票？",
                &["如何申请电子发票"],
                "在订单页申请",
            ),
            item(
                "track",
                "How can I track my order?",
                &["Where is my package?"],
                "Open Orders",
            ),
        ])
    }

    fn feature_names(text: &str) -> Vec<String> {
        features(text)
            .into_iter()
            .map(|(_, feature)| feature)
            .collect()
    }

    #[test]
    fn features_split_chinese_into_unigrams_and_bigrams_without_stop_characters() {
        assert_eq!(feature_names("退款吗？"), vec!["退", "退款", "款", "款吗"]);
        assert_eq!(features("款吗")[1].0, FeatureKind::Function);
        // Two function characters make no feature; 你好 and 好的 share only 好.
        assert_eq!(feature_names("我的"), Vec::<String>::new());
        assert_eq!(feature_names("你好"), vec!["你好", "好"]);
        assert_eq!(feature_names("好的"), vec!["好", "好的"]);
    }

    #[test]
    fn the_x_not_x_question_is_folded() {
        assert_eq!(feature_names("在不在"), feature_names("在吗"));
        assert_eq!(feature_names("有没有价保"), feature_names("有价保吗"));
        assert_eq!(feature_names("在不在线"), feature_names("在线吗"));
    }

    #[test]
    fn a_shared_character_or_a_side_word_is_not_an_answer() {
        let index = KnowledgeIndex::new(&[
            item("hello", "你好", &["在吗", "hello"], "您好"),
            item(
                "damaged",
                "收到的包裹破损了怎么办？",
                &["快递盒子压坏了"],
                "拍照申请售后",
            ),
            item(
                "exchange",
                "可以换货吗？",
                &["怎么申请换货", "换货流程"],
                "七天内可换",
            ),
        ]);
        let best = |text: &str| index.ask(text).best.map(|hit| hit.id);
        assert_eq!(best("你好"), Some("hello".to_owned()));
        assert_eq!(best("在不在"), Some("hello".to_owned()));
        assert_eq!(best("Hello!"), Some("hello".to_owned()));
        assert_eq!(best("换货"), Some("exchange".to_owned()));
        assert_eq!(best("好的"), None);
        assert_eq!(best("收到"), None);
        assert_eq!(best("translate hello into spanish"), None);
    }

    #[test]
    fn features_fold_width_and_case_and_stem_english() {
        let found: Vec<String> = features("ＯＲＤＥＲＳ shipped")
            .into_iter()
            .filter(|(kind, _)| *kind == FeatureKind::Word)
            .map(|(_, feature)| feature)
            .collect();
        assert_eq!(found, vec!["order", "ship"]);
    }

    #[test]
    fn stemming_leaves_other_scripts_whole() {
        // Found by the robot_ask fuzz target: 'ꍍ' ends with two equal bytes, which the
        // doubled-consonant rule used to cut in the middle of the character.
        assert_eq!(stem("aꍍ"), "aꍍ");
        assert_eq!(stem("größes"), "größes");
        assert_eq!(stem("shipped"), "ship");
        assert_eq!(stem("tracking"), "track");
        assert_eq!(stem("deliveries"), "delivery");
        let _ = KnowledgeIndex::new(&[]).ask("ꍍꍍ aꍍ ﻿ꍍs");
    }

    #[test]
    fn finds_items_in_both_languages() {
        let index = small_index();
        assert_eq!(
            index.ask("退款一般多久能到账").best.map(|hit| hit.id),
            Some("refund".to_owned())
        );
        assert_eq!(
            index.ask("where is my PACKAGE").best.map(|hit| hit.id),
            Some("track".to_owned())
        );
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
