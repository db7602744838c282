//! The knowledge robot on the demo knowledge base (`core/demo/knowledge.json`) against the
//! paraphrase set (`core/tests/data/robot_paraphrases.json`): top-1 accuracy is printed and
//! must be at least 0.85, and every unrelated question must miss.
//!
//! Run with `cargo test -p kefu-core --test robot_accuracy -- --nocapture` to see the figures
//! and each wrong answer.

use kefu_core::config::KnowledgeItem;
use kefu_core::robot::KnowledgeIndex;
use serde::Deserialize;

const REQUIRED_TOP1_ACCURACY: f64 = 0.85;

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

fn test_set() -> TestSet {
    serde_json::from_str(include_str!("data/robot_paraphrases.json")).expect("paraphrase set parses")
}

#[test]
fn paraphrases_find_their_item_and_unrelated_questions_miss() {
    let items = knowledge();
    let set = test_set();
    assert!(items.len() >= 30, "the demo knowledge base has {} items", items.len());
    assert!(set.paraphrases.len() >= 60, "the paraphrase set has {} questions", set.paraphrases.len());
    let index = KnowledgeIndex::new(&items);

    let mut correct = 0;
    let mut in_suggestions = 0;
    for paraphrase in &set.paraphrases {
        let result = index.ask(&paraphrase.q);
        let best = result.best.as_ref().map(|hit| hit.id.as_str());
        if best == Some(paraphrase.expect.as_str()) {
            correct += 1;
        } else {
            let suggested = result.suggestions.iter().any(|hit| hit.id == paraphrase.expect);
            if suggested {
                in_suggestions += 1;
            }
            println!(
                "wrong: {:?} expected {} got {:?} (score {:.2}){}",
                paraphrase.q,
                paraphrase.expect,
                best,
                result.best.as_ref().map_or(0.0, |hit| hit.score),
                if suggested { ", expected item among the suggestions" } else { "" }
            );
        }
    }
    let accuracy = correct as f64 / set.paraphrases.len() as f64;

    let mut false_answers = Vec::new();
    for question in &set.unrelated {
        if let Some(hit) = index.ask(question).best {
            false_answers.push(format!("{question:?} answered with {} (score {:.2})", hit.id, hit.score));
        }
    }
    println!(
        "robot top-1 accuracy: {correct}/{} = {accuracy:.3} (required {REQUIRED_TOP1_ACCURACY}); \
         {in_suggestions} more found among the suggestions; \
         unrelated questions answered: {}/{}",
        set.paraphrases.len(),
        false_answers.len(),
        set.unrelated.len()
    );
    for answer in &false_answers {
        println!("false answer: {answer}");
    }
    assert!(accuracy >= REQUIRED_TOP1_ACCURACY, "top-1 accuracy {accuracy:.3} < {REQUIRED_TOP1_ACCURACY}");
    assert!(false_answers.is_empty(), "unrelated questions must miss: {false_answers:?}");
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
        assert_eq!((best.question.as_str(), best.answer.as_str()), (item.question.as_str(), item.answer.as_str()));
        assert!(result.suggestions.len() <= 3);
        assert!(result.suggestions.iter().all(|hit| hit.id != best.id && hit.score <= best.score));
    }
}
