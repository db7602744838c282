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
//!
//! Run with `cargo test -p kefu-core --test robot_accuracy -- --nocapture` to see both
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

#[derive(Deserialize)]
struct TestSet {
    paraphrases: Vec<Paraphrase>,
    unrelated: Vec<String>,
}

#[derive(Deserialize)]
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
