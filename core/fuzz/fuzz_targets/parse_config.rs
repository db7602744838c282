//! Any configuration file, as JSON or TOML: parsing and validation must never panic, and a
//! parsed configuration must be usable by every function that reads it.
#![no_main]

use kefu_core::config::Config;
use kefu_core::hours;
use kefu_core::robot::KnowledgeIndex;
use libfuzzer_sys::fuzz_target;

fn exercise(config: &Config) {
    let _ = config.validate();
    for group in &config.skill_groups {
        let _ = config.conversation_settings(&group.name);
        let _ = config.groups_of_agent(&group.name);
    }
    let _ = config.resolve_group(None);
    for rule in &config.rules {
        for instant in [0, 1_750_000_000_000, -1, i64::MAX] {
            let _ = hours::is_open_at(&rule.working_hours, instant);
            let _ = hours::next_opening(&rule.working_hours, instant);
        }
    }
    let index = KnowledgeIndex::new(&config.knowledge);
    for item in config.knowledge.iter().take(4) {
        let _ = index.ask(&item.question);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::from_json(text) {
        exercise(&config);
    }
    if let Ok(config) = toml::from_str::<Config>(text) {
        exercise(&config);
    }
});
