//! The knowledge robot on the demo knowledge base (`core/demo/knowledge.json`), measured on
//! two sets of questions it has never indexed:
//!
//! - the **tuning set** (`core/tests/data/robot_tuning.json`): the paraphrases the robot's
//!   scoring was tuned on. Look at its misses while changing the robot. Top-1 accuracy must
//!   be at least 0.90, every unrelated message (off-topic questions and the short
//!   acknowledgements people send, 好的/收到/thanks) must miss, and the lowest right answer
//!   must clear the highest unrelated message by a margin, so the threshold is not balanced
//!   on a knife's edge.
//! - the **held-out set** (`core/tests/data/robot_heldout.json`): paraphrases written once,
//!   without running the robot on them, and never used for tuning. Its figures are the honest
//!   estimate of how the robot does on questions nobody tuned for; only totals are printed,
//!   so that reading the output does not turn it into a second tuning set. Its floors guard
//!   against regressions and sit below the figures the README reports.
//! - the **per-language held-out sets** (issue #23), written before anyone ran the robot on
//!   them and never used for tuning: the demo knowledge base asked in Chinese and in English
//!   (`robot_heldout.json` and `robot_heldout_en.json` pooled, split by the question's
//!   language), and a second knowledge base in another domain, the Tasklane SaaS FAQ
//!   (`core/tests/data/saas_knowledge.json`, 43 topics × zh + en, with
//!   `saas_heldout.json`). Again only totals are printed; the floors are regression floors
//!   under today's figures, far below the targets on the SaaS set.
//!
//! Run with `cargo test -p kefu-core --test robot_accuracy -- --nocapture` to see the
//! reports (and each wrong answer of the tuning set).

use kefu_core::config::KnowledgeItem;
use kefu_core::robot::{ANSWER_THRESHOLD, KnowledgeIndex, SUGGESTION_THRESHOLD};
use serde::Deserialize;

/// Tuning set: top-1 accuracy required.
const REQUIRED_TOP1_ACCURACY: f64 = 0.90;
/// Tuning set: lowest right answer's confidence minus the highest unrelated message's.
const REQUIRED_MARGIN: f64 = 0.03;
/// Held-out set: top-1 accuracy required (a regression floor, below the reported figure).
const HELD_OUT_REQUIRED_TOP1: f64 = 0.90;
/// Held-out set: at most this share of unrelated messages may be answered.
const HELD_OUT_MAX_UNRELATED_ANSWERED: f64 = 0.05;
/// Held-out set: at most this share of paraphrases may get a wrong answer (rather than a
/// right one, or no answer with suggestions).
const HELD_OUT_MAX_ANSWERED_WRONG: f64 = 0.05;

#[derive(Deserialize, Default)]
struct TestSet {
    paraphrases: Vec<Paraphrase>,
    unrelated: Vec<String>,
}

#[derive(Deserialize, Clone)]
struct Paraphrase {
    q: String,
    expect: String,
}

fn knowledge() -> Vec<KnowledgeItem> {
    serde_json::from_str(include_str!("../demo/knowledge.json")).expect("demo knowledge parses")
}

fn tuning_set() -> TestSet {
    serde_json::from_str(include_str!("data/robot_tuning.json")).expect("tuning set parses")
}

fn held_out_set() -> TestSet {
    serde_json::from_str(include_str!("data/robot_heldout.json")).expect("held-out set parses")
}

fn held_out_english_set() -> TestSet {
    serde_json::from_str(include_str!("data/robot_heldout_en.json"))
        .expect("English held-out set parses")
}

/// The second domain's knowledge file: its items and the synonym groups its operator wrote.
#[derive(Deserialize)]
struct SecondDomain {
    /// Not used: today's robot has no synonyms, so these groups only show what an operator
    /// would add once it has (issue #23).
    synonyms: Vec<Vec<String>>,
    items: Vec<KnowledgeItem>,
}

fn saas_knowledge() -> SecondDomain {
    serde_json::from_str(include_str!("data/saas_knowledge.json")).expect("SaaS knowledge parses")
}

fn saas_held_out_set() -> TestSet {
    serde_json::from_str(include_str!("data/saas_heldout.json")).expect("SaaS held-out parses")
}

/// A question is Chinese when it holds a Han character (some Chinese questions name an
/// English product or function, e.g. "Excel 的 VLOOKUP"); otherwise English.
fn is_chinese(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}'))
}

/// The questions and unrelated messages of `sets` in one language.
fn in_language(sets: &[&TestSet], chinese: bool) -> TestSet {
    let mut out = TestSet::default();
    for set in sets {
        out.paraphrases.extend(
            set.paraphrases
                .iter()
                .filter(|p| is_chinese(&p.q) == chinese)
                .cloned(),
        );
        out.unrelated.extend(
            set.unrelated
                .iter()
                .filter(|u| is_chinese(u) == chinese)
                .cloned(),
        );
    }
    out
}

/// What one set of questions says about the robot.
struct Report {
    questions: usize,
    /// The expected item was the answer.
    correct: usize,
    /// Another item was the answer.
    answered_wrong: usize,
    /// No answer, but the expected item was among the suggestions.
    in_suggestions: usize,
    /// The lowest confidence of a right answer.
    lowest_right: f64,
    unrelated: usize,
    /// Unrelated messages that got an answer, described.
    unrelated_answered: Vec<String>,
    /// The highest score any unrelated message reached (answer or suggestion), described.
    highest_unrelated: (f64, String),
    /// Each paraphrase not answered right, described.
    misses: Vec<String>,
}

impl Report {
    fn top1(&self) -> f64 {
        self.correct as f64 / self.questions as f64
    }

    fn answered_wrong_rate(&self) -> f64 {
        self.answered_wrong as f64 / self.questions as f64
    }

    fn unrelated_answered_rate(&self) -> f64 {
        self.unrelated_answered.len() as f64 / self.unrelated as f64
    }

    fn in_suggestions_rate(&self) -> f64 {
        self.in_suggestions as f64 / self.questions as f64
    }

    fn margin(&self) -> f64 {
        self.lowest_right - self.highest_unrelated.0
    }

    fn summary(&self, name: &str) -> String {
        format!(
            "{name}: top-1 {}/{} = {:.3}; answered wrong {} ({:.3}); right item among the \
             suggestions {} more; unrelated answered {}/{} ({:.3}); threshold {ANSWER_THRESHOLD}; \
             margin {:.3} = lowest right answer {:.3} - highest unrelated {:.3}",
            self.correct,
            self.questions,
            self.top1(),
            self.answered_wrong,
            self.answered_wrong_rate(),
            self.in_suggestions,
            self.unrelated_answered.len(),
            self.unrelated,
            self.unrelated_answered_rate(),
            self.margin(),
            self.lowest_right,
            self.highest_unrelated.0,
        )
    }
}

fn evaluate(index: &KnowledgeIndex, set: &TestSet) -> Report {
    let mut report = Report {
        questions: set.paraphrases.len(),
        correct: 0,
        answered_wrong: 0,
        in_suggestions: 0,
        lowest_right: f64::INFINITY,
        unrelated: set.unrelated.len(),
        unrelated_answered: Vec::new(),
        // An unrelated message with no suggestion scored under the suggestion threshold:
        // count it at the threshold, which can only understate the margin.
        highest_unrelated: (SUGGESTION_THRESHOLD, String::from("(no suggestion)")),
        misses: Vec::new(),
    };
    for paraphrase in &set.paraphrases {
        let result = index.ask(&paraphrase.q);
        let best = result.best.as_ref().map(|hit| hit.id.as_str());
        if best == Some(paraphrase.expect.as_str()) {
            report.correct += 1;
            report.lowest_right = report
                .lowest_right
                .min(result.best.as_ref().map_or(0.0, |hit| hit.score));
            continue;
        }
        if best.is_some() {
            report.answered_wrong += 1;
        }
        let suggested = result
            .suggestions
            .iter()
            .any(|hit| hit.id == paraphrase.expect);
        if suggested {
            report.in_suggestions += 1;
        }
        report.misses.push(format!(
            "{:?} expected {} got {:?} (score {:.3}){}",
            paraphrase.q,
            paraphrase.expect,
            best,
            result
                .best
                .as_ref()
                .or(result.suggestions.first())
                .map_or(0.0, |hit| hit.score),
            if suggested {
                ", expected item among the suggestions"
            } else {
                ""
            }
        ));
    }
    for question in &set.unrelated {
        let result = index.ask(question);
        if let Some(top) = result.best.as_ref().or(result.suggestions.first())
            && top.score > report.highest_unrelated.0
        {
            report.highest_unrelated = (top.score, format!("{question:?} → {}", top.id));
        }
        if let Some(hit) = result.best {
            report.unrelated_answered.push(format!(
                "{question:?} answered with {} (score {:.3})",
                hit.id, hit.score
            ));
        }
    }
    report
}

#[test]
fn tuning_paraphrases_find_their_item_and_unrelated_questions_miss() {
    let items = knowledge();
    let set = tuning_set();
    assert!(
        items.len() >= 30,
        "the demo knowledge base has {} items",
        items.len()
    );
    assert!(
        set.paraphrases.len() >= 60,
        "the tuning set has {} questions",
        set.paraphrases.len()
    );
    let report = evaluate(&KnowledgeIndex::new(&items), &set);
    for miss in &report.misses {
        println!("tuning set, wrong: {miss}");
    }
    for answer in &report.unrelated_answered {
        println!("tuning set, false answer: {answer}");
    }
    println!(
        "{} {} (required top-1 {REQUIRED_TOP1_ACCURACY}, margin {REQUIRED_MARGIN})",
        report.summary("robot, tuning set"),
        report.highest_unrelated.1,
    );
    assert!(
        report.top1() >= REQUIRED_TOP1_ACCURACY,
        "tuning set: top-1 accuracy {:.3} < {REQUIRED_TOP1_ACCURACY}",
        report.top1()
    );
    assert!(
        report.unrelated_answered.is_empty(),
        "tuning set: unrelated messages must miss: {:?}",
        report.unrelated_answered
    );
    assert!(
        report.margin() >= REQUIRED_MARGIN,
        "tuning set: margin {:.3} < {REQUIRED_MARGIN}",
        report.margin()
    );
}

/// The honest figure: questions nobody tuned the robot on. Only totals are printed.
#[test]
fn held_out_paraphrases_report_and_stay_above_their_floors() {
    let items = knowledge();
    let set = held_out_set();
    assert!(
        set.paraphrases.len() >= 60 && set.unrelated.len() >= 20,
        "the held-out set has {} questions and {} unrelated messages",
        set.paraphrases.len(),
        set.unrelated.len()
    );
    let report = evaluate(&KnowledgeIndex::new(&items), &set);
    println!(
        "{} (floors: top-1 {HELD_OUT_REQUIRED_TOP1}, answered wrong ≤ {HELD_OUT_MAX_ANSWERED_WRONG}, \
         unrelated answered ≤ {HELD_OUT_MAX_UNRELATED_ANSWERED})",
        report.summary("robot, held-out set"),
    );
    assert!(
        report.top1() >= HELD_OUT_REQUIRED_TOP1,
        "held-out set: top-1 accuracy {:.3} < {HELD_OUT_REQUIRED_TOP1}",
        report.top1()
    );
    assert!(
        report.answered_wrong_rate() <= HELD_OUT_MAX_ANSWERED_WRONG,
        "held-out set: answered wrong {:.3} > {HELD_OUT_MAX_ANSWERED_WRONG}",
        report.answered_wrong_rate()
    );
    assert!(
        report.unrelated_answered_rate() <= HELD_OUT_MAX_UNRELATED_ANSWERED,
        "held-out set: unrelated answered {:.3} > {HELD_OUT_MAX_UNRELATED_ANSWERED}",
        report.unrelated_answered_rate()
    );
}

/// Regression floors for one per-language held-out set: a little below what today's robot
/// measures (one or two questions of slack; no unrelated message may be answered, as today),
/// so that a change making it worse fails. They are not targets: issue #23 asks for top-1 ≥
/// 0.90, answered wrong ≤ 3 % and unrelated answered ≤ 5 % on every one. Today's robot
/// meets the top-1 target only on the demo's Chinese questions, the answered-wrong one only
/// on the demo's English questions, and the unrelated one everywhere.
struct Floors {
    top1: f64,
    max_answered_wrong: f64,
    max_unrelated_answered: f64,
}

/// Measured on today's robot (`cargo test -p kefu-core --test robot_accuracy -- --nocapture`),
/// demo zh: top-1 53/55 = 0.964, answered wrong 2 (0.036), right item only among the
/// suggestions 2 (0.036), unrelated answered 0/11.
const DEMO_ZH_FLOORS: Floors = Floors {
    top1: 0.92,
    max_answered_wrong: 0.08,
    max_unrelated_answered: 0.05,
};
/// Measured, demo en: top-1 46/64 = 0.719, answered wrong 0, right item only among the
/// suggestions 12 (0.188), unrelated answered 0/19 (`robot_heldout_en.json` alone: 25/41 =
/// 0.610). Far below the target of 0.90: today's robot has no stemming or synonyms.
const DEMO_EN_FLOORS: Floors = Floors {
    top1: 0.68,
    max_answered_wrong: 0.03,
    max_unrelated_answered: 0.05,
};
/// Measured, SaaS zh: top-1 58/86 = 0.674, answered wrong 4 (0.047), right item only among
/// the suggestions 17 (0.198), unrelated answered 0/17. Far below the targets.
const SAAS_ZH_FLOORS: Floors = Floors {
    top1: 0.65,
    max_answered_wrong: 0.07,
    max_unrelated_answered: 0.05,
};
/// Measured, SaaS en: top-1 47/86 = 0.547, answered wrong 8 (0.093), right item only among
/// the suggestions 26 (0.302), unrelated answered 0/16. Far below the targets.
const SAAS_EN_FLOORS: Floors = Floors {
    top1: 0.52,
    max_answered_wrong: 0.12,
    max_unrelated_answered: 0.05,
};

/// Prints one set's totals (never its questions) and checks them against its floors.
fn report_and_check(name: &str, index: &KnowledgeIndex, set: &TestSet, floors: &Floors) {
    let report = evaluate(index, set);
    println!(
        "{}; right item only among the suggestions {:.3} (floors: top-1 {}, answered wrong ≤ {}, \
         unrelated answered ≤ {})",
        report.summary(name),
        report.in_suggestions_rate(),
        floors.top1,
        floors.max_answered_wrong,
        floors.max_unrelated_answered,
    );
    assert!(
        report.top1() >= floors.top1,
        "{name}: top-1 accuracy {:.3} < {}",
        report.top1(),
        floors.top1
    );
    assert!(
        report.answered_wrong_rate() <= floors.max_answered_wrong,
        "{name}: answered wrong {:.3} > {}",
        report.answered_wrong_rate(),
        floors.max_answered_wrong
    );
    assert!(
        report.unrelated_answered_rate() <= floors.max_unrelated_answered,
        "{name}: unrelated answered {:.3} > {}",
        report.unrelated_answered_rate(),
        floors.max_unrelated_answered
    );
}

/// The demo knowledge base, held out, per language: the Chinese and English questions of
/// `robot_heldout.json` and `robot_heldout_en.json` together. Only totals are printed.
#[test]
fn demo_held_out_per_language_reports_and_stays_above_its_floors() {
    let index = KnowledgeIndex::new(&knowledge());
    let (first, english) = (held_out_set(), held_out_english_set());
    assert!(
        english.paraphrases.len() >= 40 && english.unrelated.len() >= 10,
        "the English held-out set has {} questions and {} unrelated messages",
        english.paraphrases.len(),
        english.unrelated.len()
    );
    assert!(
        english.paraphrases.iter().all(|p| !is_chinese(&p.q)),
        "robot_heldout_en.json is English"
    );
    // The newer English file alone, for information (its floors are those of the pool).
    println!(
        "{}",
        evaluate(&index, &english).summary("robot, demo held-out, robot_heldout_en.json alone")
    );
    let sets = [&first, &english];
    report_and_check(
        "robot, demo held-out, zh",
        &index,
        &in_language(&sets, true),
        &DEMO_ZH_FLOORS,
    );
    report_and_check(
        "robot, demo held-out, en",
        &index,
        &in_language(&sets, false),
        &DEMO_EN_FLOORS,
    );
}

/// A second domain the robot was never tuned on (a SaaS FAQ), per language. Its items come
/// in a Chinese and an English version, and each question expects the item of its own
/// language. The file's synonym groups are not used: today's robot has no synonyms.
#[test]
fn saas_held_out_per_language_reports_and_stays_above_its_floors() {
    let domain = saas_knowledge();
    let set = saas_held_out_set();
    assert!(
        domain.items.len() >= 80 && !domain.synonyms.is_empty(),
        "the SaaS knowledge base has {} items",
        domain.items.len()
    );
    assert!(
        set.paraphrases.len() >= 150 && set.unrelated.len() >= 30,
        "the SaaS held-out set has {} questions and {} unrelated messages",
        set.paraphrases.len(),
        set.unrelated.len()
    );
    for paraphrase in &set.paraphrases {
        assert!(
            domain.items.iter().any(|item| item.id == paraphrase.expect),
            "{:?} expects an unknown item",
            paraphrase.q
        );
        assert_eq!(
            paraphrase.expect.ends_with("-zh"),
            is_chinese(&paraphrase.q),
            "{:?} expects the item of its own language",
            paraphrase.q
        );
    }
    let index = KnowledgeIndex::new(&domain.items);
    let sets = [&set];
    report_and_check(
        "robot, SaaS held-out, zh",
        &index,
        &in_language(&sets, true),
        &SAAS_ZH_FLOORS,
    );
    report_and_check(
        "robot, SaaS held-out, en",
        &index,
        &in_language(&sets, false),
        &SAAS_EN_FLOORS,
    );
}

/// The most common first messages: a greeting gets the greeting item, an acknowledgement
/// gets no answer (a miss, not membership tiers), and a greeting before a question does
/// not hide the question.
#[test]
fn greetings_get_the_greeting_and_acknowledgements_miss() {
    let index = KnowledgeIndex::new(&knowledge());
    let cases = [
        ("你好", Some("kb-049")),
        ("在吗", Some("kb-049")),
        ("hi", Some("kb-049")),
        ("好的", None),
        ("谢谢", None),
        ("嗯", None),
        ("收到", None),
        ("ok", None),
        ("thanks", None),
        // Forgotten or changed? The robot asks rather than guess.
        ("密码", None),
        ("你好，我想退货", Some("kb-012")),
    ];
    for (message, expected) in cases {
        let result = index.ask(message);
        println!(
            "{message:?} → {:?}",
            result
                .best
                .as_ref()
                .map(|hit| (hit.id.as_str(), (hit.score * 1000.0).round() / 1000.0))
        );
        assert_eq!(
            result.best.as_ref().map(|hit| hit.id.as_str()),
            expected,
            "{message}"
        );
    }
}

#[test]
fn every_item_finds_itself_by_its_own_question() {
    let items = knowledge();
    let index = KnowledgeIndex::new(&items);
    for item in &items {
        let best = index.ask(&item.question).best.map(|hit| hit.id);
        assert_eq!(best.as_deref(), Some(item.id.as_str()), "{}", item.question);
    }
}

#[test]
fn answers_come_with_the_items_text_and_at_most_three_suggestions() {
    let items = knowledge();
    let index = KnowledgeIndex::new(&items);
    for item in &items {
        let result = index.ask(&item.question);
        let best = result.best.expect("own question is a hit");
        assert_eq!(
            (best.question.as_str(), best.answer.as_str()),
            (item.question.as_str(), item.answer.as_str())
        );
        assert!(result.suggestions.len() <= 3);
        assert!(
            result
                .suggestions
                .iter()
                .all(|hit| hit.id != best.id && hit.score <= best.score)
        );
    }
}
