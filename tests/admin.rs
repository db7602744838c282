//! The admin settings' parts in headless Chromium: fields found by role and name, edits
//! reaching the data a page saves, kefu-core's problems shown next to the field they name,
//! and the preview in words, in both languages.

mod support;

use kefu_core::config::{ServiceMode, ServiceRule, ServiceSettings, Weekday, WidgetSettings};
use kefu_core::hours::{LocalTime, OpeningPreview};
use kefu_widget::admin::api::Problem;
use kefu_widget::admin::mode::{ModeEditor, parse_keywords};
use kefu_widget::admin::rules::{RuleEditor, preview_text};
use kefu_widget::admin::widget::{WidgetEditor, parse_origins};
use kefu_widget::admin::{SaveBar, TextField};
use kefu_widget::i18n::Lang;
use leptos::prelude::*;
use support::{all_by_role, by_role, mount, settle, type_into};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn office_rule() -> ServiceRule {
    serde_json::from_value(serde_json::json!({
        "name": "default",
        "working_hours": { "time_zone": "Asia/Shanghai", "weekly": [{ "days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00" }] }
    }))
    .unwrap()
}

fn problem(path: &str, message: &str) -> Problem {
    Problem {
        path: path.to_owned(),
        line: None,
        message: message.to_owned(),
        kind: None,
        code: None,
    }
}

#[wasm_bindgen_test]
async fn a_problem_shows_under_the_field_it_names_and_in_the_list_by_save() {
    let problems = RwSignal::new(Vec::<Problem>::new());
    let saved = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let saves = RwSignal::new(0);
    let lang = RwSignal::new(Lang::En);
    let container = mount(move || {
        view! {
            <TextField label=Signal::derive(|| "Greeting".to_owned()) value="hi" problems path="widget.greeting"
                on_input=Callback::new(move |value: String| typed.set(value))/>
            <TextField label=Signal::derive(|| "Launcher text".to_owned()) value="" problems path="widget.launcher_text"
                on_input=Callback::new(|_: String| {})/>
            <SaveBar lang problems saved on_save=Callback::new(move |()| saves.update(|count| *count += 1))/>
        }
        .into_any()
    });
    settle().await;
    type_into(&by_role(&container, "textbox", "Greeting"), "您好");
    assert_eq!(typed.get_untracked(), "您好");
    by_role(&container, "button", "Save").click();
    assert_eq!(saves.get_untracked(), 1);

    problems.set(vec![problem("widget.launcher_text", "must not be empty")]);
    settle().await;
    let fields = container.query_selector_all(".kefu-field").unwrap();
    let greeting = fields.item(0).unwrap().text_content().unwrap();
    let launcher = fields.item(1).unwrap().text_content().unwrap();
    assert!(!greeting.contains("must not be empty"), "{greeting}");
    assert!(launcher.contains("must not be empty"), "{launcher}");
    let text = container.text_content().unwrap();
    assert!(
        text.contains("Not saved. Please fix:")
            && text.contains("launcher text: must not be empty"),
        "{text}"
    );
}

#[wasm_bindgen_test]
fn paths_and_audit_actions_read_as_words_in_both_languages() {
    use kefu_widget::admin::{describe_action, describe_change_line, describe_path};
    let (zh, en) = (Lang::Zh.admin(), Lang::En.admin());
    assert_eq!(
        describe_path("rules[0].working_hours.weekly[1].from", zh),
        "规则 1 · 上班时间 · 时段 2 · 开始时间"
    );
    assert_eq!(
        describe_path("rules[0].working_hours.weekly[1].from", en),
        "Rule 1 · Working hours · Range 2 · from"
    );
    assert_eq!(describe_path("unknown_field", zh), "unknown_field");
    assert_eq!(describe_action("config.rules", zh), "修改人工服务规则");
    assert_eq!(describe_action("agent.update mei", en), "Changed agent mei");
    assert_eq!(describe_action("something.new", en), "something.new");
    assert_eq!(
        describe_change_line("config.rules", "[0].idle_timeout_minutes: 10 → 15", zh),
        "规则 1 · 会员超时: 10 → 15"
    );
    assert_eq!(
        describe_change_line("config.service", "robot.no_answer_reply: \"a\" → \"b\"", en),
        "Robot · no-answer reply: \"a\" → \"b\""
    );
    // What the server writes for an import, an added agent and a long change.
    assert_eq!(
        describe_change_line("knowledge.import", "added: 3", zh),
        "新增: 3"
    );
    assert_eq!(
        describe_change_line("agent.add mei", "is_admin: false", zh),
        "管理员: 否"
    );
    assert_eq!(
        describe_change_line("agent.update mei", "disabled: false → true", en),
        "disabled: no → yes"
    );
    assert_eq!(
        describe_change_line("config.rules", "more: 2", zh),
        "其余修改（条）: 2"
    );
    // A line that is not `path: change` (entries written before) is shown as it was.
    assert_eq!(
        describe_change_line("knowledge.import", "3 items: 3 added, 0 replaced", en),
        "3 items: 3 added, 0 replaced"
    );
}

#[wasm_bindgen_test]
async fn the_rule_editor_edits_ranges_and_shows_a_time_problem_in_its_range() {
    let rules = RwSignal::new(vec![office_rule()]);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let lang = RwSignal::new(Lang::En);
    let container = mount(move || {
        view! { <RuleEditor lang rules index=0 problems token="t".to_owned()/> }.into_any()
    });
    settle().await;
    type_into(&by_role(&container, "textbox", "Range 1 from"), "08:30");
    assert_eq!(
        rules.with_untracked(|rules| rules[0].working_hours.weekly[0].from.clone()),
        "08:30"
    );
    by_role(&container, "checkbox", "Saturday").click();
    assert!(rules.with_untracked(|rules| {
        rules[0].working_hours.weekly[0]
            .days
            .contains(&Weekday::Sat)
    }));

    problems.set(vec![problem(
        "rules[0].working_hours.weekly[0].to",
        "invalid time \"6pm\"",
    )]);
    settle().await;
    let range = container.query_selector("[role=group]").unwrap().unwrap();
    assert!(
        range
            .text_content()
            .unwrap()
            .contains("invalid time \"6pm\"")
    );

    by_role(&container, "button", "Remove range 1").click();
    settle().await;
    assert!(rules.with_untracked(|rules| rules[0].working_hours.weekly.is_empty()));
    assert!(
        all_by_role(&container, "textbox",)
            .iter()
            .all(|(name, _)| name != "Range 1 from")
    );
    by_role(&container, "button", "Add range").click();
    settle().await;
    by_role(&container, "textbox", "Range 1 from");

    lang.set(Lang::Zh);
    settle().await;
    by_role(&container, "button", "删除时段 1");
    by_role(&container, "checkbox", "周六");
}

#[wasm_bindgen_test]
fn the_preview_reads_open_now_or_the_day_and_time_of_the_next_opening() {
    let closed = OpeningPreview {
        open: false,
        next_opening: Some(1),
        next_opening_local: Some(LocalTime {
            weekday: Weekday::Mon,
            date: "2026-11-30".into(),
            time: "09:00".into(),
        }),
    };
    assert_eq!(
        preview_text(Lang::En.admin(), &closed),
        "Opens Monday 09:00"
    );
    assert_eq!(
        preview_text(Lang::Zh.admin(), &closed),
        "周一 09:00 开始服务"
    );
    let open = OpeningPreview {
        open: true,
        next_opening: None,
        next_opening_local: None,
    };
    assert_eq!(preview_text(Lang::En.admin(), &open), "Open now");
    let never = OpeningPreview {
        open: false,
        next_opening: None,
        next_opening_local: None,
    };
    assert_eq!(preview_text(Lang::Zh.admin(), &never), "一年内不开放");
}

#[wasm_bindgen_test]
async fn the_mode_editor_sets_the_mode_keywords_and_misses() {
    let service = RwSignal::new(Some(ServiceSettings::default()));
    let groups = RwSignal::new(vec!["support".to_owned()]);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let lang = RwSignal::new(Lang::En);
    let container = mount(move || view! { <ModeEditor lang service groups problems/> }.into_any());
    settle().await;
    let human_only = by_role(&container, "radio", "Agents only");
    human_only.click();
    assert_eq!(
        service.with_untracked(|service| service.as_ref().unwrap().mode),
        ServiceMode::HumanOnly
    );
    type_into(
        &by_role(&container, "textbox", "Transfer keywords (comma separated)"),
        "人工，客服, human",
    );
    assert_eq!(
        service.with_untracked(|service| service.as_ref().unwrap().robot.transfer_keywords.clone()),
        ["人工", "客服", "human"]
    );
    assert_eq!(parse_keywords(" a ,,b\nc "), ["a", "b", "c"]);
}

#[wasm_bindgen_test]
async fn the_widget_editor_sets_origins_and_languages_and_shows_an_origin_problem() {
    let widget = RwSignal::new(Some(WidgetSettings::default()));
    let problems = RwSignal::new(Vec::<Problem>::new());
    let lang = RwSignal::new(Lang::En);
    let container = mount(move || view! { <WidgetEditor lang widget problems/> }.into_any());
    settle().await;
    let origins = "Sites allowed to embed the widget (one per line, e.g. https://www.example.com)";
    type_into(
        &by_role(&container, "textbox", origins),
        "https://shop.example.com\n\nshop.example.com/\n",
    );
    assert_eq!(
        widget.with_untracked(|widget| widget.as_ref().unwrap().allowed_origins.clone()),
        ["https://shop.example.com", "shop.example.com/"]
    );
    by_role(&container, "checkbox", "en").click();
    assert_eq!(
        widget.with_untracked(|widget| widget.as_ref().unwrap().languages.clone()),
        ["zh-CN"]
    );
    problems.set(vec![problem(
        "widget.allowed_origins[1]",
        "\"shop.example.com/\" is not an origin",
    )]);
    settle().await;
    assert!(
        container
            .text_content()
            .unwrap()
            .contains("is not an origin")
    );
    assert_eq!(
        parse_origins(" https://a.example \n"),
        ["https://a.example"]
    );
}
