//! Any question asked of the demo knowledge base: never a panic, scores between 0 and 1,
//! at most three suggestions, none repeating the answer.
#![no_main]

use kefu_core::config::demo_knowledge;
use kefu_core::robot::{KnowledgeIndex, MAX_SUGGESTIONS};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static INDEX: OnceLock<KnowledgeIndex> = OnceLock::new();
    let index = INDEX.get_or_init(|| KnowledgeIndex::new(&demo_knowledge()));
    let question = String::from_utf8_lossy(data);
    let result = index.ask(&question);
    assert!(result.suggestions.len() <= MAX_SUGGESTIONS);
    for hit in result.best.iter().chain(&result.suggestions) {
        assert!((0.0..=1.0).contains(&hit.score), "score {}", hit.score);
    }
    if let Some(best) = &result.best {
        assert!(result.suggestions.iter().all(|hit| hit.id != best.id));
    }
});
