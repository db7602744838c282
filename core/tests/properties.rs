//! Properties that must hold for every input, checked with proptest:
//! - the conversation: any sequence of commands, in any service mode, with any availability
//!   and robot outcome, only ever produces a valid log (seq strictly increasing by one, no
//!   event after `ended`, never Human without exactly one agent, no duplicated client
//!   message id) whose fold is deterministic and independent of how it is split or re-sent;
//! - the protocol: decoding never panics and encoding round-trips;
//! - the working hours: the next opening is open and nothing earlier is.

use kefu_core::config::{Config, ServiceMode, Weekday, WeeklyHours, WorkingHours};
use kefu_core::conversation::{
    Availability, Command, ConversationSettings, Ctx, Event, EventBody, Phase, Rejection, State,
    apply, decide, fold,
};
use kefu_core::feedback::{Verdict, Votes, decide_vote};
use kefu_core::hours;
use kefu_core::protocol::{self, CustomerFrame, ServerFrame};
use kefu_core::robot::{Hit, RobotResult};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// One step of a generated scenario: the command and the world it is decided in.
#[derive(Debug, Clone)]
struct Step {
    command: Command,
    open: bool,
    agents_online: usize,
    robot_hit: bool,
    minutes_later: i64,
}

fn agent_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a1".to_owned(), "a2".to_owned()])
}

/// Few distinct ids so that duplicates happen often.
fn client_msg_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "m1".to_owned(),
        "m2".to_owned(),
        "m3".to_owned(),
        "m4".to_owned(),
    ])
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "你好".to_owned(),
        "退款多久到账".to_owned(),
        "转人工".to_owned(),
        "human".to_owned(),
        "结束会话".to_owned(),
        "　结束会话　".to_owned(),
        "我不想结束会话".to_owned(),
        "   ".to_owned(),
    ])
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (client_msg_id(), text()).prop_map(|(client_msg_id, text)| Command::CustomerMessage {
            client_msg_id,
            text
        }),
        (client_msg_id(), text()).prop_map(|(client_msg_id, text)| Command::CustomerMessage {
            client_msg_id,
            text
        }),
        Just(Command::RequestTransfer),
        agent_id().prop_map(|agent_id| Command::AssignAgent {
            agent_name: agent_id.to_uppercase(),
            agent_id
        }),
        (agent_id(), client_msg_id(), text()).prop_map(|(agent_id, client_msg_id, text)| {
            Command::AgentMessage {
                agent_id,
                client_msg_id,
                text,
            }
        }),
        Just(Command::EndByCustomer),
        agent_id().prop_map(|agent_id| Command::EndByAgent { agent_id }),
        Just(Command::IdleTick),
        Just(Command::VisitorLeftQueue),
        agent_id().prop_map(|agent_id| Command::AgentOffline { agent_id }),
        (
            agent_id(),
            prop::sample::select(vec!["support".to_owned(), "sales".to_owned()])
        )
            .prop_map(|(agent_id, group)| Command::TransferToGroup { agent_id, group }),
        Just(Command::Start {
            conversation_id: "c1".into(),
            visitor_id: "v1".into(),
            group: "support".into()
        }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (command(), any::<bool>(), 0usize..3, any::<bool>(), 0i64..20).prop_map(
        |(command, open, agents_online, robot_hit, minutes_later)| Step {
            command,
            open,
            agents_online,
            robot_hit,
            minutes_later,
        },
    )
}

fn settings(mode: ServiceMode) -> ConversationSettings {
    let mut settings = Config::demo()
        .conversation_settings("support")
        .expect("demo settings");
    settings.mode = mode;
    settings
}

fn mode() -> impl Strategy<Value = ServiceMode> {
    prop::sample::select(vec![
        ServiceMode::RobotFirst,
        ServiceMode::RobotOnly,
        ServiceMode::HumanOnly,
    ])
}

/// For each step: the state after it, the step, and what `decide` answered.
type Outcomes = Vec<(State, Step, Result<Vec<Event>, Rejection>)>;

/// Runs a scenario from an empty log; returns the log and the outcome of each step.
fn run(mode: ServiceMode, steps: &[Step]) -> (Vec<Event>, Outcomes) {
    let settings = settings(mode);
    let robot_hit = RobotResult {
        best: Some(Hit {
            id: "kb-1".into(),
            score: 0.9,
            question: "q".into(),
            answer: "a".into(),
        }),
        suggestions: vec![],
    };
    let robot_miss = RobotResult::default();
    let mut now = 1_750_000_000_000_i64;
    let mut log: Vec<Event> = Vec::new();
    let mut state = State::default();
    let mut outcomes = Vec::new();
    // Every scenario starts the conversation, so that most steps exercise the phases.
    let start = Step {
        command: Command::Start {
            conversation_id: "c1".into(),
            visitor_id: "v1".into(),
            group: "support".into(),
        },
        open: true,
        agents_online: 1,
        robot_hit: false,
        minutes_later: 0,
    };
    for step in std::iter::once(&start).chain(steps) {
        now += step.minutes_later * 60_000;
        let ctx = Ctx {
            now,
            settings: &settings,
            availability: Availability {
                open: step.open,
                next_opening: None,
                agents_online: step.agents_online,
                free_capacity: step.agents_online,
            },
            robot: Some(if step.robot_hit {
                &robot_hit
            } else {
                &robot_miss
            }),
        };
        let outcome = decide(&state, &step.command, &ctx);
        if let Ok(events) = &outcome {
            for event in events {
                state.apply(event);
                log.push(event.clone());
            }
        }
        outcomes.push((state.clone(), step.clone(), outcome));
    }
    (log, outcomes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn folding_is_deterministic(mode in mode(), steps in prop::collection::vec(step(), 0..40)) {
        let (log, outcomes) = run(mode, &steps);
        // The state the decider kept, one event at a time, while it produced the log: folding
        // the stored log (a restarted server) must give exactly that state.
        let (decided, _, _) = outcomes.last().expect("the start step").clone();
        prop_assert_eq!(&fold(&log), &decided);
        // A client gets the log as `event` frames and applies what it decodes, one by one.
        let mut client = State::default();
        for event in &log {
            let frame = protocol::encode(&ServerFrame::Event {
                conversation_id: "c1".into(),
                event: event.clone(),
            });
            let decoded = protocol::decode_server_frame(&frame);
            let Ok(ServerFrame::Event { event, .. }) = decoded else {
                panic!("{frame} decodes as {decoded:?}");
            };
            client = apply(&client, &event);
        }
        prop_assert_eq!(&client, &decided);
        // And the same commands in the same world decide the same log.
        let (again, _) = run(mode, &steps);
        prop_assert_eq!(log, again);
    }

    #[test]
    fn seq_strictly_increases_and_nothing_follows_the_end(mode in mode(), steps in prop::collection::vec(step(), 0..40)) {
        let (log, _) = run(mode, &steps);
        let mut state = State::default();
        for (index, event) in log.iter().enumerate() {
            prop_assert_eq!(event.seq, index as u64 + 1);
            prop_assert!(state.check_next(event).is_ok(), "{:?} after {:?}", event, state.phase);
            state.apply(event);
        }
    }

    #[test]
    fn replaying_a_prefix_then_the_rest_equals_folding_the_whole(
        mode in mode(),
        steps in prop::collection::vec(step(), 0..40),
        split in any::<prop::sample::Index>(),
        resend in 0usize..5,
    ) {
        let (log, _) = run(mode, &steps);
        let whole = fold(&log);
        let split = split.index(log.len() + 1);
        let mut state = fold(&log[..split]);
        // A resuming client may receive the last few events again: they must be ignored.
        for event in &log[split.saturating_sub(resend)..] {
            state = apply(&state, event);
        }
        prop_assert_eq!(state, whole);
    }

    #[test]
    fn no_command_sequence_reaches_an_invalid_state(mode in mode(), steps in prop::collection::vec(step(), 0..40)) {
        let (log, outcomes) = run(mode, &steps);
        for (state, step, outcome) in &outcomes {
            prop_assert!(state.check_invariants().is_ok(), "{:?} after {:?}", state, step.command);
            if let (Phase::Human, Some(agent)) = (state.phase, &state.agent) {
                prop_assert!(!agent.agent_id.is_empty());
            }
            if let Ok(events) = outcome {
                // Assignment only from the queue: never two agents at once.
                let assignments = events.iter().filter(|event| matches!(event.body, EventBody::AgentAssigned { .. })).count();
                prop_assert!(assignments <= 1);
            }
        }
        let mut state = State::default();
        for event in &log {
            if let EventBody::AgentAssigned { .. } = event.body {
                prop_assert_eq!(state.phase, Phase::Queued, "assigned outside the queue");
            }
            if let EventBody::AgentMessage { agent_id, .. } = &event.body {
                prop_assert_eq!(state.agent_id(), Some(agent_id.as_str()), "message from an unassigned agent");
            }
            state.apply(event);
        }
    }

    #[test]
    fn duplicate_client_message_ids_produce_no_duplicate_events(
        mode in mode(),
        steps in prop::collection::vec(step(), 0..40),
    ) {
        let (log, outcomes) = run(mode, &steps);
        let mut customer_ids = BTreeSet::new();
        let mut agent_ids = BTreeSet::new();
        for event in &log {
            match &event.body {
                EventBody::CustomerMessage { client_msg_id, .. } => {
                    prop_assert!(customer_ids.insert(client_msg_id.clone()), "customer id {} twice", client_msg_id);
                }
                EventBody::AgentMessage { agent_id, client_msg_id, .. } => {
                    prop_assert!(agent_ids.insert((agent_id.clone(), client_msg_id.clone())), "agent id {} twice", client_msg_id);
                }
                _ => {}
            }
        }
        // Every duplicate is answered with the seq of the original message.
        for (_, step, outcome) in &outcomes {
            if let (Err(Rejection::Duplicate { seq }), Command::CustomerMessage { client_msg_id, .. }) = (outcome, &step.command) {
                let original = &log[*seq as usize - 1];
                let is_original = matches!(&original.body, EventBody::CustomerMessage { client_msg_id: id, .. } if id == client_msg_id);
                prop_assert!(is_original);
            }
        }
    }

    #[test]
    fn votes_count_only_knowledge_answers_once_each_with_the_latest_verdict(
        mode in mode(),
        steps in prop::collection::vec(step(), 0..30),
        ballots in prop::collection::vec((0u64..40, any::<bool>(), any::<bool>()), 0..30),
    ) {
        let (log, _) = run(mode, &steps);
        let mut votes = Votes::default();
        let mut latest = std::collections::BTreeMap::<u64, (String, Verdict)>::new();
        for (seq, owned, helpful) in ballots {
            let verdict = if helpful { Verdict::Helpful } else { Verdict::NotHelpful };
            let event = log.iter().find(|event| event.seq == seq);
            match decide_vote("c", owned, seq, event, verdict) {
                Ok(vote) => {
                    let is_knowledge_answer = matches!(
                        event.map(|event| &event.body),
                        Some(EventBody::RobotAnswer { knowledge_id: Some(id), .. }) if *id == vote.knowledge_id
                    );
                    prop_assert!(owned && is_knowledge_answer);
                    latest.insert(seq, (vote.knowledge_id.clone(), verdict));
                    votes.record(vote);
                }
                Err(_) => prop_assert!(
                    !owned || !event.is_some_and(kefu_core::feedback::is_votable)
                ),
            }
        }
        let tallies = votes.tallies();
        let counted: u64 = tallies.values().map(|tally| tally.helpful + tally.not_helpful).sum();
        prop_assert_eq!(counted, latest.len() as u64);
        for (seq, (_, verdict)) in &latest {
            prop_assert_eq!(votes.verdict("c", *seq), Some(*verdict));
        }
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(text in ".{0,300}") {
        let _ = protocol::decode_customer_frame(&text);
        let _ = protocol::decode_agent_frame(&text);
        let _ = protocol::decode_server_frame(&text);
    }

    #[test]
    fn decoding_frame_like_json_never_panics(
        frame_type in prop::sample::select(vec!["hello", "send", "transfer", "end", "typing", "vote", "ping", "set_status", "event", "x"]),
        version in prop::sample::select(vec!["1", "2", "\"1\"", "null", "1.0", "-1", "18446744073709551616"]),
        field in prop::sample::select(vec!["text", "client_msg_id", "resume", "typing", "status", "conversation_id", "user", "page", "seq", "verdict"]),
        value in prop::sample::select(vec!["null", "1", "\"\"", "\"x\"", "[]", "{}", "true", "[{\"conversation_id\":\"c\",\"after_seq\":-1}]", "{\"id\":\"\"}"]),
    ) {
        let json = format!(r#"{{"v":{version},"type":"{frame_type}","{field}":{value}}}"#);
        let _ = protocol::decode_customer_frame(&json);
        let _ = protocol::decode_agent_frame(&json);
        let _ = protocol::decode_server_frame(&json);
    }

    #[test]
    fn customer_sends_round_trip(client_msg_id in "[a-zA-Z0-9_-]{1,64}", text in "\\PC{1,200}") {
        prop_assume!(!text.trim().is_empty());
        let frame = CustomerFrame::Send { client_msg_id, text };
        let json = protocol::encode_customer_frame(&frame);
        prop_assert_eq!(protocol::decode_customer_frame(&json), Ok(frame));
    }

    #[test]
    fn the_next_opening_is_open_and_nothing_earlier_is(
        zone in prop::sample::select(vec!["America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Lord_Howe"]),
        ranges in prop::collection::vec((prop::sample::subsequence(Weekday::ALL.to_vec(), 1..=7), 0u16..96, 1u16..96), 0..3),
        instant in 1_577_836_800_000_i64..1_893_456_000_000,
    ) {
        let time = |quarter: u16| format!("{:02}:{:02}", quarter / 4, quarter % 4 * 15);
        let hours = WorkingHours {
            time_zone: zone.to_owned(),
            weekly: ranges
                .iter()
                .filter(|(_, from, to)| from != to)
                .map(|(days, from, to)| WeeklyHours { days: days.clone(), from: time(*from), to: time(*to) })
                .collect(),
            exceptions: vec![],
        };
        let schedule = hours::Schedule::new(&hours).expect("valid generated schedule");
        match schedule.next_opening(instant) {
            Some(opening) => {
                prop_assert!(opening >= instant);
                prop_assert!(schedule.is_open_at(opening));
                prop_assert_eq!(opening == instant, schedule.is_open_at(instant));
                // Sampled every 5 minutes, nothing between now and the opening is open.
                let mut probe = instant;
                while probe < opening {
                    prop_assert!(!schedule.is_open_at(probe), "open at {} before the opening {}", probe, opening);
                    probe += 5 * 60_000;
                }
            }
            None => prop_assert!(hours.weekly.is_empty()),
        }
    }
}
