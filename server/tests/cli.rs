//! The `kefu` command line as an operator runs it: `kb import|export|ask`, `config check` and
//! `agent disable|enable`, each in its own process over a temporary data directory.

use std::path::Path;
use std::process::{Command, Output};

fn kefu(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(args)
        .env("KEFU_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("running kefu")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn exported_ids(data_dir: &Path) -> Vec<String> {
    let output = kefu(&["kb", "export", "--format", "json"], data_dir);
    assert!(output.status.success(), "{}", stderr(&output));
    let items: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    items
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

const GOOD_CSV: &str = "id,category,question,similar,answer\n\
SHOP-7,售后,\"退货, 换货怎么办？\",\"怎么退货|换货流程\",\"在订单页点“退换货”，\n填写原因即可。\"\n\
SHOP-8,支付,可以用花呗吗？,分期付款|花呗分期,支持花呗和信用卡分期。\n";

/// A CSV with quoted commas and newlines imports with the operator's ids as given; export
/// in both formats gives the items back, and a second import replaces instead of adding.
#[test]
fn kb_import_keeps_ids_and_export_gives_the_items_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("shop.csv");
    std::fs::write(&file, GOOD_CSV).unwrap();
    let output = kefu(&["kb", "import", file.to_str().unwrap()], &data);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("2 added, 0 replaced"),
        "{}",
        stdout(&output)
    );
    let ids = exported_ids(&data);
    assert_eq!(
        ids,
        vec!["SHOP-7", "SHOP-8"],
        "an import before the first run replaces the demo knowledge"
    );

    let json = stdout(&kefu(&["kb", "export", "--format", "json"], &data));
    let items: Vec<kefu_core::config::KnowledgeItem> = serde_json::from_str(&json).unwrap();
    assert_eq!(items[0].question, "退货, 换货怎么办？");
    assert_eq!(items[0].answer, "在订单页点“退换货”，\n填写原因即可。");
    assert_eq!(items[0].similar, vec!["怎么退货", "换货流程"]);
    let csv = stdout(&kefu(&["kb", "export", "--format", "csv"], &data));
    assert!(
        csv.starts_with("id,category,question,similar,answer,enabled\n"),
        "{csv}"
    );
    assert!(csv.contains("怎么退货|换货流程"), "{csv}");

    let again = dir.path().join("again.json");
    std::fs::write(&again, json.replace("支持花呗和信用卡分期。", "支持花呗。")).unwrap();
    let output = kefu(&["kb", "import", again.to_str().unwrap()], &data);
    assert!(
        stdout(&output).contains("0 added, 2 replaced"),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&kefu(&["kb", "export"], &data)).contains("支持花呗。"));
}

/// A malformed CSV names the bad line (counting the lines of quoted multi-line fields) and
/// imports nothing, not even its good rows.
#[test]
fn a_malformed_csv_names_the_bad_line_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Start from a known knowledge base.
    let good = dir.path().join("good.csv");
    std::fs::write(&good, GOOD_CSV).unwrap();
    assert!(
        kefu(&["kb", "import", good.to_str().unwrap()], &data)
            .status
            .success()
    );

    let bad = dir.path().join("knowledge.csv");
    let text = "id,category,question,similar,answer\n\
NEW-1,a,\"first, with a comma\",,\"an answer\nover two lines\"\n\
NEW-2,a,second,,fine\n\
NEW-3,a,\"third\",,\"also\nmulti-line\"\n\
NEW-4,a,no answer here,,\n";
    std::fs::write(&bad, text).unwrap();
    let output = kefu(&["kb", "import", bad.to_str().unwrap()], &data);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("knowledge.csv:7: missing answer"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("nothing was imported"),
        "{}",
        stderr(&output)
    );
    assert_eq!(exported_ids(&data), vec!["SHOP-7", "SHOP-8"]);
}

/// `kb ask --kb FILE --json` prints exactly one JSON line, answers from that file alone and
/// writes nothing (the data directory is not even created).
#[test]
fn kb_ask_with_a_file_prints_one_json_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("never-created");
    let file = dir.path().join("shop.csv");
    std::fs::write(&file, GOOD_CSV).unwrap();
    let output = kefu(
        &[
            "kb",
            "ask",
            "--kb",
            file.to_str().unwrap(),
            "--json",
            "怎么退货",
        ],
        &data,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    let answer: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(answer["hit"], true, "{answer}");
    assert_eq!(answer["id"], "SHOP-7");
    assert!(answer["score"].as_f64().unwrap() > 0.0);
    assert!(answer["suggestions"].is_array());

    let output = kefu(
        &[
            "kb",
            "ask",
            "--kb",
            file.to_str().unwrap(),
            "--json",
            "火星上有水吗",
        ],
        &data,
    );
    let miss: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(miss["hit"], false, "{miss}");
    assert_eq!(miss["id"], serde_json::Value::Null);
    assert!(!data.exists(), "kb ask --kb wrote into the data directory");
}

/// Without `--kb`, `kb ask` answers from the stored knowledge base (the demo on a new one).
#[test]
fn kb_ask_without_a_file_uses_the_stored_knowledge() {
    let dir = tempfile::tempdir().unwrap();
    let output = kefu(&["kb", "ask", "--json", "忘记密码怎么办？"], dir.path());
    let answer: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(answer["id"], "kb-001", "{answer}");
}

/// `config check` passes the stored (demo) configuration, and lists every problem of a bad
/// file with its path and fails.
#[test]
fn config_check_prints_every_problem_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let output = kefu(&["config", "check"], dir.path());
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).contains("ok"));

    let mut config = kefu_server::demo::service_config();
    config.skill_groups[0].rule = "vip".to_owned();
    config.knowledge[1].id = config.knowledge[0].id.clone();
    let file = dir.path().join("service.json");
    std::fs::write(&file, serde_json::to_string(&config).unwrap()).unwrap();
    let output = kefu(
        &["config", "check", "--file", file.to_str().unwrap()],
        dir.path(),
    );
    assert!(!output.status.success());
    let text = stdout(&output);
    assert!(text.contains("skill_groups[0].rule: "), "{text}");
    assert!(
        text.contains("knowledge[1].id: duplicate knowledge id"),
        "{text}"
    );
    assert!(
        stderr(&output).contains("2 problem(s)"),
        "{}",
        stderr(&output)
    );

    let toml_file = dir.path().join("service.toml");
    std::fs::write(
        &toml_file,
        toml::to_string(&kefu_server::demo::service_config()).unwrap(),
    )
    .unwrap();
    let output = kefu(
        &["config", "check", "--file", toml_file.to_str().unwrap()],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
}

/// `agent disable` marks the agent disabled in the list (the sessions it revokes are
/// `attacks.rs` `a_disabled_agents_old_session_token_is_refused`), `agent enable` undoes it,
/// and an unknown login is an error that says so.
#[test]
fn agent_disable_and_enable_show_in_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let added = kefu(
        &["agent", "add", "--login", "mei", "--password", "pw-123456"],
        &data,
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let disabled = kefu(&["agent", "disable", "--login", "mei"], &data);
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    let mei = |data: &Path| {
        stdout(&kefu(&["agent", "list"], data))
            .lines()
            .find(|line| line.starts_with("mei\t"))
            .map(str::to_owned)
    };
    assert!(
        mei(&data).is_some_and(|line| line.ends_with("\tdisabled")),
        "{:?}",
        mei(&data)
    );
    let enabled = kefu(&["agent", "enable", "--login", "mei"], &data);
    assert!(enabled.status.success(), "{}", stderr(&enabled));
    assert!(
        mei(&data).is_some_and(|line| !line.contains("disabled")),
        "{:?}",
        mei(&data)
    );
    let unknown = kefu(&["agent", "disable", "--login", "nobody"], &data);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no agent with login \"nobody\""),
        "{}",
        stderr(&unknown)
    );
}
