//! The configuration model: skill groups, service rules, service mode with the robot
//! settings, agents, knowledge items and canned phrases.
//!
//! The types are plain serde structs so that the server can read them from TOML (with the
//! `toml` crate) and the admin screens can exchange them as JSON. Every field an operator may
//! leave out has a default that reads well in Chinese. Values whose syntax serde cannot see
//! (times such as `"09:00"`, time zone names, references between sections) are checked by
//! [`Config::validate`], which reports *every* problem with its path, like
//! `skill_groups[2].rule: unknown rule "vip"`, so an operator fixes a file in one pass.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

use crate::conversation::ConversationSettings;
use crate::hours;
use crate::protocol::{MAX_ID_CHARS, MAX_MESSAGE_CHARS};
use crate::text::char_count;

/// The whole configuration of one Kefu installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Config {
    /// Service mode and robot settings (服务模式, 机器人设置).
    #[serde(default)]
    pub service: ServiceSettings,
    /// Human service rules (人工服务规则), referenced by name from skill groups.
    #[serde(default)]
    pub rules: Vec<ServiceRule>,
    /// Skill groups (技能组). The first one is the fallback group.
    #[serde(default)]
    pub skill_groups: Vec<SkillGroup>,
    /// Agents (客服) and their capacity.
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
    /// The knowledge base the robot answers from.
    #[serde(default)]
    pub knowledge: Vec<KnowledgeItem>,
    /// Canned phrases (常用语), shared or personal.
    #[serde(default)]
    pub canned_phrases: Vec<CannedPhrase>,
    /// How the widget looks on the site owner's pages, and which sites may embed it.
    #[serde(default)]
    pub widget: WidgetSettings,
}

/// Widget settings (挂件设置): what the pasted tag says and which pages may embed the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSettings {
    /// Origins (`https://www.example.com`) whose pages may frame the panel and open its
    /// socket, besides the server's own.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// The launcher's and the panel's accent colour, `#rrggbb`.
    #[serde(default = "default_accent_color")]
    pub accent_color: String,
    /// The launcher button's text.
    #[serde(default = "default_launcher_text")]
    pub launcher_text: String,
    /// The first words a customer reads in the panel.
    #[serde(default = "default_greeting")]
    pub greeting: String,
    /// The languages offered (`zh-CN`, `en`); the first is the default.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// What the operator says to visitors whose language is English; every text left empty
    /// is the built-in English one ([`Config::texts_for`]). The texts above and those of the
    /// rules and the robot are the Chinese ones.
    #[serde(default)]
    pub english: OperatorTexts,
}

/// The operator's texts for visitors of one language other than Chinese; an empty text means
/// "the built-in default of that language".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OperatorTexts {
    /// The panel's title (the skill group's display name in Chinese).
    #[serde(default)]
    pub chat_title: String,
    #[serde(default)]
    pub greeting: String,
    #[serde(default)]
    pub no_answer_reply: String,
    #[serde(default)]
    pub robot_only_reply: String,
    /// One text for every rule (the rules' own are the Chinese ones).
    #[serde(default)]
    pub off_hours_message: String,
    #[serde(default)]
    pub no_agent_message: String,
    #[serde(default)]
    pub idle_timeout_message: String,
}

/// The language a visitor reads, from the BCP 47 tag their panel sent (`hello.locale`):
/// English for `en…`, otherwise Chinese, the operator's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitorLanguage {
    Chinese,
    English,
}

impl VisitorLanguage {
    pub fn from_locale(locale: Option<&str>) -> VisitorLanguage {
        match locale {
            Some(tag) if tag.trim().to_ascii_lowercase().starts_with("en") => {
                VisitorLanguage::English
            }
            _ => VisitorLanguage::Chinese,
        }
    }
}

/// The texts a visitor of one language reads, resolved by [`Config::texts_for`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorTexts {
    /// The panel's title: the group's display name, or the English title.
    pub chat_title: String,
    pub greeting: String,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        WidgetSettings {
            allowed_origins: Vec::new(),
            accent_color: default_accent_color(),
            launcher_text: default_launcher_text(),
            greeting: default_greeting(),
            languages: default_languages(),
            english: OperatorTexts::default(),
        }
    }
}

/// The languages the widget speaks.
pub const WIDGET_LANGUAGES: [&str; 2] = ["zh-CN", "en"];

impl WidgetSettings {
    /// The tag a site owner pastes, for a server reachable at `server_url` (no trailing
    /// slash): the loader with the settings that differ from the loader's defaults.
    pub fn snippet(&self, server_url: &str) -> String {
        let mut attributes = String::new();
        if self.accent_color != default_accent_color() {
            attributes.push_str(&format!(
                r#" data-color="{}""#,
                attribute_escape(&self.accent_color)
            ));
        }
        if self.launcher_text != default_launcher_text() {
            attributes.push_str(&format!(
                r#" data-label="{}""#,
                attribute_escape(&self.launcher_text)
            ));
        }
        if let [only] = self.languages.as_slice() {
            attributes.push_str(&format!(r#" data-lang="{}""#, attribute_escape(only)));
        }
        format!(
            r#"<script src="{server_url}/embed.js" data-site="demo"{attributes} async></script>"#
        )
    }
}

fn attribute_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Whether `origin` is a bare web origin: `http(s)://host` with an optional port, nothing after.
pub fn is_web_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    });
    host_ok && port_ok
}

/// How customers are served (服务模式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    /// 机器人优先: the robot answers first and hands over on request or after misses.
    #[default]
    RobotFirst,
    /// 仅机器人服务: the robot only; transfer requests get a clear refusal.
    RobotOnly,
    /// 仅客服服务: the robot is off; conversations go straight to the skill group.
    HumanOnly,
}

/// The service mode with the robot settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSettings {
    #[serde(default)]
    pub mode: ServiceMode,
    #[serde(default)]
    pub robot: RobotSettings,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            mode: ServiceMode::RobotFirst,
            robot: RobotSettings::default(),
        }
    }
}

/// Robot settings (机器人设置).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotSettings {
    /// 无答案回复: what the robot says when it has no answer.
    #[serde(default = "default_no_answer_reply")]
    pub no_answer_reply: String,
    /// 转人工条件: a customer message containing one of these transfers to a human.
    #[serde(default = "default_transfer_keywords")]
    pub transfer_keywords: Vec<String>,
    /// Whether the widget shows an explicit "转人工" button.
    #[serde(default = "default_true")]
    pub transfer_button: bool,
    /// 无答案回复次数: consecutive misses that transfer to a human; 0 never transfers on misses.
    #[serde(default = "default_misses_before_transfer")]
    pub misses_before_transfer: u32,
    /// 人工技能组: the group transfers go to when the customer did not pick one; when absent,
    /// the first skill group.
    #[serde(default)]
    pub skill_group: Option<String>,
    /// The clear answer to a transfer request in robot_only mode.
    #[serde(default = "default_robot_only_reply")]
    pub robot_only_reply: String,
}

impl Default for RobotSettings {
    fn default() -> Self {
        RobotSettings {
            no_answer_reply: default_no_answer_reply(),
            transfer_keywords: default_transfer_keywords(),
            transfer_button: true,
            misses_before_transfer: default_misses_before_transfer(),
            skill_group: None,
            robot_only_reply: default_robot_only_reply(),
        }
    }
}

/// A human service rule (人工服务规则).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRule {
    pub name: String,
    /// 会员超时: a human session whose customer stays silent this long is ended; 0 disables.
    #[serde(default = "default_idle_timeout_minutes")]
    pub idle_timeout_minutes: u32,
    /// 上班时间.
    pub working_hours: WorkingHours,
    /// 非上班时间提示.
    #[serde(default = "default_off_hours_message")]
    pub off_hours_message: String,
    /// 无客服在线提示.
    #[serde(default = "default_no_agent_message")]
    pub no_agent_message: String,
    /// The notice shown when the idle timeout ends a session.
    #[serde(default = "default_idle_timeout_message")]
    pub idle_timeout_message: String,
}

/// A weekly schedule in an IANA time zone, with dated exceptions.
///
/// Ranges belong to the day they start on: `{ from = "22:00", to = "06:00" }` on Friday is
/// open from Friday 22:00 to Saturday 06:00. `to = "24:00"` means the end of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// An IANA zone name such as `Asia/Shanghai`; wall-clock times are read in this zone.
    pub time_zone: String,
    #[serde(default)]
    pub weekly: Vec<WeeklyHours>,
    #[serde(default)]
    pub exceptions: Vec<HoursException>,
}

/// Opening hours repeated on some days of every week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    pub days: Vec<Weekday>,
    /// `HH:MM`, local wall-clock time.
    pub from: String,
    /// `HH:MM` or `24:00`; earlier than `from` for a range that ends the next day.
    pub to: String,
}

/// A dated exception that replaces the weekly hours of one local date: a holiday (no
/// ranges: closed all day) or a special working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursException {
    /// `YYYY-MM-DD`, a local date in the schedule's zone.
    pub date: String,
    #[serde(default)]
    pub open: Vec<TimeRange>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One opening range of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

/// A day of the week as written in configuration files (`mon` … `sun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    #[serde(alias = "monday")]
    Mon,
    #[serde(alias = "tuesday")]
    Tue,
    #[serde(alias = "wednesday")]
    Wed,
    #[serde(alias = "thursday")]
    Thu,
    #[serde(alias = "friday")]
    Fri,
    #[serde(alias = "saturday")]
    Sat,
    #[serde(alias = "sunday")]
    Sun,
}

impl Weekday {
    pub const WORKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
}

/// A skill group (技能组).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillGroup {
    /// The stable name used in configuration, frames and the widget's `data-group`.
    pub name: String,
    /// 对外展示名: the name customers see.
    pub display_name: String,
    /// The name of the service rule of this group.
    pub rule: String,
    /// 关联成员: agent logins. An agent also belongs to every group listed in its own
    /// `groups`; membership is the union of both lists.
    #[serde(default)]
    pub members: Vec<String>,
}

/// An agent (客服) as configured; the live status is not configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// Login, also the agent id in events.
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub avatar: Option<String>,
    /// 在线最大接单人数.
    #[serde(default = "default_max_concurrent_chats")]
    pub max_concurrent_chats: u32,
    /// Skill groups this agent takes chats from.
    #[serde(default)]
    pub groups: Vec<String>,
    /// A password hash in PHC string format, checked by the server (the core never sees
    /// passwords). Absent for agents created through the server's own tooling.
    #[serde(default)]
    pub password_hash: Option<String>,
}

/// A knowledge item the robot can answer with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeItem {
    pub id: String,
    #[serde(default)]
    pub category: String,
    pub question: String,
    /// Other ways customers ask the same question (相似问法).
    #[serde(default)]
    pub similar: Vec<String>,
    pub answer: String,
    #[serde(default = "default_true")]
    pub enabled: bool,
}

/// A canned phrase (常用语) an agent sends with a click.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedPhrase {
    /// 类目.
    #[serde(default)]
    pub category: String,
    pub content: String,
    /// The agent login of a personal phrase; absent for a phrase shared by everyone.
    #[serde(default)]
    pub owner: Option<String>,
}

fn default_true() -> bool {
    true
}
fn default_no_answer_reply() -> String {
    "抱歉，这个问题我还不会回答。您可以换个说法，或者输入“转人工”联系人工客服。".to_owned()
}
/// The no-answer reply of robot_only, where no person can be asked for.
const ROBOT_ONLY_NO_ANSWER_REPLY: &str = "抱歉，这个问题我还不会回答，请换个说法试试。";

/// The built-in English texts, for what the operator left empty in `widget.english`.
mod english {
    pub const CHAT_TITLE: &str = "Customer service";
    pub const GREETING: &str = "Hello! How can we help you?";
    pub const NO_ANSWER_REPLY: &str = "Sorry, I cannot answer that yet. Try asking another way, or type “human” to talk to a person.";
    pub const ROBOT_ONLY_NO_ANSWER_REPLY: &str =
        "Sorry, I cannot answer that yet. Please try asking another way.";
    pub const ROBOT_ONLY_REPLY: &str = "Only our assistant is available right now, so we cannot connect you to a person. Please try asking another way.";
    pub const OFF_HOURS_MESSAGE: &str =
        "We are outside our working hours now; please come back when we are open.";
    pub const NO_AGENT_MESSAGE: &str =
        "No agent is online right now; please try again a little later.";
    pub const IDLE_TIMEOUT_MESSAGE: &str =
        "The chat with our agent ended after a long silence. Ask again any time if you need help.";
}
fn default_transfer_keywords() -> Vec<String> {
    ["转人工", "人工客服", "人工", "human", "agent"]
        .iter()
        .map(|keyword| keyword.to_string())
        .collect()
}
fn default_misses_before_transfer() -> u32 {
    3
}
fn default_robot_only_reply() -> String {
    "当前仅提供智能机器人服务，暂时无法转接人工客服，请换个说法提问。".to_owned()
}
fn default_idle_timeout_minutes() -> u32 {
    10
}
fn default_off_hours_message() -> String {
    "现在是非工作时间，客服还未上班哦，请在工作时间再来咨询。".to_owned()
}
fn default_no_agent_message() -> String {
    "现在暂时没有客服在线呢，请您过一会再来吧！".to_owned()
}
fn default_idle_timeout_message() -> String {
    "您长时间没有回复，本次人工会话已结束。如需帮助，请再次提问。".to_owned()
}
fn default_max_concurrent_chats() -> u32 {
    5
}
fn default_accent_color() -> String {
    "#1f6feb".to_owned()
}
fn default_launcher_text() -> String {
    "在线客服".to_owned()
}
fn default_greeting() -> String {
    "您好，有什么可以帮您？".to_owned()
}
fn default_languages() -> Vec<String> {
    WIDGET_LANGUAGES
        .iter()
        .map(|language| language.to_string())
        .collect()
}

/// The demo knowledge base shipped in `core/demo/knowledge.json` (Chinese and English
/// questions of a small online shop and of Kefu itself). A test checks that it parses, so the
/// empty fallback never happens in a released build.
pub fn demo_knowledge() -> Vec<KnowledgeItem> {
    serde_json::from_str(include_str!("../demo/knowledge.json")).unwrap_or_default()
}

/// The maximum of `max_concurrent_chats` accepted by validation; a typo such as `500`
/// would otherwise drown one person in chats.
pub const MAX_CONCURRENT_CHATS_LIMIT: u32 = 100;

/// What is wrong with one setting, as data: the admin pages say it in the admin's language
/// (with the place from the problem's path), the CLI and logs in English ([`fmt::Display`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProblemKind {
    Empty,
    TooLong {
        max_chars: usize,
    },
    DuplicateRule {
        name: String,
    },
    DuplicateGroup {
        name: String,
    },
    DuplicateLogin {
        login: String,
    },
    DuplicateKnowledgeId {
        id: String,
    },
    UnknownRule {
        name: String,
    },
    UnknownGroup {
        name: String,
    },
    UnknownAgent {
        login: String,
    },
    NoSkillGroup,
    ChatsOutOfRange {
        max: u32,
    },
    NotAnOrigin {
        value: String,
    },
    NotAColour,
    NoLanguage,
    UnknownLanguage {
        value: String,
    },
    UnknownTimeZone {
        zone: String,
    },
    NoDays,
    /// A time not `HH:MM` between 00:00 and `latest` (23:59 for a start, 24:00 for an end).
    InvalidTime {
        value: String,
        latest: String,
    },
    EmptyRange {
        from: String,
        to: String,
    },
    InvalidDate {
        value: String,
    },
    DuplicateDate {
        date: String,
    },
    /// A login or a knowledge id already in use (found by the server's store).
    Taken {
        value: String,
    },
    PasswordTooShort {
        min_chars: usize,
    },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Empty => write!(formatter, "must not be empty"),
            ProblemKind::TooLong { max_chars } => {
                write!(formatter, "is longer than {max_chars} characters")
            }
            ProblemKind::DuplicateRule { name } => {
                write!(formatter, "duplicate rule name \"{name}\"")
            }
            ProblemKind::DuplicateGroup { name } => {
                write!(formatter, "duplicate skill group \"{name}\"")
            }
            ProblemKind::DuplicateLogin { login } => {
                write!(formatter, "duplicate agent login \"{login}\"")
            }
            ProblemKind::DuplicateKnowledgeId { id } => {
                write!(formatter, "duplicate knowledge id \"{id}\"")
            }
            ProblemKind::UnknownRule { name } => write!(formatter, "unknown rule \"{name}\""),
            ProblemKind::UnknownGroup { name } => {
                write!(formatter, "unknown skill group \"{name}\"")
            }
            ProblemKind::UnknownAgent { login } => write!(formatter, "unknown agent \"{login}\""),
            ProblemKind::NoSkillGroup => write!(formatter, "at least one skill group is needed"),
            ProblemKind::ChatsOutOfRange { max } => {
                write!(formatter, "must be between 1 and {max}")
            }
            ProblemKind::NotAnOrigin { value } => write!(
                formatter,
                "\"{value}\" is not an origin such as https://www.example.com (no path, no trailing slash)"
            ),
            ProblemKind::NotAColour => write!(formatter, "must be a colour such as #1f6feb"),
            ProblemKind::NoLanguage => write!(formatter, "at least one language is needed"),
            ProblemKind::UnknownLanguage { value } => {
                write!(formatter, "unknown language \"{value}\"; use zh-CN or en")
            }
            ProblemKind::UnknownTimeZone { zone } => {
                write!(formatter, "unknown IANA time zone \"{zone}\"")
            }
            ProblemKind::NoDays => write!(formatter, "must list at least one day"),
            ProblemKind::InvalidTime { value, latest } => write!(
                formatter,
                "invalid time \"{value}\", expected HH:MM from 00:00 to {latest}"
            ),
            ProblemKind::EmptyRange { from, to } => write!(
                formatter,
                "empty range {from}–{to}; use 00:00–24:00 for a whole day"
            ),
            ProblemKind::InvalidDate { value } => {
                write!(formatter, "invalid date \"{value}\", expected YYYY-MM-DD")
            }
            ProblemKind::DuplicateDate { date } => {
                write!(formatter, "date {date} has two exceptions")
            }
            ProblemKind::Taken { value } => write!(formatter, "\"{value}\" is taken"),
            ProblemKind::PasswordTooShort { min_chars } => {
                write!(formatter, "must have at least {min_chars} characters")
            }
        }
    }
}

/// One problem found by [`Config::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Where the problem is, such as `skill_groups[2].rule`.
    pub path: String,
    /// What is wrong, such as `unknown rule "vip"` (the English of `kind`).
    pub message: String,
    /// What is wrong, as data.
    pub kind: ProblemKind,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.path, self.message)
    }
}

/// Every problem of a configuration, section by section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration:\n{}", .problems.iter().map(|problem| format!("  {problem}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors {
    pub problems: Vec<ConfigProblem>,
}

/// Collects problems with their paths while validation walks the configuration.
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, kind: ProblemKind) {
        self.0.push(ConfigProblem {
            path: path.into(),
            message: kind.to_string(),
            kind,
        });
    }

    fn require_text(&mut self, path: &str, value: &str, max_chars: usize) {
        if value.trim().is_empty() {
            self.add(path, ProblemKind::Empty);
        } else if char_count(value) > max_chars {
            self.add(path, ProblemKind::TooLong { max_chars });
        }
    }

    fn require_id(&mut self, path: &str, value: &str) {
        self.require_text(path, value, MAX_ID_CHARS);
    }
}

impl Config {
    /// Parses a configuration from JSON (the server parses TOML itself with the same types).
    pub fn from_json(json: &str) -> Result<Config, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Checks everything serde cannot: syntax of times, dates and zones, references between
    /// sections, duplicate names, limits. Returns every problem, never panics.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut problems = Problems(Vec::new());
        let rule_names = self.check_rules(&mut problems);
        let group_names = self.check_skill_groups(&mut problems, &rule_names);
        let agent_logins = self.check_agents(&mut problems, &group_names);
        self.check_group_members(&mut problems, &agent_logins);
        self.check_service(&mut problems, &group_names);
        self.check_knowledge(&mut problems);
        self.check_canned_phrases(&mut problems, &agent_logins);
        self.check_widget(&mut problems);
        if problems.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors {
                problems: problems.0,
            })
        }
    }

    fn check_rules(&self, problems: &mut Problems) -> BTreeSet<&str> {
        let mut names = BTreeSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let path = format!("rules[{index}]");
            problems.require_id(&format!("{path}.name"), &rule.name);
            if !rule.name.trim().is_empty() && !names.insert(rule.name.as_str()) {
                problems.add(
                    format!("{path}.name"),
                    ProblemKind::DuplicateRule {
                        name: rule.name.clone(),
                    },
                );
            }
            for (field, value) in [
                ("off_hours_message", &rule.off_hours_message),
                ("no_agent_message", &rule.no_agent_message),
                ("idle_timeout_message", &rule.idle_timeout_message),
            ] {
                problems.require_text(&format!("{path}.{field}"), value, MAX_MESSAGE_CHARS);
            }
            for (field, kind) in hours::check_working_hours(&rule.working_hours) {
                problems.add(format!("{path}.working_hours{field}"), kind);
            }
        }
        names
    }

    fn check_skill_groups(
        &self,
        problems: &mut Problems,
        rule_names: &BTreeSet<&str>,
    ) -> BTreeSet<&str> {
        let mut names = BTreeSet::new();
        if self.skill_groups.is_empty() {
            problems.add("skill_groups", ProblemKind::NoSkillGroup);
        }
        for (index, group) in self.skill_groups.iter().enumerate() {
            let path = format!("skill_groups[{index}]");
            problems.require_id(&format!("{path}.name"), &group.name);
            if !group.name.trim().is_empty() && !names.insert(group.name.as_str()) {
                problems.add(
                    format!("{path}.name"),
                    ProblemKind::DuplicateGroup {
                        name: group.name.clone(),
                    },
                );
            }
            problems.require_text(
                &format!("{path}.display_name"),
                &group.display_name,
                MAX_ID_CHARS,
            );
            if !rule_names.contains(group.rule.as_str()) {
                problems.add(
                    format!("{path}.rule"),
                    ProblemKind::UnknownRule {
                        name: group.rule.clone(),
                    },
                );
            }
        }
        names
    }

    fn check_agents(
        &self,
        problems: &mut Problems,
        group_names: &BTreeSet<&str>,
    ) -> BTreeSet<&str> {
        let mut logins = BTreeSet::new();
        for (index, agent) in self.agents.iter().enumerate() {
            let path = format!("agents[{index}]");
            problems.require_id(&format!("{path}.login"), &agent.login);
            if !agent.login.trim().is_empty() && !logins.insert(agent.login.as_str()) {
                problems.add(
                    format!("{path}.login"),
                    ProblemKind::DuplicateLogin {
                        login: agent.login.clone(),
                    },
                );
            }
            problems.require_text(
                &format!("{path}.display_name"),
                &agent.display_name,
                MAX_ID_CHARS,
            );
            if agent.max_concurrent_chats == 0
                || agent.max_concurrent_chats > MAX_CONCURRENT_CHATS_LIMIT
            {
                problems.add(
                    format!("{path}.max_concurrent_chats"),
                    ProblemKind::ChatsOutOfRange {
                        max: MAX_CONCURRENT_CHATS_LIMIT,
                    },
                );
            }
            for (group_index, group) in agent.groups.iter().enumerate() {
                if !group_names.contains(group.as_str()) {
                    problems.add(
                        format!("{path}.groups[{group_index}]"),
                        ProblemKind::UnknownGroup {
                            name: group.clone(),
                        },
                    );
                }
            }
        }
        logins
    }

    fn check_group_members(&self, problems: &mut Problems, agent_logins: &BTreeSet<&str>) {
        for (index, group) in self.skill_groups.iter().enumerate() {
            for (member_index, member) in group.members.iter().enumerate() {
                if !agent_logins.contains(member.as_str()) {
                    problems.add(
                        format!("skill_groups[{index}].members[{member_index}]"),
                        ProblemKind::UnknownAgent {
                            login: member.clone(),
                        },
                    );
                }
            }
        }
    }

    fn check_service(&self, problems: &mut Problems, group_names: &BTreeSet<&str>) {
        let robot = &self.service.robot;
        problems.require_text(
            "service.robot.no_answer_reply",
            &robot.no_answer_reply,
            MAX_MESSAGE_CHARS,
        );
        problems.require_text(
            "service.robot.robot_only_reply",
            &robot.robot_only_reply,
            MAX_MESSAGE_CHARS,
        );
        for (index, keyword) in robot.transfer_keywords.iter().enumerate() {
            problems.require_text(
                &format!("service.robot.transfer_keywords[{index}]"),
                keyword,
                MAX_ID_CHARS,
            );
        }
        if let Some(group) = &robot.skill_group
            && !group_names.contains(group.as_str())
        {
            problems.add(
                "service.robot.skill_group",
                ProblemKind::UnknownGroup {
                    name: group.clone(),
                },
            );
        }
    }

    fn check_knowledge(&self, problems: &mut Problems) {
        let mut ids = BTreeSet::new();
        for (index, item) in self.knowledge.iter().enumerate() {
            let path = format!("knowledge[{index}]");
            problems.require_id(&format!("{path}.id"), &item.id);
            if !item.id.trim().is_empty() && !ids.insert(item.id.as_str()) {
                problems.add(
                    format!("{path}.id"),
                    ProblemKind::DuplicateKnowledgeId {
                        id: item.id.clone(),
                    },
                );
            }
            problems.require_text(
                &format!("{path}.question"),
                &item.question,
                MAX_MESSAGE_CHARS,
            );
            problems.require_text(&format!("{path}.answer"), &item.answer, MAX_MESSAGE_CHARS);
            for (similar_index, similar) in item.similar.iter().enumerate() {
                problems.require_text(
                    &format!("{path}.similar[{similar_index}]"),
                    similar,
                    MAX_MESSAGE_CHARS,
                );
            }
        }
    }

    fn check_canned_phrases(&self, problems: &mut Problems, agent_logins: &BTreeSet<&str>) {
        for (index, phrase) in self.canned_phrases.iter().enumerate() {
            let path = format!("canned_phrases[{index}]");
            problems.require_text(
                &format!("{path}.content"),
                &phrase.content,
                MAX_MESSAGE_CHARS,
            );
            if let Some(owner) = &phrase.owner
                && !agent_logins.contains(owner.as_str())
            {
                problems.add(
                    format!("{path}.owner"),
                    ProblemKind::UnknownAgent {
                        login: owner.clone(),
                    },
                );
            }
        }
    }

    fn check_widget(&self, problems: &mut Problems) {
        let widget = &self.widget;
        for (index, origin) in widget.allowed_origins.iter().enumerate() {
            if !is_web_origin(origin) {
                problems.add(
                    format!("widget.allowed_origins[{index}]"),
                    ProblemKind::NotAnOrigin {
                        value: origin.clone(),
                    },
                );
            }
        }
        let color = widget.accent_color.as_bytes();
        if color.len() != 7 || color[0] != b'#' || !color[1..].iter().all(u8::is_ascii_hexdigit) {
            problems.add("widget.accent_color", ProblemKind::NotAColour);
        }
        problems.require_text("widget.launcher_text", &widget.launcher_text, 20);
        problems.require_text("widget.greeting", &widget.greeting, MAX_MESSAGE_CHARS);
        let english = &widget.english;
        for (field, text, max_chars) in [
            ("chat_title", &english.chat_title, 40),
            ("greeting", &english.greeting, MAX_MESSAGE_CHARS),
            (
                "no_answer_reply",
                &english.no_answer_reply,
                MAX_MESSAGE_CHARS,
            ),
            (
                "robot_only_reply",
                &english.robot_only_reply,
                MAX_MESSAGE_CHARS,
            ),
            (
                "off_hours_message",
                &english.off_hours_message,
                MAX_MESSAGE_CHARS,
            ),
            (
                "no_agent_message",
                &english.no_agent_message,
                MAX_MESSAGE_CHARS,
            ),
            (
                "idle_timeout_message",
                &english.idle_timeout_message,
                MAX_MESSAGE_CHARS,
            ),
        ] {
            // Empty is allowed: it means the built-in English text.
            if char_count(text) > max_chars {
                problems.add(
                    format!("widget.english.{field}"),
                    ProblemKind::TooLong { max_chars },
                );
            }
        }
        if widget.languages.is_empty() {
            problems.add("widget.languages", ProblemKind::NoLanguage);
        }
        for (index, language) in widget.languages.iter().enumerate() {
            if !WIDGET_LANGUAGES.contains(&language.as_str()) {
                problems.add(
                    format!("widget.languages[{index}]"),
                    ProblemKind::UnknownLanguage {
                        value: language.clone(),
                    },
                );
            }
        }
    }

    /// The skill group a new conversation goes to: the one the customer (or the page's
    /// `data-group`) asked for if it exists, else the robot's configured transfer group,
    /// else the first group.
    pub fn resolve_group(&self, requested: Option<&str>) -> Option<&SkillGroup> {
        let by_name = |name: &str| self.skill_groups.iter().find(|group| group.name == name);
        requested
            .and_then(by_name)
            .or_else(|| self.service.robot.skill_group.as_deref().and_then(by_name))
            .or_else(|| self.skill_groups.first())
    }

    pub fn skill_group(&self, name: &str) -> Option<&SkillGroup> {
        self.skill_groups.iter().find(|group| group.name == name)
    }

    pub fn rule(&self, name: &str) -> Option<&ServiceRule> {
        self.rules.iter().find(|rule| rule.name == name)
    }

    pub fn agent(&self, login: &str) -> Option<&AgentConfig> {
        self.agents.iter().find(|agent| agent.login == login)
    }

    /// Whether the agent takes chats of the group: listed in the group's members or the
    /// group listed in the agent's groups.
    pub fn is_member(&self, agent_login: &str, group_name: &str) -> bool {
        let listed_by_group = self
            .skill_group(group_name)
            .is_some_and(|group| group.members.iter().any(|member| member == agent_login));
        let listed_by_agent = self
            .agent(agent_login)
            .is_some_and(|agent| agent.groups.iter().any(|group| group == group_name));
        listed_by_group || listed_by_agent
    }

    /// The groups an agent takes chats from (see [`Config::is_member`]), in config order.
    pub fn groups_of_agent(&self, agent_login: &str) -> Vec<String> {
        self.skill_groups
            .iter()
            .filter(|group| self.is_member(agent_login, &group.name))
            .map(|group| group.name.clone())
            .collect()
    }

    /// The settings the state machine needs for a conversation of `group_name`: the service
    /// mode and robot settings plus the group's rule. `None` when the group or its rule does
    /// not exist (a validated configuration always has both).
    ///
    /// The texts are the Chinese ones; [`Config::conversation_settings_for`] gives those of
    /// a visitor's language. The no-answer reply follows the mode while it is the built-in
    /// one: in robot_only it does not offer 转人工, which that mode refuses.
    pub fn conversation_settings(&self, group_name: &str) -> Option<ConversationSettings> {
        let group = self.skill_group(group_name)?;
        let rule = self.rule(&group.rule)?;
        let robot = &self.service.robot;
        let no_answer_reply = if self.service.mode == ServiceMode::RobotOnly
            && robot.no_answer_reply == default_no_answer_reply()
        {
            ROBOT_ONLY_NO_ANSWER_REPLY.to_owned()
        } else {
            robot.no_answer_reply.clone()
        };
        Some(ConversationSettings {
            group_display_name: group.display_name.clone(),
            mode: self.service.mode,
            no_answer_reply,
            robot_only_reply: robot.robot_only_reply.clone(),
            transfer_keywords: robot.transfer_keywords.clone(),
            transfer_button: robot.transfer_button,
            misses_before_transfer: robot.misses_before_transfer,
            off_hours_message: rule.off_hours_message.clone(),
            no_agent_message: rule.no_agent_message.clone(),
            idle_timeout_ms: i64::from(rule.idle_timeout_minutes) * 60_000,
            idle_timeout_message: rule.idle_timeout_message.clone(),
        })
    }

    /// [`Config::conversation_settings`] with the texts a visitor whose panel speaks
    /// `locale` reads: for English, the operator's `widget.english` texts, each empty one
    /// replaced by the built-in English text (the no-answer reply following the mode).
    pub fn conversation_settings_for(
        &self,
        group_name: &str,
        locale: Option<&str>,
    ) -> Option<ConversationSettings> {
        let mut settings = self.conversation_settings(group_name)?;
        if VisitorLanguage::from_locale(locale) == VisitorLanguage::English {
            let own = &self.widget.english;
            let no_answer_default = if self.service.mode == ServiceMode::RobotOnly {
                english::ROBOT_ONLY_NO_ANSWER_REPLY
            } else {
                english::NO_ANSWER_REPLY
            };
            settings.no_answer_reply = own_or_default(&own.no_answer_reply, no_answer_default);
            settings.robot_only_reply =
                own_or_default(&own.robot_only_reply, english::ROBOT_ONLY_REPLY);
            settings.off_hours_message =
                own_or_default(&own.off_hours_message, english::OFF_HOURS_MESSAGE);
            settings.no_agent_message =
                own_or_default(&own.no_agent_message, english::NO_AGENT_MESSAGE);
            settings.idle_timeout_message =
                own_or_default(&own.idle_timeout_message, english::IDLE_TIMEOUT_MESSAGE);
        }
        Some(settings)
    }

    /// The panel's title and greeting for a visitor of `group_name` whose panel speaks
    /// `locale` (see [`Config::conversation_settings_for`]).
    pub fn texts_for(&self, group_name: &str, locale: Option<&str>) -> VisitorTexts {
        let display_name = self
            .skill_group(group_name)
            .map(|group| group.display_name.clone())
            .unwrap_or_default();
        match VisitorLanguage::from_locale(locale) {
            VisitorLanguage::Chinese => VisitorTexts {
                chat_title: display_name,
                greeting: self.widget.greeting.clone(),
            },
            VisitorLanguage::English => {
                let own = &self.widget.english;
                // An operator who silenced the greeting (blank) silenced it in every
                // language, unless they wrote an English one.
                let greeting = if self.widget.greeting.trim().is_empty() {
                    own.greeting.clone()
                } else {
                    own_or_default(&own.greeting, english::GREETING)
                };
                VisitorTexts {
                    chat_title: own_or_default(&own.chat_title, english::CHAT_TITLE),
                    greeting,
                }
            }
        }
    }

    /// The configuration a fresh installation starts with: one skill group `support`
    /// (在线客服) whose rule `default` is open Monday to Friday 09:00–18:00 in Asia/Shanghai,
    /// robot_first with the usual transfer keywords and 3 misses, one demo agent without a
    /// password (the server decides how it logs in), the demo knowledge base
    /// ([`demo_knowledge`]) and a few shared canned phrases.
    pub fn demo() -> Config {
        Config {
            service: ServiceSettings {
                mode: ServiceMode::RobotFirst,
                robot: RobotSettings {
                    skill_group: Some("support".to_owned()),
                    ..RobotSettings::default()
                },
            },
            rules: vec![ServiceRule {
                name: "default".to_owned(),
                idle_timeout_minutes: default_idle_timeout_minutes(),
                working_hours: WorkingHours {
                    time_zone: "Asia/Shanghai".to_owned(),
                    weekly: vec![WeeklyHours {
                        days: Weekday::WORKDAYS.to_vec(),
                        from: "09:00".to_owned(),
                        to: "18:00".to_owned(),
                    }],
                    exceptions: Vec::new(),
                },
                // No hours in the text: the panel adds when service starts again, computed
                // from the rule, so the two can never disagree.
                off_hours_message: default_off_hours_message(),
                no_agent_message: default_no_agent_message(),
                idle_timeout_message: default_idle_timeout_message(),
            }],
            skill_groups: vec![SkillGroup {
                name: "support".to_owned(),
                display_name: "在线客服".to_owned(),
                rule: "default".to_owned(),
                members: vec!["demo".to_owned()],
            }],
            agents: vec![AgentConfig {
                login: "demo".to_owned(),
                display_name: "演示客服".to_owned(),
                avatar: None,
                max_concurrent_chats: default_max_concurrent_chats(),
                groups: vec!["support".to_owned()],
                password_hash: None,
            }],
            knowledge: demo_knowledge(),
            canned_phrases: vec![
                CannedPhrase {
                    category: "问候".to_owned(),
                    content: "您好，很高兴为您服务，请问有什么可以帮您？".to_owned(),
                    owner: None,
                },
                CannedPhrase {
                    category: "问候".to_owned(),
                    content: "请稍等，我帮您查询一下。".to_owned(),
                    owner: None,
                },
                CannedPhrase {
                    category: "结束".to_owned(),
                    content: "请问还有其他问题吗？如果没有，您可以输入“结束会话”结束本次咨询。"
                        .to_owned(),
                    owner: None,
                },
            ],
            widget: WidgetSettings::default(),
        }
    }
}

/// The operator's own text, or `default` where they left it blank.
fn own_or_default(text: &str, default: &str) -> String {
    if text.trim().is_empty() {
        default.to_owned()
    } else {
        text.to_owned()
    }
}
