//! The checker: a pure function from a recorded history to a verdict, in the spirit of
//! Jepsen's queue checker. No I/O; the driver records, this judges.
//!
//! The history holds every send (each attempt and what answered it: an `ack`, an `error`
//! frame, or nothing before a timeout or a dropped connection), every frame of every
//! connection with the resume cursors it opened with, what each client finally holds, and
//! the truth: each conversation's log as a fresh connection reads it from seq 0 after a
//! last `kill -9` and restart. The rules:
//!
//! 1. An acknowledged message is in the log exactly once (across all conversations of its
//!    sender), at the seq of its ack, with its text; every ack of it names that same seq.
//! 2. A message never acknowledged is in the log at most once; one refused with an `error`
//!    on every attempt (never left unanswered) is not in it at all.
//! 3. Refusals other than `internal` (storage failing) or `rate_limited` are violations:
//!    the driver sends only valid messages to conversations it serves.
//! 4. A sender's acknowledged messages are in the log in the order they were first sent
//!    (messages the driver gave up on and sent again after the faults are left out).
//! 5. Every connection receives, per conversation, exactly the events after its resume
//!    cursor, once each and in order (a `snapshot` restarts the count), and each one equal
//!    to the truth's event of that seq: no gaps, no duplicates, no rewrites after resume.
//! 6. Each side's final transcript — the customer's, and the agent's who holds the chat,
//!    kept across reconnects or read fresh — equals the truth.
//! 7. Every frame from the server decodes with kefu-core (e.g. within the frame size limit).
//! 8. A send the driver gave up on is not left in limbo: the driver sends it again once the
//!    faults are over, and it must end acknowledged, or with an `error` as its last answer.
//!
//! There is no rule "the truth has no gap": the driver builds each truth from the events a
//! fresh reader applied, and it applies an event only when it is the next seq, so a truth
//! with a gap cannot be recorded (customers never get snapshots). A gap in what the fresh
//! reader received is a violation of rule 5 (its connections are checked like any other),
//! and the acknowledged messages after it are missing from the truth (rule 1).
//!
//! Besides the verdict, the report counts what the history covers (acked messages, agents'
//! acked messages, events re-read by resumed connections), so that a run too thin to mean
//! anything can be failed by its minimums (`driver::Plan`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use kefu_core::conversation::{Event, EventBody};

/// Who sent a message: a customer (by visitor id) or an agent (by agent id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sender {
    Customer { visitor_id: String },
    Agent { agent_id: String },
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sender::Customer { visitor_id } => write!(f, "customer {visitor_id}"),
            Sender::Agent { agent_id } => write!(f, "agent {agent_id}"),
        }
    }
}

/// What answered one attempt of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Ack {
        conversation_id: String,
        seq: u64,
    },
    /// An `error` frame carrying the message's id.
    Error {
        code: String,
    },
    /// No answer: a timeout, or the connection dropped (by the server or by the driver).
    None {
        why: String,
    },
}

/// One message a client sent, possibly several times with the same `client_msg_id`.
#[derive(Debug, Clone)]
pub struct SendRecord {
    pub sender: Sender,
    /// Client name, for reports (`customer 2`, `agent 1`).
    pub client: String,
    pub client_msg_id: String,
    pub text: String,
    /// The conversation an agent sent it to (customers' messages go to their current one).
    pub conversation_id: Option<String>,
    /// Position in the sender's own order of first sends.
    pub order: u64,
    pub attempts: Vec<Answer>,
    /// The driver gave up on it after an attempt without an answer (it sends it again once
    /// the faults are over, which must end in an `ack` or an `error`: rule 8).
    pub given_up: bool,
}

impl SendRecord {
    fn acks(&self) -> impl Iterator<Item = (&str, u64)> {
        self.attempts.iter().filter_map(|answer| match answer {
            Answer::Ack {
                conversation_id,
                seq,
            } => Some((conversation_id.as_str(), *seq)),
            _ => None,
        })
    }
}

/// A frame of the log as one connection received it.
#[derive(Debug, Clone)]
pub enum Received {
    Event {
        conversation_id: String,
        event: Event,
    },
    Snapshot {
        conversation_id: String,
        events: Vec<Event>,
    },
}

/// One WebSocket connection of a client: the cursors its `hello` sent and what it got.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub client: String,
    pub number: usize,
    pub cursors: BTreeMap<String, u64>,
    /// Per conversation of `cursors`, the highest seq the client knew to exist when it said
    /// hello (what it held, or a seq it was acknowledged; `u64::MAX` after the traffic, when
    /// nothing new is written): the events up to it a resumed connection gets are the ones
    /// it resumed to read, not live traffic.
    pub known: BTreeMap<String, u64>,
    pub received: Vec<Received>,
}

/// What a client finally holds of one conversation.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// `customer 2 (kept)`, `agent 1 (fresh from seq 0)`, …
    pub holder: String,
    pub sender: Sender,
    pub conversation_id: String,
    pub events: Vec<Event>,
}

/// Everything the driver recorded.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub sends: Vec<SendRecord>,
    pub connections: Vec<Connection>,
    pub transcripts: Vec<Transcript>,
    /// Frames from the server that kefu-core's decoder refuses, with who got them.
    pub bad_frames: Vec<String>,
    /// Each conversation's log read fresh from seq 0, with the visitor it belongs to.
    pub truth: BTreeMap<String, (String, Vec<Event>)>,
}

/// The verdict.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub messages: usize,
    /// Distinct messages acknowledged.
    pub acked: usize,
    /// Distinct messages sent by agents and acknowledged.
    pub agent_acked: usize,
    pub unacked: usize,
    /// Sends the driver gave up on; of them, acknowledged or refused in the end, and in limbo.
    pub given_up: usize,
    pub given_up_acked: usize,
    pub given_up_refused: usize,
    pub in_limbo: usize,
    /// Events resumed connections received at a seq after their cursor (not 0) and known to
    /// exist at their hello: what a resume had to deliver.
    pub resumed_events: usize,
    /// Acked messages missing from the log (or from a final transcript).
    pub lost: usize,
    /// Messages stored more than once.
    pub duplicated: usize,
    /// Events a connection missed (a gap after its cursor) or got twice.
    pub delivery_gaps: usize,
    pub delivery_duplicates: usize,
    /// Messages refused with an error other than `internal` or `rate_limited`.
    pub refused: usize,
    /// Every violation, one line each, naming the message or conversation.
    pub violations: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The `client_msg_id` of a stored message event and whose it is.
fn message_of<'a>(event: &'a Event, visitor_id: &str) -> Option<(Sender, &'a str, &'a str)> {
    match &event.body {
        EventBody::CustomerMessage {
            client_msg_id,
            text,
        } => Some((
            Sender::Customer {
                visitor_id: visitor_id.to_owned(),
            },
            client_msg_id.as_str(),
            text.as_str(),
        )),
        EventBody::AgentMessage {
            agent_id,
            client_msg_id,
            text,
        } => Some((
            Sender::Agent {
                agent_id: agent_id.clone(),
            },
            client_msg_id.as_str(),
            text.as_str(),
        )),
        _ => None,
    }
}

fn describe(send: &SendRecord) -> String {
    let answers: Vec<String> = send
        .attempts
        .iter()
        .map(|answer| match answer {
            Answer::Ack {
                conversation_id,
                seq,
            } => format!("ack {conversation_id}#{seq}"),
            Answer::Error { code } => format!("error {code}"),
            Answer::None { why } => format!("no answer ({why})"),
        })
        .collect();
    format!(
        "message {:?} ({}, {}, text {:?}; attempts: {})",
        send.client_msg_id,
        send.client,
        send.sender,
        send.text,
        answers.join(", ")
    )
}

/// Checks a history against the rules of the module documentation.
pub fn check(history: &History) -> Report {
    let mut report = Report {
        messages: history.sends.len(),
        ..Report::default()
    };
    let mut violations = Vec::new();

    for bad in &history.bad_frames {
        violations.push(format!("BAD FRAME: {bad}"));
    }

    // Where each (sender, client_msg_id) is stored: (conversation, seq, text) per copy.
    type Copies = Vec<(String, u64, String)>;
    let mut stored: BTreeMap<(Sender, String), Copies> = BTreeMap::new();
    for (conversation_id, (visitor_id, log)) in &history.truth {
        for event in log {
            if let Some((sender, id, text)) = message_of(event, visitor_id) {
                stored.entry((sender, id.to_owned())).or_default().push((
                    conversation_id.clone(),
                    event.seq,
                    text.to_owned(),
                ));
            }
        }
    }

    // 1, 2, 3 and 8. Each message against the log.
    let mut acked_positions: BTreeMap<Sender, Vec<(u64, String, u64, String)>> = BTreeMap::new();
    for send in &history.sends {
        let copies = stored
            .get(&(send.sender.clone(), send.client_msg_id.clone()))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let acks: BTreeSet<(&str, u64)> = send.acks().collect();
        if send.given_up {
            report.given_up += 1;
            match send.attempts.last() {
                _ if !acks.is_empty() => report.given_up_acked += 1,
                Some(Answer::Error { .. }) => report.given_up_refused += 1,
                _ => {
                    report.in_limbo += 1;
                    violations.push(format!(
                        "IN LIMBO: {} was given up by the driver and, sent again after the faults, got neither an ack nor an error before the deadline",
                        describe(send)
                    ));
                }
            }
        }
        if copies.len() > 1 {
            report.duplicated += 1;
            let places: Vec<String> = copies
                .iter()
                .map(|(c, seq, _)| format!("{c}#{seq}"))
                .collect();
            violations.push(format!(
                "DUPLICATED: {} is stored {} times: {}",
                describe(send),
                copies.len(),
                places.join(", ")
            ));
        }
        // The driver sends only valid messages to conversations it serves: the only fair
        // refusals are transient (storage failing, rate limit). Anything else leaves a
        // client stuck, e.g. a conversation created without its first event.
        for answer in &send.attempts {
            if let Answer::Error { code } = answer
                && code != "internal"
                && code != "rate_limited"
            {
                report.refused += 1;
                violations.push(format!(
                    "REFUSED: {} got the error `{code}` for a valid send",
                    describe(send)
                ));
                break;
            }
        }
        if acks.is_empty() {
            report.unacked += 1;
            let refused_every_time = !send.attempts.is_empty()
                && send
                    .attempts
                    .iter()
                    .all(|answer| matches!(answer, Answer::Error { .. }));
            if refused_every_time && !copies.is_empty() {
                violations.push(format!(
                    "REFUSED BUT STORED: {} got only error frames but is in the log at {}#{}",
                    describe(send),
                    copies[0].0,
                    copies[0].1
                ));
            }
            continue;
        }
        report.acked += 1;
        if matches!(send.sender, Sender::Agent { .. }) {
            report.agent_acked += 1;
        }
        if acks.len() > 1 {
            violations.push(format!(
                "ACKED TWICE DIFFERENTLY: {} was acknowledged with different seqs",
                describe(send)
            ));
        }
        let (conversation_id, seq) = *acks.iter().next().expect("not empty");
        match copies
            .iter()
            .find(|(c, s, _)| c == conversation_id && *s == seq)
        {
            Some((_, _, text)) if *text == send.text && send.given_up => {}
            Some((_, _, text)) if *text == send.text => {
                acked_positions
                    .entry(send.sender.clone())
                    .or_default()
                    .push((
                        send.order,
                        conversation_id.to_owned(),
                        seq,
                        send.client_msg_id.clone(),
                    ));
            }
            Some((_, _, text)) => violations.push(format!(
                "REWRITTEN: {} is stored at {conversation_id}#{seq} with text {text:?}",
                describe(send)
            )),
            None => {
                report.lost += 1;
                let truth = history
                    .truth
                    .get(conversation_id)
                    .and_then(|(_, log)| log.get(seq as usize - 1).cloned());
                violations.push(format!("LOST: {} was acknowledged as {conversation_id}#{seq} but the log has there: {truth:?}", describe(send)));
            }
        }
    }

    // 4. Order of each sender's acknowledged messages within a conversation.
    for (sender, mut positions) in acked_positions {
        positions.sort();
        let mut last: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
        for (_, conversation_id, seq, id) in &positions {
            if let Some((previous_seq, previous_id)) = last.get(conversation_id.as_str())
                && *previous_seq > *seq
            {
                violations.push(format!(
                    "OUT OF ORDER: {sender}'s message {id:?} (sent later) is at {conversation_id}#{seq}, before {previous_id:?} at #{previous_seq}"
                ));
            }
            last.insert(conversation_id, (*seq, id));
        }
    }

    // 5. Deliveries per connection.
    for connection in &history.connections {
        let mut next: BTreeMap<&str, u64> = BTreeMap::new();
        let who = format!("{} connection {}", connection.client, connection.number);
        for received in &connection.received {
            report.resumed_events += resumed(connection, received);
            match received {
                Received::Snapshot {
                    conversation_id,
                    events,
                } => {
                    for (index, event) in events.iter().enumerate() {
                        if event.seq != index as u64 + 1 {
                            report.delivery_gaps += 1;
                            violations.push(format!("GAP: {who}: the snapshot of {conversation_id} has seq {} at position {}", event.seq, index + 1));
                            break;
                        }
                    }
                    compare_to_truth(history, &who, conversation_id, events, &mut violations);
                    next.insert(conversation_id, events.len() as u64 + 1);
                }
                Received::Event {
                    conversation_id,
                    event,
                } => {
                    let expected = *next.entry(conversation_id).or_insert_with(|| {
                        connection
                            .cursors
                            .get(conversation_id)
                            .copied()
                            .unwrap_or(0)
                            + 1
                    });
                    if event.seq > expected {
                        report.delivery_gaps += 1;
                        violations.push(format!(
                            "GAP: {who}: {conversation_id} jumped from seq {} to {} (cursor {:?})",
                            expected - 1,
                            event.seq,
                            connection.cursors.get(conversation_id)
                        ));
                    } else if event.seq < expected {
                        report.delivery_duplicates += 1;
                        violations.push(format!("DELIVERED TWICE: {who}: {conversation_id} seq {} after seq {} (cursor {:?})", event.seq, expected - 1, connection.cursors.get(conversation_id)));
                    }
                    next.insert(conversation_id, event.seq.max(expected - 1) + 1);
                    compare_to_truth(
                        history,
                        &who,
                        conversation_id,
                        std::slice::from_ref(event),
                        &mut violations,
                    );
                }
            }
        }
    }

    // 6. Final transcripts.
    for transcript in &history.transcripts {
        let Some((_, log)) = history.truth.get(&transcript.conversation_id) else {
            violations.push(format!(
                "{} holds conversation {}, which no fresh read returns",
                transcript.holder, transcript.conversation_id
            ));
            continue;
        };
        let holds_chat = match &transcript.sender {
            Sender::Customer { .. } => true,
            Sender::Agent { agent_id } => {
                kefu_core::conversation::fold(log).agent_id() == Some(agent_id.as_str())
            }
        };
        if transcript.events.len() > log.len()
            || transcript.events[..] != log[..transcript.events.len()]
        {
            violations.push(format!(
                "TRANSCRIPT: {} holds a different log of {} than the fresh read ({} vs {} events; first difference at seq {})",
                transcript.holder,
                transcript.conversation_id,
                transcript.events.len(),
                log.len(),
                first_difference(&transcript.events, log)
            ));
        } else if holds_chat && transcript.events.len() < log.len() {
            report.lost += 1;
            let missing: Vec<String> = log[transcript.events.len()..]
                .iter()
                .take(5)
                .map(|event| format!("#{} {:?}", event.seq, event.body))
                .collect();
            violations.push(format!(
                "LOST IN TRANSCRIPT: {} holds {} but stops at seq {} of {}; missing {}",
                transcript.holder,
                transcript.conversation_id,
                transcript.events.len(),
                log.len(),
                missing.join("; ")
            ));
        }
    }
    report.violations = violations;
    report
}

/// How many events of `received` the resumed `connection` got because it resumed: after
/// its cursor (not 0) of the conversation and at most the seq it knew to exist at its hello.
fn resumed(connection: &Connection, received: &Received) -> usize {
    let (conversation_id, events) = match received {
        Received::Event {
            conversation_id,
            event,
        } => (conversation_id, std::slice::from_ref(event)),
        Received::Snapshot {
            conversation_id,
            events,
        } => (conversation_id, events.as_slice()),
    };
    // A cursor of 0 is a first read of the conversation, not a resume.
    let (Some(cursor @ 1..), Some(known)) = (
        connection.cursors.get(conversation_id),
        connection.known.get(conversation_id),
    ) else {
        return 0;
    };
    events
        .iter()
        .filter(|event| event.seq > *cursor && event.seq <= *known)
        .count()
}

fn first_difference(a: &[Event], b: &[Event]) -> u64 {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len())) as u64
        + 1
}

fn compare_to_truth(
    history: &History,
    who: &str,
    conversation_id: &str,
    events: &[Event],
    violations: &mut Vec<String>,
) {
    let Some((_, log)) = history.truth.get(conversation_id) else {
        violations.push(format!(
            "{who} received events of {conversation_id}, which no fresh read returns"
        ));
        return;
    };
    for event in events {
        match log.get((event.seq as usize).wrapping_sub(1)) {
            Some(stored) if stored == event => {}
            stored => violations.push(format!(
                "DIVERGED: {who} received {conversation_id}#{} = {:?}, but the log has {:?}",
                event.seq,
                event.body,
                stored.map(|e| &e.body)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The checker against small hand-made histories: it must pass a correct one and name
    //! the message in each kind of failure.
    use super::*;

    fn message(seq: u64, id: &str, text: &str) -> Event {
        Event {
            seq,
            at: 1,
            body: EventBody::CustomerMessage {
                client_msg_id: id.to_owned(),
                text: text.to_owned(),
            },
        }
    }

    fn started(seq: u64) -> Event {
        Event {
            seq,
            at: 1,
            body: EventBody::Started {
                conversation_id: "c".into(),
                visitor_id: "v".into(),
                group: "support".into(),
            },
        }
    }

    fn send(id: &str, order: u64, attempts: Vec<Answer>) -> SendRecord {
        SendRecord {
            sender: Sender::Customer {
                visitor_id: "v".into(),
            },
            client: "customer 0".into(),
            client_msg_id: id.into(),
            text: format!("text {id}"),
            conversation_id: None,
            order,
            attempts,
            given_up: false,
        }
    }

    fn ack(seq: u64) -> Answer {
        Answer::Ack {
            conversation_id: "c".into(),
            seq,
        }
    }

    fn history(log: Vec<Event>, sends: Vec<SendRecord>) -> History {
        let mut history = History {
            sends,
            ..History::default()
        };
        history.truth.insert("c".into(), ("v".into(), log.clone()));
        history.transcripts.push(Transcript {
            holder: "customer 0".into(),
            sender: Sender::Customer {
                visitor_id: "v".into(),
            },
            conversation_id: "c".into(),
            events: log,
        });
        history
    }

    #[test]
    fn a_correct_history_passes() {
        let log = vec![
            started(1),
            message(2, "a", "text a"),
            message(3, "b", "text b"),
        ];
        let sends = vec![
            send("a", 0, vec![ack(2)]),
            send(
                "b",
                1,
                vec![
                    Answer::None {
                        why: "dropped".into(),
                    },
                    ack(3),
                ],
            ),
            send(
                "x",
                2,
                vec![Answer::None {
                    why: "timeout".into(),
                }],
            ),
        ];
        let report = check(&history(log, sends));
        assert!(report.passed(), "{:?}", report.violations);
        assert_eq!(
            (report.acked, report.unacked, report.lost, report.duplicated),
            (2, 1, 0, 0)
        );
    }

    #[test]
    fn a_lost_acked_message_is_named() {
        let log = vec![started(1), message(2, "a", "text a")];
        let report = check(&history(
            log,
            vec![send("a", 0, vec![ack(2)]), send("b", 1, vec![ack(3)])],
        ));
        assert_eq!(report.lost, 1);
        assert!(
            report
                .violations
                .iter()
                .any(|v| v.starts_with("LOST") && v.contains("\"b\"")),
            "{:?}",
            report.violations
        );
    }

    #[test]
    fn a_duplicated_message_is_named_even_when_unacked() {
        let log = vec![
            started(1),
            message(2, "a", "text a"),
            message(3, "a", "text a"),
        ];
        let report = check(&history(
            log,
            vec![send(
                "a",
                0,
                vec![Answer::None {
                    why: "dropped".into(),
                }],
            )],
        ));
        assert_eq!(report.duplicated, 1);
        assert!(
            report.violations[0].contains("DUPLICATED") && report.violations[0].contains("\"a\""),
            "{:?}",
            report.violations
        );
    }

    #[test]
    fn out_of_order_refused_but_stored_and_short_transcripts_fail() {
        let log = vec![
            started(1),
            message(2, "b", "text b"),
            message(3, "a", "text a"),
            message(4, "r", "text r"),
        ];
        let mut h = history(
            log.clone(),
            vec![
                send("a", 0, vec![ack(3)]),
                send("b", 1, vec![ack(2)]),
                send(
                    "r",
                    2,
                    vec![Answer::Error {
                        code: "internal".into(),
                    }],
                ),
            ],
        );
        h.transcripts[0].events.truncate(3);
        let report = check(&h);
        let all = report.violations.join("\n");
        assert!(all.contains("OUT OF ORDER"), "{all}");
        assert!(all.contains("REFUSED BUT STORED"), "{all}");
        assert!(all.contains("LOST IN TRANSCRIPT"), "{all}");
    }

    #[test]
    fn gaps_and_repeats_of_a_connection_are_found() {
        let log = vec![
            started(1),
            message(2, "a", "text a"),
            message(3, "b", "text b"),
        ];
        let mut h = history(log.clone(), vec![]);
        let event = |seq: u64| Received::Event {
            conversation_id: "c".into(),
            event: log[seq as usize - 1].clone(),
        };
        h.connections.push(Connection {
            client: "customer 0".into(),
            number: 1,
            cursors: BTreeMap::from([("c".into(), 1)]),
            known: BTreeMap::from([("c".into(), 1)]),
            received: vec![event(3)],
        });
        h.connections.push(Connection {
            client: "customer 0".into(),
            number: 2,
            cursors: BTreeMap::new(),
            known: BTreeMap::new(),
            received: vec![event(1), event(2), event(2), event(3)],
        });
        let report = check(&h);
        assert_eq!(
            (report.delivery_gaps, report.delivery_duplicates),
            (1, 1),
            "{:?}",
            report.violations
        );
    }

    #[test]
    fn a_given_up_send_must_end_acked_or_refused() {
        let log = vec![started(1), message(2, "a", "text a")];
        let none = || Answer::None {
            why: "dropped".into(),
        };
        let mut resolved = send("a", 0, vec![none(), ack(2)]);
        resolved.given_up = true;
        let mut refused = send(
            "b",
            1,
            vec![
                none(),
                Answer::Error {
                    code: "internal".into(),
                },
            ],
        );
        refused.given_up = true;
        let mut limbo = send("x", 2, vec![none(), none()]);
        limbo.given_up = true;
        let report = check(&history(log, vec![resolved, refused, limbo]));
        assert_eq!(
            (
                report.given_up,
                report.given_up_acked,
                report.given_up_refused,
                report.in_limbo
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(report.violations.len(), 1, "{:?}", report.violations);
        assert!(
            report.violations[0].starts_with("IN LIMBO") && report.violations[0].contains("\"x\""),
            "{:?}",
            report.violations
        );
    }

    #[test]
    fn a_given_up_message_stored_late_is_not_out_of_order() {
        // "a" was given up unstored, "b" went on, "a" was sent again after the faults.
        let log = vec![
            started(1),
            message(2, "b", "text b"),
            message(3, "a", "text a"),
        ];
        let mut late = send(
            "a",
            0,
            vec![
                Answer::None {
                    why: "timeout".into(),
                },
                ack(3),
            ],
        );
        late.given_up = true;
        let report = check(&history(log, vec![late, send("b", 1, vec![ack(2)])]));
        assert!(report.passed(), "{:?}", report.violations);
    }

    #[test]
    fn coverage_counts_agents_acks_and_events_a_resume_had_to_deliver() {
        let log = vec![
            started(1),
            message(2, "a", "text a"),
            message(3, "b", "text b"),
            message(4, "c", "text c"),
        ];
        let mut agent_send = send("z", 0, vec![ack(5)]);
        agent_send.sender = Sender::Agent {
            agent_id: "g".into(),
        };
        let mut h = history(log.clone(), vec![send("a", 0, vec![ack(2)])]);
        h.truth.get_mut("c").unwrap().1.push(Event {
            seq: 5,
            at: 1,
            body: EventBody::AgentMessage {
                agent_id: "g".into(),
                client_msg_id: "z".into(),
                text: "text z".into(),
            },
        });
        h.transcripts.clear();
        h.sends.push(agent_send);
        let event = |seq: u64| Received::Event {
            conversation_id: "c".into(),
            event: h.truth["c"].1[seq as usize - 1].clone(),
        };
        // Resumed from seq 1 knowing seq 3 exists: seqs 2 and 3 are what the resume owed;
        // seq 4 and 5 came live.
        let resumed = Connection {
            client: "customer 0".into(),
            number: 2,
            cursors: BTreeMap::from([("c".into(), 1)]),
            known: BTreeMap::from([("c".into(), 3)]),
            received: vec![event(2), event(3), event(4), event(5)],
        };
        // A first connection (no cursor) resumed nothing.
        let fresh = Connection {
            client: "customer 0".into(),
            number: 1,
            cursors: BTreeMap::new(),
            known: BTreeMap::new(),
            received: (1..=5).map(event).collect(),
        };
        h.connections = vec![fresh, resumed];
        let report = check(&h);
        assert!(report.passed(), "{:?}", report.violations);
        assert_eq!(
            (report.acked, report.agent_acked, report.resumed_events),
            (2, 1, 2)
        );
    }
}
