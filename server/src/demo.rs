//! The demo content a fresh installation starts with: kefu-core's demo configuration, open
//! around the clock (so the first run can be tried at any hour), with the demo knowledge base
//! and a second skill group (售前咨询, `sales`) so transfers between groups can be tried.

use kefu_core::config::{Config, KnowledgeItem, SkillGroup, Weekday, WeeklyHours};

/// The knowledge base shipped with Kefu for the demo (and for the robot's accuracy tests).
pub const DEMO_KNOWLEDGE_JSON: &str = include_str!("../../core/demo/knowledge.json");

/// The service configuration seeded into the database on first run.
pub fn service_config() -> Config {
    let mut config = Config::demo();
    for rule in &mut config.rules {
        rule.working_hours.weekly = vec![WeeklyHours {
            days: Weekday::ALL.to_vec(),
            from: "00:00".to_owned(),
            to: "24:00".to_owned(),
        }];
    }
    config.knowledge =
        serde_json::from_str::<Vec<KnowledgeItem>>(DEMO_KNOWLEDGE_JSON).unwrap_or_default();
    let rule = config.skill_groups[0].rule.clone();
    config.skill_groups.push(SkillGroup {
        name: "sales".to_owned(),
        display_name: "售前咨询".to_owned(),
        rule,
        members: Vec::new(),
    });
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_configuration_is_valid_and_has_knowledge() {
        let config = service_config();
        config.validate().unwrap();
        assert!(config.knowledge.len() >= 30);
    }
}
