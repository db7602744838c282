//! A conversation's log as the widget keeps it, and how its events read in a transcript.
//!
//! Both faces of the bundle fold the events they receive with kefu-core's reducer, so the
//! customer, the agent and the server cannot disagree on a conversation's state. The
//! transcript is plain text: message text is never parsed as HTML (robot answers are marked
//! `rich` and go through the safe subset of [`crate::richtext`]).

use kefu_core::conversation::{
    EndedBy, Event, EventBody, NoticeKind, RequeueReason, State, Suggestion,
};

use crate::i18n::{Lang, Texts, fill};

/// One conversation's events as received, folded into its state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationLog {
    pub id: String,
    pub state: State,
    pub events: Vec<Event>,
}

impl ConversationLog {
    pub fn new(id: &str) -> ConversationLog {
        ConversationLog {
            id: id.to_owned(),
            ..ConversationLog::default()
        }
    }

    /// Adds an event unless it was already received (a resume may repeat the tail): each
    /// event is shown exactly once. Returns whether it was new.
    pub fn push(&mut self, event: Event) -> bool {
        if event.seq <= self.state.last_seq {
            return false;
        }
        self.state.apply(&event);
        self.events.push(event);
        true
    }
}

/// Who is looking at the transcript: it decides which side "me" is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Customer,
    Agent,
}

/// How a transcript line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The viewer's own message, on the right.
    Mine,
    /// The other side's message, on the left.
    Theirs,
    /// A system line, centred.
    Notice,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Unique within the conversation list: conversation id + seq (+ language).
    pub key: String,
    pub side: Side,
    pub author: String,
    pub text: String,
    /// A robot answer, which may use the small safe formatting of [`crate::richtext`];
    /// every other line is plain text.
    pub rich: bool,
    pub suggestions: Vec<Suggestion>,
    /// For an off-hours notice: when the group opens next (unix ms), which the customer's
    /// panel says in their own time ("明天 09:00 开始服务").
    pub opens_at: Option<i64>,
    /// When the event happened (unix ms), for the line's time stamp.
    pub at: i64,
    /// The event's seq, for read receipts and votes.
    pub seq: u64,
    /// The conversation the event belongs to.
    pub conversation_id: String,
    /// A robot answer from a knowledge item: the customer may say 有用 / 没用 about it
    /// ([`kefu_core::feedback::is_votable`]).
    pub votable: bool,
    /// Set on the first line of each day by [`mark_days`]: "今天", "昨天" or the date.
    pub day: Option<String>,
}

/// Marks the first line of each local day with the day's name, so a transcript reads as
/// grouped by day ("今天" and "昨天" relative to `now`, else the date).
pub fn mark_days(lines: &mut [Line], now: i64, lang: Lang) {
    let mut previous = None;
    for line in lines {
        let day = local_day(line.at);
        if previous != Some(day) {
            line.day = Some(day_label(line.at, now, lang));
            previous = Some(day);
        }
    }
}

fn local_day(ms: i64) -> (u32, u32, u32) {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    (date.get_full_year(), date.get_month(), date.get_date())
}

fn day_label(ms: i64, now: i64, lang: Lang) -> String {
    let day = local_day(ms);
    if day == local_day(now) {
        return lang.texts().today_label.to_owned();
    }
    if day == local_day(now - 24 * 3_600_000) {
        return lang.texts().yesterday.to_owned();
    }
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_locale_date_string(lang.tag(), &options))
}

/// A line's time of day, "14:03".
pub fn clock_time(ms: i64, lang: Lang) -> String {
    let options = js_sys::Object::new();
    let set = |key: &str, value: &str| {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    };
    set("hour", "2-digit");
    set("minute", "2-digit");
    set("hourCycle", "h23");
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_locale_time_string_with_options(lang.tag(), &options))
}

/// The transcript lines of a conversation, as `viewer` sees them.
pub fn lines(log: &ConversationLog, viewer: Viewer, texts: &Texts) -> Vec<Line> {
    let mut agent_name = String::new();
    let mut lines = Vec::with_capacity(log.events.len());
    for event in &log.events {
        // The language is part of the key: a row keyed by the event alone would keep the
        // wording it was first drawn in after a language switch.
        let key = format!("{}:{}:{}", log.id, event.seq, texts.tag);
        let line = |side: Side, author: &str, text: &str| Line {
            key: key.clone(),
            side,
            author: author.to_owned(),
            text: text.to_owned(),
            rich: false,
            suggestions: Vec::new(),
            opens_at: None,
            at: event.at,
            seq: event.seq,
            conversation_id: log.id.clone(),
            votable: false,
            day: None,
        };
        let notice = |text: &str| line(Side::Notice, texts.system, text);
        match &event.body {
            EventBody::Started { .. } => {}
            EventBody::CustomerMessage { text, .. } => lines.push(match viewer {
                Viewer::Customer => line(Side::Mine, texts.you, text),
                Viewer::Agent => line(Side::Theirs, texts.customer, text),
            }),
            EventBody::RobotAnswer {
                text, suggestions, ..
            }
            | EventBody::RobotMiss { text, suggestions } => {
                let mut robot = line(Side::Theirs, texts.robot, text);
                robot.rich = true;
                robot.suggestions = suggestions.clone();
                robot.votable = kefu_core::feedback::is_votable(event);
                lines.push(robot);
            }
            EventBody::TransferRequested { .. } => lines.push(notice(match viewer {
                Viewer::Customer => texts.transfer_requested,
                Viewer::Agent => texts.agent_view_transfer_requested,
            })),
            // The idle notice addresses the customer; the agent reads the end line instead.
            EventBody::Notice {
                notice: NoticeKind::IdleTimeout,
                ..
            } if viewer == Viewer::Agent => {}
            EventBody::Notice { notice: kind, text } => lines.push(match kind {
                NoticeKind::IdleTimeout => notice(if text.is_empty() {
                    texts.ended_idle
                } else {
                    text
                }),
                NoticeKind::OffHours { next_opening } => Line {
                    opens_at: *next_opening,
                    ..notice(text)
                },
                _ => notice(text),
            }),
            EventBody::Queued { .. } => lines.push(notice(match viewer {
                Viewer::Customer => texts.queued,
                Viewer::Agent => texts.agent_view_queued,
            })),
            EventBody::AgentAssigned {
                agent_name: name, ..
            } => {
                agent_name = name.clone();
                let template = match viewer {
                    Viewer::Customer => texts.agent_joined,
                    Viewer::Agent => texts.agent_view_assigned,
                };
                lines.push(notice(&fill(template, "name", name)));
            }
            EventBody::AgentMessage { text, .. } => lines.push(match viewer {
                Viewer::Customer => line(Side::Theirs, &agent_name, text),
                Viewer::Agent => line(Side::Mine, &agent_name, text),
            }),
            // A deliberate transfer and an agent who left read differently, on both sides.
            EventBody::Requeued { reason } => {
                let text = match reason {
                    RequeueReason::TransferredToGroup {
                        group,
                        group_display_name,
                        ..
                    } => {
                        let template = match viewer {
                            Viewer::Customer => texts.transferred,
                            Viewer::Agent => texts.agent_view_transferred,
                        };
                        let group = if group_display_name.is_empty() {
                            group
                        } else {
                            group_display_name
                        };
                        fill(&fill(template, "name", &agent_name), "group", group)
                    }
                    RequeueReason::AgentOffline { .. } => match viewer {
                        Viewer::Customer => texts.requeued.to_owned(),
                        Viewer::Agent => fill(texts.agent_view_requeued, "name", &agent_name),
                    },
                };
                lines.push(notice(&text));
            }
            EventBody::Ended { by } => {
                let text = match (viewer, by) {
                    (Viewer::Customer, EndedBy::Customer) => texts.ended_by_customer.to_owned(),
                    (Viewer::Customer, EndedBy::Agent { .. }) => texts.ended_by_agent.to_owned(),
                    (Viewer::Customer, EndedBy::IdleTimeout) => texts.ended_idle.to_owned(),
                    (Viewer::Agent, EndedBy::Customer) => {
                        texts.agent_view_ended_by_customer.to_owned()
                    }
                    (Viewer::Agent, EndedBy::Agent { .. }) => {
                        fill(texts.agent_view_ended_by_agent, "name", &agent_name)
                    }
                    (Viewer::Agent, EndedBy::IdleTimeout) => texts.agent_view_ended_idle.to_owned(),
                };
                lines.push(notice(&text));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::ZH;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn event(seq: u64, body: EventBody) -> Event {
        Event {
            seq,
            at: seq as i64,
            body,
        }
    }

    fn log() -> ConversationLog {
        let mut log = ConversationLog::new("c1");
        log.push(event(
            1,
            EventBody::Started {
                conversation_id: "c1".into(),
                visitor_id: "v".into(),
                group: "support".into(),
            },
        ));
        log.push(event(
            2,
            EventBody::CustomerMessage {
                client_msg_id: "m1".into(),
                text: "<b>你好</b>".into(),
            },
        ));
        log.push(event(
            3,
            EventBody::AgentAssigned {
                agent_id: "a1".into(),
                agent_name: "小美".into(),
            },
        ));
        log.push(event(
            4,
            EventBody::AgentMessage {
                agent_id: "a1".into(),
                client_msg_id: "r1".into(),
                text: "您好".into(),
            },
        ));
        log
    }

    #[test]
    fn a_repeated_event_is_kept_once() {
        let mut log = log();
        let repeated = log.events[1].clone();
        assert!(!log.push(repeated));
        assert_eq!(log.events.len(), 4);
    }

    #[test]
    fn each_side_sees_its_own_messages_as_mine_and_text_stays_literal() {
        let customer = lines(&log(), Viewer::Customer, &ZH);
        assert_eq!(customer[0].side, Side::Mine);
        assert_eq!(customer[0].text, "<b>你好</b>");
        assert_eq!(customer[2].author, "小美");
        assert_eq!(customer[2].side, Side::Theirs);
        let agent = lines(&log(), Viewer::Agent, &ZH);
        assert_eq!(agent[0].side, Side::Theirs);
        assert_eq!(agent[2].side, Side::Mine);
    }
}
