//! A refused setting is said for people in the admin's language: a Chinese admin saving a
//! rule with a bad time reads where and what in Chinese (under the field and by Save), with
//! no JSON path and no English from the server. Screenshot: `admin-problem-zh.png`.

use kefu_e2e::{Agent, KefuServer};

#[test]
fn a_chinese_admin_saving_a_bad_time_reads_the_problem_in_chinese_without_a_json_path() {
    let server = KefuServer::start();
    let boss = Agent::admin_settings(&server);
    boss.find_by_role("button", "中文").click();
    boss.find_by_role("button", "人工服务规则").click();
    boss.find_by_role("heading", "人工服务规则");

    let from = boss.find_by_label("时段 1 开始");
    from.clear();
    from.type_text("9点");
    boss.find_by_role("button", "保存").click();
    boss.wait_for_text("未保存，请修改以下问题：");
    let sentence = "格式不对（「9点」），应为 00:00 到 23:59 之间的“时:分”，如 09:00";
    // By Save: the place and the problem; under the field: the problem.
    boss.wait_for_text(&format!(
        "规则 1 · 上班时间 · 时段 1 · 开始时间：{sentence}"
    ));
    // The field's own alert (an alert has no name to find it by).
    assert_eq!(boss.find_css(".kefu-field-error").text(), sentence);
    let page = boss.visible_text();
    for raw in [
        "rules[",
        "working_hours",
        "weekly",
        ".from",
        "invalid time",
        "expected HH:MM",
    ] {
        assert!(!page.contains(raw), "{raw:?} shown to the admin:\n{page}");
    }
    boss.screenshot("admin-problem-zh");

    // The same problem in English after switching the language, still without a path.
    boss.find_by_role("button", "English").click();
    boss.wait_for_text(
        "Rule 1 · Working hours · Range 1 · from: “9点” is not a time: use hours:minutes from 00:00 to 23:59, such as 09:00",
    );
    let page = boss.visible_text();
    assert!(!page.contains("rules["), "{page}");
}
