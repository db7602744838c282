//! Knowledge files (`kefu kb import|export|ask`) and the robot's shared index.
//!
//! A knowledge file is JSON (an array of `{"id", "category", "question", "similar": [..],
//! "answer"}`, `enabled` optional) or CSV with the same columns, found by header name, and
//! similar questions separated by `|`. Every problem names the file and the line of the bad
//! item, e.g. `knowledge.csv:7: missing answer`; a file with any problem imports nothing.
//! What makes an item valid is kefu-core's `Config::validate`; this module only finds lines.

use std::path::Path;
use std::sync::{Arc, RwLock};

use kefu_core::config::{Config, KnowledgeItem};
use kefu_core::robot::KnowledgeIndex;
use serde::Deserialize;

/// The format of a knowledge file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// `.csv` files are CSV; everything else is read as JSON.
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some(extension) if extension.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Json,
        }
    }
}

/// One problem of a knowledge file, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub line: u64,
    pub message: String,
}

/// Every problem of a knowledge file, shown one per line as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.iter().map(|problem| format!("{}:{}: {}", .file, problem.line, problem.message)).collect::<Vec<_>>().join("\n"))]
pub struct FileErrors {
    pub file: String,
    pub problems: Vec<FileProblem>,
}

/// Parses and validates a knowledge file's text; `file` is the name used in problems.
pub fn parse(text: &str, format: Format, file: &str) -> Result<Vec<KnowledgeItem>, FileErrors> {
    let Parsed {
        items,
        lines,
        mut problems,
    } = match format {
        Format::Json => parse_json(text),
        Format::Csv => parse_csv(text),
    };
    // The items that were readable are checked too, so one run lists every problem.
    problems.extend(validate(&items, &lines));
    problems.sort_by_key(|problem| problem.line);
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(FileErrors {
            file: file.to_owned(),
            problems,
        })
    }
}

/// The readable items of a file with their lines, and the problems of the others.
#[derive(Default)]
struct Parsed {
    items: Vec<KnowledgeItem>,
    lines: Vec<u64>,
    problems: Vec<FileProblem>,
}

impl Parsed {
    fn failed(line: u64, message: String) -> Parsed {
        Parsed {
            problems: vec![FileProblem { line, message }],
            ..Parsed::default()
        }
    }
}

/// An item as written in a file, before the checks: absent fields are told apart from empty.
#[derive(Deserialize)]
struct RawItem {
    id: Option<String>,
    #[serde(default)]
    category: String,
    question: Option<String>,
    #[serde(default)]
    similar: Vec<String>,
    answer: Option<String>,
    enabled: Option<bool>,
}

fn item_from_raw(
    raw: RawItem,
    line: u64,
    problems: &mut Vec<FileProblem>,
) -> Option<KnowledgeItem> {
    let mut missing = |field: &str| {
        problems.push(FileProblem {
            line,
            message: format!("missing {field}"),
        })
    };
    let id = raw.id.or_else(|| {
        missing("id");
        None
    });
    let question = raw.question.or_else(|| {
        missing("question");
        None
    });
    let answer = raw.answer.or_else(|| {
        missing("answer");
        None
    });
    Some(KnowledgeItem {
        id: id?,
        category: raw.category,
        question: question?,
        similar: raw.similar,
        answer: answer?,
        enabled: raw.enabled.unwrap_or(true),
    })
}

fn parse_json(text: &str) -> Parsed {
    let elements: Vec<&serde_json::value::RawValue> = match serde_json::from_str(text) {
        Ok(elements) => elements,
        Err(error) => {
            return Parsed::failed(
                error.line().max(1) as u64,
                format!("not a JSON array of knowledge items: {error}"),
            );
        }
    };
    let Parsed {
        mut items,
        mut lines,
        mut problems,
    } = Parsed::default();
    for element in elements {
        // The element borrows from `text`, so its offset gives its line.
        let offset = element.get().as_ptr() as usize - text.as_ptr() as usize;
        let line = 1 + text[..offset].bytes().filter(|byte| *byte == b'\n').count() as u64;
        match serde_json::from_str::<RawItem>(element.get()) {
            Ok(raw) => {
                if let Some(item) = item_from_raw(raw, line, &mut problems) {
                    items.push(item);
                    lines.push(line);
                }
            }
            Err(error) => problems.push(FileProblem {
                line: line + error.line() as u64 - 1,
                message: error.to_string(),
            }),
        }
    }
    Parsed {
        items,
        lines,
        problems,
    }
}

/// The CSV columns, in the order they are written.
const CSV_COLUMNS: [&str; 6] = ["id", "category", "question", "similar", "answer", "enabled"];

fn parse_csv(text: &str) -> Parsed {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => return Parsed::failed(1, format!("unreadable header: {error}")),
    };
    let column = |name: &str| {
        headers
            .iter()
            .position(|header| header.eq_ignore_ascii_case(name))
    };
    for required in ["id", "question", "answer"] {
        if column(required).is_none() {
            return Parsed::failed(
                1,
                format!(
                    "the header has no \"{required}\" column (columns: {})",
                    CSV_COLUMNS.join(",")
                ),
            );
        }
    }
    let Parsed {
        mut items,
        mut lines,
        mut problems,
    } = Parsed::default();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |position| position.line());
                problems.push(FileProblem {
                    line,
                    message: format!("unreadable row: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |position| position.line());
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        let field = |name: &str| {
            column(name)
                .and_then(|index| record.get(index))
                .map(str::to_owned)
        };
        let enabled = match field("enabled").as_deref().map(str::trim) {
            None | Some("") => None,
            Some(value) if ["true", "1", "yes"].contains(&value.to_ascii_lowercase().as_str()) => {
                Some(true)
            }
            Some(value) if ["false", "0", "no"].contains(&value.to_ascii_lowercase().as_str()) => {
                Some(false)
            }
            Some(value) => {
                problems.push(FileProblem {
                    line,
                    message: format!("enabled must be true or false, not {value:?}"),
                });
                continue;
            }
        };
        let raw = RawItem {
            id: field("id").filter(|id| !id.trim().is_empty()),
            category: field("category").unwrap_or_default(),
            question: field("question").filter(|question| !question.trim().is_empty()),
            similar: field("similar")
                .map(|similar| {
                    similar
                        .split('|')
                        .map(str::trim)
                        .filter(|text| !text.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            answer: field("answer").filter(|answer| !answer.trim().is_empty()),
            enabled,
        };
        if let Some(item) = item_from_raw(raw, line, &mut problems) {
            items.push(item);
            lines.push(line);
        }
    }
    Parsed {
        items,
        lines,
        problems,
    }
}

/// kefu-core's knowledge rules (ids, duplicates, lengths), with each problem put on the line
/// of its item.
fn validate(items: &[KnowledgeItem], lines: &[u64]) -> Vec<FileProblem> {
    let config = Config {
        knowledge: items.to_vec(),
        ..Config::default()
    };
    let Err(errors) = config.validate() else {
        return Vec::new();
    };
    errors
        .problems
        .into_iter()
        .filter_map(|problem| {
            let rest = problem.path.strip_prefix("knowledge[")?;
            let (index, field) = rest.split_once(']')?;
            let line = *lines.get(index.parse::<usize>().ok()?)?;
            let field = field.trim_start_matches('.');
            let message = if problem.message == "must not be empty" {
                format!("missing {field}")
            } else {
                format!("{field}: {}", problem.message)
            };
            Some(FileProblem { line, message })
        })
        .collect()
}

/// Writes items as a knowledge file.
pub fn write(items: &[KnowledgeItem], format: Format) -> anyhow::Result<String> {
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(items)? + "\n"),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(CSV_COLUMNS)?;
            for item in items {
                let similar = item.similar.join("|");
                let enabled = if item.enabled { "true" } else { "false" };
                writer.write_record([
                    &item.id,
                    &item.category,
                    &item.question,
                    &similar,
                    &item.answer,
                    enabled,
                ])?;
            }
            Ok(String::from_utf8(writer.into_inner()?)?)
        }
    }
}

/// The answer of `kefu kb ask --json`: one line.
pub fn ask_json(index: &KnowledgeIndex, question: &str) -> String {
    let result = index.ask(question);
    let best = result.best.as_ref();
    serde_json::json!({
        "hit": result.is_hit(),
        "id": best.map(|hit| hit.id.clone()),
        "score": best.or(result.suggestions.first()).map(|hit| (hit.score * 1000.0).round() / 1000.0),
        "suggestions": result.suggestions.iter().map(|hit| hit.id.clone()).collect::<Vec<_>>(),
    })
    .to_string()
}

/// The robot's index over the enabled knowledge items, shared between the hub (which swaps
/// it when the knowledge changes) and the agents' search; readers take a cheap `Arc`.
#[derive(Clone)]
pub struct SharedIndex(Arc<RwLock<Arc<KnowledgeIndex>>>);

impl SharedIndex {
    pub fn new(items: &[KnowledgeItem]) -> SharedIndex {
        SharedIndex(Arc::new(RwLock::new(Arc::new(build_index(items)))))
    }

    /// The current index.
    pub fn get(&self) -> Arc<KnowledgeIndex> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Rebuilds the index from `items` and makes it current.
    pub fn rebuild(&self, items: &[KnowledgeItem]) {
        let index = Arc::new(build_index(items));
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = index;
    }
}

fn build_index(items: &[KnowledgeItem]) -> KnowledgeIndex {
    let enabled: Vec<KnowledgeItem> = items.iter().filter(|item| item.enabled).cloned().collect();
    KnowledgeIndex::new(&enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_may_hold_quoted_commas_and_newlines() {
        let text = "id,category,question,similar,answer\n\
                    k1,售后,\"退款, 多久到账？\",钱什么时候退|退款进度,\"1-3 个工作日，\n节假日顺延\"\n\
                    k2,,怎么开发票？,,在订单页申请\n";
        let items = parse(text, Format::Csv, "kb.csv").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].question, "退款, 多久到账？");
        assert_eq!(items[0].similar, vec!["钱什么时候退", "退款进度"]);
        assert_eq!(items[0].answer, "1-3 个工作日，\n节假日顺延");
        assert_eq!(items[1].id, "k2");
        assert!(items[1].similar.is_empty());
    }

    #[test]
    fn a_csv_problem_names_the_line_of_its_record() {
        let text = "id,category,question,similar,answer\n\
                    k1,,\"多行\n问题\",,答案\n\
                    k2,,没有答案,,\n\
                    k1,,重复,,答案\n";
        let errors = parse(text, Format::Csv, "kb.csv").unwrap_err();
        assert_eq!(
            errors.to_string(),
            "kb.csv:4: missing answer\nkb.csv:5: id: duplicate knowledge id \"k1\""
        );
    }

    #[test]
    fn a_json_problem_names_the_line_of_its_item() {
        let text = "[\n  {\"id\": \"a\", \"question\": \"q\", \"answer\": \"x\"},\n  {\"id\": \"b\",\n   \"question\": \"q\"}\n]";
        let errors = parse(text, Format::Json, "kb.json").unwrap_err();
        assert_eq!(errors.to_string(), "kb.json:3: missing answer");
        let broken = parse("[\n{\"id\": \"a\",}\n]", Format::Json, "kb.json").unwrap_err();
        assert_eq!(broken.problems[0].line, 2, "{broken}");
    }

    #[test]
    fn written_files_read_back_the_same() {
        let items = kefu_core::config::demo_knowledge();
        for format in [Format::Json, Format::Csv] {
            let text = write(&items, format).unwrap();
            assert_eq!(parse(&text, format, "kb").unwrap(), items, "{format:?}");
        }
    }
}
