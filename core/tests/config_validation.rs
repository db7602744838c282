//! The configuration model: TOML and JSON parsing with defaults, the demo configuration, and
//! validation that reports every problem with its path.

use kefu_core::config::*;
use kefu_core::hours;

const SAMPLE_TOML: &str = r#"
[service]
mode = "robot_first"

[service.robot]
no_answer_reply = "抱歉，没有找到答案。"
transfer_keywords = ["转人工", "human"]
misses_before_transfer = 2
skill_group = "support"

[[rules]]
name = "default"
idle_timeout_minutes = 15

[rules.working_hours]
time_zone = "Asia/Shanghai"
weekly = [
  { days = ["mon", "tue", "wed", "thu", "fri"], from = "09:00", to = "18:00" },
  { days = ["saturday"], from = "10:00", to = "16:00" },
]
exceptions = [
  { date = "2025-10-01", note = "国庆" },
  { date = "2025-09-28", open = [{ from = "09:00", to = "18:00" }] },
]

[[rules]]
name = "night"
working_hours = { time_zone = "Europe/Berlin", weekly = [{ days = ["fri"], from = "22:00", to = "06:00" }] }

[[skill_groups]]
name = "support"
display_name = "在线客服"
rule = "default"
members = ["alice"]

[[skill_groups]]
name = "night"
display_name = "夜间客服"
rule = "night"

[[agents]]
login = "alice"
display_name = "小爱"
max_concurrent_chats = 3

[[agents]]
login = "bob"
display_name = "小博"
groups = ["night"]

[[knowledge]]
id = "k1"
category = "售后"
question = "退款多久到账？"
similar = ["钱什么时候退回来"]
answer = "1-3 个工作日。"

[[canned_phrases]]
category = "问候"
content = "您好！"

[[canned_phrases]]
category = "私人"
content = "我是小爱。"
owner = "alice"
"#;

#[test]
fn a_toml_file_parses_with_defaults_and_validates() {
    let config: Config = toml::from_str(SAMPLE_TOML).expect("sample parses");
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(config.service.robot.misses_before_transfer, 2);
    assert!(config.service.robot.transfer_button, "defaults to shown");
    assert_eq!(
        config.rules[1].idle_timeout_minutes, 10,
        "default idle timeout"
    );
    assert!(
        !config.rules[1].off_hours_message.is_empty(),
        "default off-hours message"
    );
    assert_eq!(config.agents[1].max_concurrent_chats, 5, "default capacity");
    assert!(
        config.knowledge[0].enabled,
        "knowledge is enabled by default"
    );
    assert_eq!(
        config.rules[0].working_hours.exceptions[0].open,
        vec![],
        "no ranges: closed all day"
    );
    assert_eq!(
        config.rules[0].working_hours.weekly[1].days,
        vec![Weekday::Sat],
        "full day names accepted"
    );
}

#[test]
fn the_config_round_trips_through_json() {
    let config: Config = toml::from_str(SAMPLE_TOML).unwrap();
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(Config::from_json(&json).unwrap(), config);
}

#[test]
fn an_empty_file_gets_defaults_but_needs_a_group() {
    let config: Config = toml::from_str("").unwrap();
    assert_eq!(config.service.mode, ServiceMode::RobotFirst);
    assert_eq!(
        config.service.robot.transfer_keywords,
        vec!["转人工", "人工客服", "人工", "human", "agent"]
    );
    let errors = config.validate().unwrap_err();
    assert_eq!(
        errors.problems[0].to_string(),
        "skill_groups: at least one skill group is needed"
    );
}

#[test]
fn the_demo_config_is_valid_and_as_documented() {
    let demo = Config::demo();
    assert_eq!(demo.validate(), Ok(()));
    let group = demo.resolve_group(None).unwrap();
    assert_eq!(
        (group.name.as_str(), group.display_name.as_str()),
        ("support", "在线客服")
    );
    let rule = demo.rule(&group.rule).unwrap();
    assert_eq!(rule.working_hours.time_zone, "Asia/Shanghai");
    assert_eq!(demo.service.mode, ServiceMode::RobotFirst);
    assert_eq!(demo.service.robot.misses_before_transfer, 3);
    assert!(
        demo.knowledge.len() >= 30,
        "the demo knowledge base is loaded"
    );
    // Monday 2025-06-02 10:00 in Shanghai is 02:00 UTC: open; Saturday is closed.
    assert!(hours::is_open_at(&rule.working_hours, 1_748_829_600_000));
    assert!(!hours::is_open_at(
        &rule.working_hours,
        1_748_829_600_000 + 5 * 86_400_000
    ));
}

#[test]
fn the_demo_knowledge_file_parses() {
    let items = demo_knowledge();
    assert!(items.len() >= 30, "{} items", items.len());
    assert!(
        items
            .iter()
            .all(|item| item.enabled && !item.answer.is_empty())
    );
}

fn problems_of(config: &Config) -> Vec<String> {
    match config.validate() {
        Ok(()) => Vec::new(),
        Err(errors) => errors.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let mut config: Config = toml::from_str(SAMPLE_TOML).unwrap();
    config.skill_groups.push(SkillGroup {
        name: "vip".into(),
        display_name: "贵宾".into(),
        rule: "vip".into(),
        members: vec!["carol".into()],
    });
    config.skill_groups.push(SkillGroup {
        name: "support".into(),
        display_name: " ".into(),
        rule: "default".into(),
        members: vec![],
    });
    config.rules[0].working_hours.time_zone = "Asia/Beijing".into();
    config.rules[0].working_hours.weekly[0].to = "18:60".into();
    config.rules[1].name = "default".into();
    config.agents[0].max_concurrent_chats = 0;
    config.agents[1].groups.push("sales".into());
    config.service.robot.skill_group = Some("presales".into());
    config.service.robot.transfer_keywords.push(String::new());
    config.knowledge.push(KnowledgeItem {
        id: "k1".into(),
        category: String::new(),
        question: "".into(),
        similar: vec!["  ".into()],
        answer: "x".into(),
        enabled: true,
    });
    config.canned_phrases[1].owner = Some("dave".into());
    assert_eq!(
        problems_of(&config),
        vec![
            r#"rules[0].working_hours.time_zone: unknown IANA time zone "Asia/Beijing""#,
            r#"rules[0].working_hours.weekly[0].to: invalid time "18:60", expected HH:MM from 00:00 to 24:00"#,
            r#"rules[1].name: duplicate rule name "default""#,
            r#"skill_groups[1].rule: unknown rule "night""#,
            r#"skill_groups[2].rule: unknown rule "vip""#,
            r#"skill_groups[3].name: duplicate skill group "support""#,
            r#"skill_groups[3].display_name: must not be empty"#,
            r#"agents[0].max_concurrent_chats: must be between 1 and 100"#,
            r#"agents[1].groups[1]: unknown skill group "sales""#,
            r#"skill_groups[2].members[0]: unknown agent "carol""#,
            r#"service.robot.transfer_keywords[2]: must not be empty"#,
            r#"service.robot.skill_group: unknown skill group "presales""#,
            r#"knowledge[1].id: duplicate knowledge id "k1""#,
            r#"knowledge[1].question: must not be empty"#,
            r#"knowledge[1].similar[0]: must not be empty"#,
            r#"canned_phrases[1].owner: unknown agent "dave""#,
        ]
    );
}

#[test]
fn the_error_lists_every_problem_on_its_own_line() {
    let config = Config {
        rules: vec![],
        ..Config::demo()
    };
    let message = config.validate().unwrap_err().to_string();
    assert_eq!(
        message,
        "invalid configuration:\n  skill_groups[0].rule: unknown rule \"default\""
    );
}

#[test]
fn texts_over_the_message_limit_are_reported() {
    let mut config = Config::demo();
    config.service.robot.no_answer_reply = "长".repeat(4001);
    assert_eq!(
        problems_of(&config),
        vec!["service.robot.no_answer_reply: is longer than 4000 characters"]
    );
}

#[test]
fn group_resolution_prefers_the_page_then_the_robot_setting_then_the_first_group() {
    let config: Config = toml::from_str(SAMPLE_TOML).unwrap();
    assert_eq!(config.resolve_group(Some("night")).unwrap().name, "night");
    assert_eq!(config.resolve_group(Some("nope")).unwrap().name, "support");
    let mut without_robot_group = config.clone();
    without_robot_group.service.robot.skill_group = None;
    without_robot_group.skill_groups.reverse();
    assert_eq!(
        without_robot_group.resolve_group(None).unwrap().name,
        "night"
    );
}

#[test]
fn membership_is_the_union_of_both_lists() {
    let config: Config = toml::from_str(SAMPLE_TOML).unwrap();
    assert!(config.is_member("alice", "support"), "listed by the group");
    assert!(config.is_member("bob", "night"), "listed by the agent");
    assert!(!config.is_member("alice", "night"));
    assert_eq!(config.groups_of_agent("bob"), vec!["night"]);
}

#[test]
fn conversation_settings_combine_the_mode_the_robot_and_the_group_rule() {
    let config: Config = toml::from_str(SAMPLE_TOML).unwrap();
    let settings = config.conversation_settings("support").unwrap();
    assert_eq!(settings.mode, ServiceMode::RobotFirst);
    assert_eq!(settings.misses_before_transfer, 2);
    assert_eq!(settings.idle_timeout_ms, 15 * 60_000);
    assert_eq!(settings.no_answer_reply, "抱歉，没有找到答案。");
    assert!(config.conversation_settings("missing").is_none());
}

#[test]
fn bad_enum_values_are_parse_errors() {
    assert!(toml::from_str::<Config>("[service]\nmode = \"robot_last\"").is_err());
    let bad_day = SAMPLE_TOML.replace("\"mon\"", "\"monday-ish\"");
    assert!(toml::from_str::<Config>(&bad_day).is_err());
}

#[test]
fn widget_settings_are_checked_field_by_field_and_make_the_snippet() {
    use kefu_core::config::WidgetSettings;
    let mut config = Config::demo();
    config.widget = WidgetSettings {
        allowed_origins: vec![
            "https://shop.example.com".to_owned(),
            "shop.example.com/".to_owned(),
        ],
        accent_color: "blue".to_owned(),
        launcher_text: " ".to_owned(),
        greeting: "您好".to_owned(),
        languages: vec!["fr".to_owned()],
        english: Default::default(),
    };
    let problems: Vec<String> = config
        .validate()
        .unwrap_err()
        .problems
        .iter()
        .map(|problem| problem.path.clone())
        .collect();
    assert_eq!(
        problems,
        [
            "widget.allowed_origins[1]",
            "widget.accent_color",
            "widget.launcher_text",
            "widget.languages[0]"
        ],
    );
    let widget = WidgetSettings {
        accent_color: "#d4380d".to_owned(),
        languages: vec!["en".to_owned()],
        ..WidgetSettings::default()
    };
    assert_eq!(
        widget.snippet("https://kefu.example.com"),
        r##"<script src="https://kefu.example.com/embed.js" data-site="demo" data-color="#d4380d" data-lang="en" async></script>"##
    );
    assert_eq!(
        WidgetSettings::default().snippet("http://127.0.0.1:8080"),
        r#"<script src="http://127.0.0.1:8080/embed.js" data-site="demo" async></script>"#
    );
}

#[test]
fn the_built_in_no_answer_reply_follows_the_service_mode() {
    use kefu_core::config::ServiceMode;
    let mut config = Config::demo();
    let robot_first = config.conversation_settings("support").unwrap();
    assert!(robot_first.no_answer_reply.contains("转人工"));

    // robot_only refuses 转人工, so its no-answer reply must not offer it, in either language.
    config.service.mode = ServiceMode::RobotOnly;
    let robot_only = config.conversation_settings("support").unwrap();
    assert!(
        !robot_only.no_answer_reply.contains("转人工"),
        "{}",
        robot_only.no_answer_reply
    );
    let english = config
        .conversation_settings_for("support", Some("en"))
        .unwrap();
    assert!(
        !english.no_answer_reply.contains("human"),
        "{}",
        english.no_answer_reply
    );

    // An operator's own reply is theirs to word, whatever the mode.
    config.service.robot.no_answer_reply = "请换个问法。".to_owned();
    assert_eq!(
        config
            .conversation_settings("support")
            .unwrap()
            .no_answer_reply,
        "请换个问法。"
    );
}

#[test]
fn english_visitors_read_the_operators_english_texts_or_the_built_in_ones() {
    let mut config = Config::demo();
    let chinese = config
        .conversation_settings_for("support", Some("zh-CN"))
        .unwrap();
    assert_eq!(chinese, config.conversation_settings("support").unwrap());
    assert_eq!(
        config.texts_for("support", None).chat_title,
        "在线客服",
        "no language: the operator's default, Chinese"
    );

    let english = config
        .conversation_settings_for("support", Some("en-US"))
        .unwrap();
    for text in [
        &english.no_answer_reply,
        &english.robot_only_reply,
        &english.off_hours_message,
        &english.no_agent_message,
        &english.idle_timeout_message,
    ] {
        assert!(
            text.is_ascii() || text.contains('“'),
            "an English visitor reads English: {text}"
        );
    }
    let texts = config.texts_for("support", Some("en"));
    assert_eq!(texts.chat_title, "Customer service");
    assert_eq!(texts.greeting, "Hello! How can we help you?");

    config.widget.english.greeting = "Hi, this is Acme support.".to_owned();
    config.widget.english.no_agent_message = "Nobody is here right now.".to_owned();
    config.widget.english.chat_title = "Acme support".to_owned();
    assert!(config.validate().is_ok());
    let texts = config.texts_for("support", Some("en"));
    assert_eq!(texts.greeting, "Hi, this is Acme support.");
    assert_eq!(texts.chat_title, "Acme support");
    let english = config
        .conversation_settings_for("support", Some("en"))
        .unwrap();
    assert_eq!(english.no_agent_message, "Nobody is here right now.");
    assert_eq!(
        english.off_hours_message,
        "We are outside our working hours now; please come back when we are open."
    );

    config.widget.english.chat_title = "x".repeat(41);
    let problems = config.validate().unwrap_err().problems;
    assert_eq!(problems[0].path, "widget.english.chat_title");
}

/// Every problem carries its kind as data (the admin pages say it in the admin's language),
/// and its English message is the kind's English: the two cannot disagree.
#[test]
fn problems_carry_a_typed_kind_whose_english_is_the_message() {
    let mut config = Config::demo();
    config.rules[0].working_hours.weekly[0].from = "9点".into();
    config.rules[0].working_hours.weekly[0].to = "25:00".into();
    config.skill_groups[0].rule = "vip".into();
    config.widget.accent_color = "blue".into();
    let problems = config.validate().unwrap_err().problems;
    let kinds: Vec<(&str, &ProblemKind)> = problems
        .iter()
        .map(|problem| (problem.path.as_str(), &problem.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                "rules[0].working_hours.weekly[0].from",
                &ProblemKind::InvalidTime {
                    value: "9点".into(),
                    latest: "23:59".into()
                }
            ),
            (
                "rules[0].working_hours.weekly[0].to",
                &ProblemKind::InvalidTime {
                    value: "25:00".into(),
                    latest: "24:00".into()
                }
            ),
            (
                "skill_groups[0].rule",
                &ProblemKind::UnknownRule { name: "vip".into() }
            ),
            ("widget.accent_color", &ProblemKind::NotAColour),
        ]
    );
    for problem in &problems {
        assert_eq!(problem.message, problem.kind.to_string());
    }
    assert_eq!(
        problems[0].message,
        "invalid time \"9点\", expected HH:MM from 00:00 to 23:59"
    );
    // The kind travels as JSON with a type tag (the admin API's `problems[].kind`).
    let json = serde_json::to_value(&problems[0].kind).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "invalid_time", "value": "9点", "latest": "23:59"})
    );
    let back: ProblemKind = serde_json::from_value(json).unwrap();
    assert_eq!(back, problems[0].kind);
}
