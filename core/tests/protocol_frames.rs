//! Protocol v1: every frame round-trips, the documented JSON decodes, and garbage gets the
//! right error code without a panic.

use kefu_core::config::ServiceMode;
use kefu_core::conversation::{EndedBy, Event, EventBody, NoticeKind, Phase, Suggestion};
use kefu_core::protocol::*;
use std::collections::BTreeMap;

fn customer_frames() -> Vec<CustomerFrame> {
    vec![
        CustomerFrame::Hello {
            visitor_token: Some("vt_123".into()),
            resume: vec![ResumeCursor {
                conversation_id: "c1".into(),
                after_seq: 7,
            }],
            locale: Some("zh-CN".into()),
            group: Some("support".into()),
            page: Some(PageInfo {
                url: "https://shop.example/p/1".into(),
                title: "商品".into(),
                referrer: String::new(),
            }),
            user: Some(UserIdentity {
                id: "u1".into(),
                name: Some("张三".into()),
                email: None,
                phone: Some("13800000000".into()),
                attributes: BTreeMap::from([("plan".to_owned(), "gold".to_owned())]),
                user_hash: Some("abc".into()),
            }),
        },
        CustomerFrame::Hello {
            visitor_token: None,
            resume: vec![],
            locale: None,
            group: None,
            page: None,
            user: None,
        },
        CustomerFrame::Send {
            client_msg_id: "m1".into(),
            text: "你好".into(),
        },
        CustomerFrame::Transfer {
            client_msg_id: Some("t1".into()),
        },
        CustomerFrame::Transfer {
            client_msg_id: None,
        },
        CustomerFrame::End {},
        CustomerFrame::Typing { typing: true },
        CustomerFrame::Read {
            conversation_id: "c1".into(),
            seq: 7,
        },
        CustomerFrame::Vote {
            conversation_id: "c1".into(),
            seq: 3,
            verdict: kefu_core::feedback::Verdict::NotHelpful,
        },
        CustomerFrame::Ping {},
    ]
}

fn agent_frames() -> Vec<AgentFrame> {
    vec![
        AgentFrame::Hello {
            session_token: "st".into(),
            resume: vec![ResumeCursor {
                conversation_id: "c1".into(),
                after_seq: 0,
            }],
        },
        AgentFrame::SetStatus {
            status: AgentStatus::Away,
        },
        AgentFrame::Send {
            conversation_id: "c1".into(),
            client_msg_id: "x1".into(),
            text: "您好".into(),
        },
        AgentFrame::End {
            conversation_id: "c1".into(),
        },
        AgentFrame::TransferToGroup {
            conversation_id: "c1".into(),
            group: "sales".into(),
        },
        AgentFrame::Typing {
            conversation_id: "c1".into(),
            typing: false,
        },
        AgentFrame::Ping {},
    ]
}

fn server_frames() -> Vec<ServerFrame> {
    let summary = ConversationSummary {
        conversation_id: "c1".into(),
        visitor: VisitorProfile {
            visitor_id: "v1".into(),
            user: None,
            page: None,
            locale: Some("en".into()),
            verified: false,
            browser: Some("Chrome 131 · Windows".into()),
            first_seen: Some(1),
            visits: 2,
            previous_conversations: vec![PastConversation {
                conversation_id: "c0".into(),
                started_at: 1,
                ended_at: Some(2),
                group: "support".into(),
                first_message: "怎么开发票？".into(),
            }],
            online: true,
        },
        group: "support".into(),
        phase: Phase::Human,
        agent_id: Some("a1".into()),
        started_at: 1,
        last_seq: 2,
        read_seq: 2,
    };
    let events = vec![
        Event {
            seq: 1,
            at: 1,
            body: EventBody::Started {
                conversation_id: "c1".into(),
                visitor_id: "v1".into(),
                group: "support".into(),
            },
        },
        Event {
            seq: 2,
            at: 2,
            body: EventBody::RobotMiss {
                text: "抱歉".into(),
                suggestions: vec![Suggestion {
                    id: "k".into(),
                    question: "q".into(),
                }],
            },
        },
    ];
    vec![
        ServerFrame::Welcome {
            visitor_token: "vt".into(),
            visitor_id: "v1".into(),
            conversation_id: Some("c1".into()),
            group_display_name: "在线客服".into(),
            service_mode: ServiceMode::RobotFirst,
            transfer_button: true,
            server_time: 1_750_000_000_000,
            greeting: "您好，有什么可以帮您？".into(),
        },
        ServerFrame::AgentWelcome {
            agent: AgentProfile {
                agent_id: "a1".into(),
                display_name: "小王".into(),
                avatar: None,
                groups: vec!["support".into()],
                max_concurrent_chats: 5,
                status: AgentStatus::Online,
            },
            conversations: vec![summary.clone()],
            server_time: 5,
            groups: vec![GroupChoice {
                name: "support".into(),
                display_name: "在线客服".into(),
            }],
        },
        ServerFrame::Ack {
            client_msg_id: "m1".into(),
            conversation_id: "c1".into(),
            seq: 2,
        },
        ServerFrame::Event {
            conversation_id: "c1".into(),
            event: Event {
                seq: 3,
                at: 3,
                body: EventBody::Notice {
                    notice: NoticeKind::OffHours {
                        next_opening: Some(9),
                    },
                    text: "下班了".into(),
                },
            },
        },
        ServerFrame::Event {
            conversation_id: "c1".into(),
            event: Event {
                seq: 4,
                at: 4,
                body: EventBody::Ended {
                    by: EndedBy::Agent {
                        agent_id: "a1".into(),
                    },
                },
            },
        },
        ServerFrame::Snapshot {
            conversation: summary,
            events,
        },
        ServerFrame::QueuePosition {
            conversation_id: "c1".into(),
            position: 2,
        },
        ServerFrame::Typing {
            conversation_id: "c1".into(),
            from: TypingParty::Agent,
            typing: true,
        },
        ServerFrame::Read {
            conversation_id: "c1".into(),
            seq: 7,
        },
        ServerFrame::AgentStatus {
            status: AgentStatus::Online,
        },
        ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            client_msg_id: Some("m1".into()),
        },
        ServerFrame::Pong {},
    ]
}

#[test]
fn every_customer_frame_round_trips() {
    for frame in customer_frames() {
        let json = encode_customer_frame(&frame);
        assert!(json.contains(r#""v":1"#), "{json}");
        assert_eq!(decode_customer_frame(&json), Ok(frame), "{json}");
    }
}

#[test]
fn every_agent_frame_round_trips() {
    for frame in agent_frames() {
        let json = encode_agent_frame(&frame);
        assert_eq!(decode_agent_frame(&json), Ok(frame), "{json}");
    }
}

#[test]
fn every_server_frame_round_trips() {
    for frame in server_frames() {
        let json = encode(&frame);
        assert_eq!(decode_server_frame(&json), Ok(frame), "{json}");
    }
}

#[test]
fn events_are_flat_json_tagged_by_kind() {
    let frame = ServerFrame::Event {
        conversation_id: "c1".into(),
        event: Event {
            seq: 2,
            at: 10,
            body: EventBody::CustomerMessage {
                client_msg_id: "m1".into(),
                text: "hi".into(),
            },
        },
    };
    let value: serde_json::Value = serde_json::from_str(&encode(&frame)).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "v": 1, "type": "event", "conversation_id": "c1",
            "event": { "seq": 2, "at": 10, "kind": "customer_message", "client_msg_id": "m1", "text": "hi" }
        })
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let json = r#"{"v":1,"type":"send","client_msg_id":"m1","text":"hi","color":"red","nested":{"a":[1,2]}}"#;
    assert_eq!(
        decode_customer_frame(json),
        Ok(CustomerFrame::Send {
            client_msg_id: "m1".into(),
            text: "hi".into()
        })
    );
    let json = r#"{"v":1,"type":"ping","extra":true}"#;
    assert_eq!(decode_agent_frame(json), Ok(AgentFrame::Ping {}));
    let json = r#"{"v":1,"type":"error","code":"from_the_future","message":"?","later":1}"#;
    assert_eq!(
        decode_server_frame(json),
        Ok(ServerFrame::Error {
            code: ErrorCode::Unknown,
            message: "?".into(),
            client_msg_id: None
        })
    );
}

#[test]
fn optional_fields_may_be_left_out() {
    assert_eq!(
        decode_customer_frame(r#"{"v":1,"type":"hello"}"#),
        Ok(CustomerFrame::Hello {
            visitor_token: None,
            resume: vec![],
            locale: None,
            group: None,
            page: None,
            user: None
        })
    );
    assert_eq!(
        decode_customer_frame(r#"{"type":"transfer","v":1}"#),
        Ok(CustomerFrame::Transfer {
            client_msg_id: None
        })
    );
}

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, FrameError>, code: ErrorCode) {
    match result {
        Err(error) => {
            assert_eq!(error.code, code, "{error}");
            assert!(!error.message.is_empty());
        }
        Ok(frame) => panic!("expected {code}, decoded {frame:?}"),
    }
}

#[test]
fn garbage_gets_bad_frame() {
    for garbage in [
        "",
        "   ",
        "nul",
        "{",
        "[]",
        "42",
        "\"send\"",
        "{\"v\":1,\"type\":\"send\"",
        "\u{0}\u{1}",
        "{\"v\":1,\"type\":\"send\"}x",
    ] {
        assert_code(decode_customer_frame(garbage), ErrorCode::BadFrame);
    }
    assert_code(
        decode_customer_frame(r#"{"type":"ping"}"#),
        ErrorCode::BadFrame,
    );
    assert_code(decode_customer_frame(r#"{"v":1}"#), ErrorCode::BadFrame);
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":7}"#),
        ErrorCode::BadFrame,
    );
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"send","text":"hi"}"#),
        ErrorCode::BadFrame,
    );
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"send","client_msg_id":5,"text":"hi"}"#),
        ErrorCode::BadFrame,
    );
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"typing","typing":"yes"}"#),
        ErrorCode::BadFrame,
    );
    assert_code(
        decode_agent_frame(r#"{"v":1,"type":"set_status","status":"sleeping"}"#),
        ErrorCode::BadFrame,
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    assert_code(decode_customer_frame(&deep), ErrorCode::BadFrame);
    let deep_object = format!(
        r#"{{"v":1,"type":"ping","x":{}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_code(decode_customer_frame(&deep_object), ErrorCode::BadFrame);
}

#[test]
fn other_versions_are_unsupported() {
    assert_code(
        decode_customer_frame(r#"{"v":2,"type":"ping"}"#),
        ErrorCode::UnsupportedVersion,
    );
    assert_code(
        decode_customer_frame(r#"{"v":0,"type":"ping"}"#),
        ErrorCode::UnsupportedVersion,
    );
    assert_code(
        decode_customer_frame(r#"{"v":"1","type":"ping"}"#),
        ErrorCode::UnsupportedVersion,
    );
    assert_code(
        decode_agent_frame(r#"{"v":1.5,"type":"ping"}"#),
        ErrorCode::UnsupportedVersion,
    );
}

#[test]
fn unknown_types_are_named_as_such() {
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"launch_missiles"}"#),
        ErrorCode::UnknownType,
    );
    // Frames of the other role are unknown types, not bad frames.
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"set_status","status":"online"}"#),
        ErrorCode::UnknownType,
    );
    assert_code(
        decode_agent_frame(r#"{"v":1,"type":"transfer"}"#),
        ErrorCode::UnknownType,
    );
    assert_code(
        decode_server_frame(r#"{"v":1,"type":"send"}"#),
        ErrorCode::UnknownType,
    );
}

#[test]
fn size_limits_are_enforced() {
    let huge = format!(
        r#"{{"v":1,"type":"ping","pad":"{}"}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    assert_code(decode_customer_frame(&huge), ErrorCode::TooLarge);
    let long_text = "字".repeat(MAX_MESSAGE_CHARS + 1);
    let frame = format!(r#"{{"v":1,"type":"send","client_msg_id":"m1","text":"{long_text}"}}"#);
    assert!(frame.len() <= MAX_FRAME_BYTES);
    assert_code(decode_customer_frame(&frame), ErrorCode::TooLarge);
    let exactly = "字".repeat(MAX_MESSAGE_CHARS);
    let frame = format!(r#"{{"v":1,"type":"send","client_msg_id":"m1","text":"{exactly}"}}"#);
    assert!(decode_customer_frame(&frame).is_ok());
    let long_id = "i".repeat(MAX_ID_CHARS + 1);
    let frame = format!(r#"{{"v":1,"type":"send","client_msg_id":"{long_id}","text":"hi"}}"#);
    assert_code(decode_customer_frame(&frame), ErrorCode::BadFrame);
    let cursors: Vec<String> = (0..=MAX_RESUME_CURSORS)
        .map(|index| format!(r#"{{"conversation_id":"c{index}","after_seq":0}}"#))
        .collect();
    let frame = format!(
        r#"{{"v":1,"type":"hello","session_token":"t","resume":[{}]}}"#,
        cursors.join(",")
    );
    assert_code(decode_agent_frame(&frame), ErrorCode::BadFrame);
}

#[test]
fn empty_texts_and_ids_are_bad_frames() {
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"send","client_msg_id":"m1","text":"  "}"#),
        ErrorCode::BadFrame,
    );
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"send","client_msg_id":"","text":"hi"}"#),
        ErrorCode::BadFrame,
    );
    assert_code(
        decode_agent_frame(r#"{"v":1,"type":"end","conversation_id":""}"#),
        ErrorCode::BadFrame,
    );
}

#[test]
fn bad_votes_are_bad_frames() {
    for bad in [
        r#"{"v":1,"type":"vote","conversation_id":"","seq":3,"verdict":"helpful"}"#,
        r#"{"v":1,"type":"vote","conversation_id":"c1","seq":0,"verdict":"helpful"}"#,
        r#"{"v":1,"type":"vote","conversation_id":"c1","seq":-1,"verdict":"helpful"}"#,
        r#"{"v":1,"type":"vote","conversation_id":"c1","seq":3,"verdict":"meh"}"#,
        r#"{"v":1,"type":"vote","conversation_id":"c1","seq":3}"#,
        r#"{"v":1,"type":"vote","conversation_id":"c1","verdict":"helpful"}"#,
    ] {
        assert_code(decode_customer_frame(bad), ErrorCode::BadFrame);
    }
    let long_id = "c".repeat(MAX_ID_CHARS + 1);
    assert_code(
        decode_customer_frame(&format!(
            r#"{{"v":1,"type":"vote","conversation_id":"{long_id}","seq":3,"verdict":"helpful"}}"#
        )),
        ErrorCode::BadFrame,
    );
    assert_eq!(
        decode_customer_frame(
            r#"{"v":1,"type":"vote","conversation_id":"c1","seq":3,"verdict":"helpful"}"#
        ),
        Ok(CustomerFrame::Vote {
            conversation_id: "c1".into(),
            seq: 3,
            verdict: kefu_core::feedback::Verdict::Helpful,
        })
    );
}

#[test]
fn frame_errors_become_error_frames() {
    let error = decode_customer_frame("nope").unwrap_err();
    let frame = error.to_server_frame(None);
    let json = encode(&frame);
    assert!(
        json.starts_with(r#"{"v":1,"type":"error","code":"bad_frame""#),
        "{json}"
    );
}

#[test]
fn error_codes_serialize_as_documented() {
    for (code, name) in [
        (ErrorCode::BadFrame, "bad_frame"),
        (ErrorCode::UnsupportedVersion, "unsupported_version"),
        (ErrorCode::TooLarge, "too_large"),
        (ErrorCode::UnknownType, "unknown_type"),
        (ErrorCode::RateLimited, "rate_limited"),
        (ErrorCode::Unauthorized, "unauthorized"),
        (ErrorCode::Forbidden, "forbidden"),
        (ErrorCode::NotFound, "not_found"),
        (ErrorCode::InvalidState, "invalid_state"),
        (ErrorCode::Duplicate, "duplicate"),
        (ErrorCode::Internal, "internal"),
    ] {
        assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{name}\""));
        assert_eq!(code.as_str(), name);
    }
}

/// The JSON examples of PROTOCOL.md decode; keeps the document honest.
#[test]
fn protocol_md_examples_decode() {
    let document = include_str!("../../PROTOCOL.md");
    let mut checked = 0;
    for block in document.split("```json").skip(1) {
        let example = block.split("```").next().unwrap_or_default().trim();
        serde_json::from_str::<serde_json::Value>(example)
            .unwrap_or_else(|error| panic!("{error}: {example}"));
        // Only frames are checked; other JSON blocks (events, config) have no "v".
        if !example.contains("\"v\"") {
            continue;
        }
        let decodes = decode_customer_frame(example).is_ok()
            || decode_agent_frame(example).is_ok()
            || decode_server_frame(example).is_ok();
        assert!(decodes, "PROTOCOL.md example does not decode: {example}");
        checked += 1;
    }
    assert!(checked >= 24, "only {checked} examples checked");
}

/// `user_hash` goes inside `user`: beside it, it would leave the identity silently
/// unverified, so it is refused rather than ignored like other unknown fields; and a user
/// without a hash is written without the key (agents never see `"user_hash": null`).
#[test]
fn user_hash_belongs_inside_user_and_is_left_out_when_absent() {
    assert_code(
        decode_customer_frame(r#"{"v":1,"type":"hello","user":{"id":"u1"},"user_hash":"ab"}"#),
        ErrorCode::BadFrame,
    );
    assert!(
        decode_customer_frame(r#"{"v":1,"type":"hello","user":{"id":"u1","user_hash":"ab"}}"#)
            .is_ok()
    );
    // Only in a hello: elsewhere it is an unknown field like any other.
    assert!(decode_customer_frame(r#"{"v":1,"type":"ping","user_hash":"ab"}"#).is_ok());
    let user = UserIdentity {
        id: "u1".into(),
        ..UserIdentity::default()
    };
    let json = serde_json::to_value(&user).unwrap();
    assert!(json.get("user_hash").is_none(), "{json}");
}

/// The id an `error` carries for a frame that did not decode.
#[test]
fn the_client_msg_id_of_a_refused_frame_is_found_unless_it_is_too_large() {
    let text = format!(
        r#"{{"v":1,"type":"send","client_msg_id":"m_9","text":"{}"}}"#,
        "长".repeat(4001)
    );
    assert_code(decode_customer_frame(&text), ErrorCode::TooLarge);
    assert_eq!(client_msg_id_of(&text).as_deref(), Some("m_9"));
    let huge = format!(
        r#"{{"v":1,"type":"send","client_msg_id":"m_9","text":"{}"}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    assert_eq!(client_msg_id_of(&huge), None);
    assert_eq!(client_msg_id_of("not json"), None);
}

fn hello_with(user: UserIdentity, page: Option<PageInfo>) -> String {
    encode_customer_frame(&CustomerFrame::Hello {
        visitor_token: None,
        resume: vec![],
        locale: None,
        group: None,
        page,
        user: Some(user),
    })
}

fn user_with(attributes: BTreeMap<String, String>) -> UserIdentity {
    UserIdentity {
        id: "u1".into(),
        attributes,
        ..UserIdentity::default()
    }
}

#[test]
fn a_hello_attribute_over_its_limit_is_refused_with_bad_frame() {
    let long_value = BTreeMap::from([(
        "plan".to_owned(),
        "金".repeat(MAX_ATTRIBUTE_VALUE_CHARS + 1),
    )]);
    let error = decode_customer_frame(&hello_with(user_with(long_value), None)).unwrap_err();
    assert_eq!(error.code, ErrorCode::BadFrame);
    assert!(
        error.message.contains("user.attributes value"),
        "{}",
        error.message
    );
    let long_name = BTreeMap::from([("名".repeat(MAX_ATTRIBUTE_NAME_CHARS + 1), "x".to_owned())]);
    let error = decode_customer_frame(&hello_with(user_with(long_name), None)).unwrap_err();
    assert!(
        error.message.contains("user.attributes name"),
        "{}",
        error.message
    );
    let at_limit = BTreeMap::from([(
        "名".repeat(MAX_ATTRIBUTE_NAME_CHARS),
        "金".repeat(MAX_ATTRIBUTE_VALUE_CHARS),
    )]);
    assert!(decode_customer_frame(&hello_with(user_with(at_limit), None)).is_ok());
}

/// Each attribute within its own limit, but many of them: the whole profile is refused.
#[test]
fn a_hello_profile_over_its_byte_limit_is_refused() {
    let attributes: BTreeMap<String, String> = (0..MAX_USER_ATTRIBUTES)
        .map(|index| (format!("k{index}"), "金".repeat(MAX_ATTRIBUTE_VALUE_CHARS)))
        .collect();
    let error = decode_customer_frame(&hello_with(user_with(attributes), None)).unwrap_err();
    assert_eq!(error.code, ErrorCode::BadFrame);
    assert!(
        error.message.contains(&MAX_PROFILE_BYTES.to_string()),
        "{}",
        error.message
    );
}

/// The largest profile a hello may carry, with every past conversation at its longest,
/// makes a summary that leaves most of a frame for the snapshot's events.
#[test]
fn the_largest_accepted_profile_fits_a_snapshot_frame() {
    // Grow attributes until the next would be refused.
    let mut attributes = BTreeMap::new();
    for index in 0..MAX_USER_ATTRIBUTES {
        attributes.insert(
            format!("k{index}"),
            "金".repeat(MAX_ATTRIBUTE_VALUE_CHARS / 4),
        );
        if decode_customer_frame(&hello_with(user_with(attributes.clone()), None)).is_err() {
            attributes.remove(&format!("k{index}"));
            break;
        }
    }
    let CustomerFrame::Hello { user, page, .. } =
        decode_customer_frame(&hello_with(user_with(attributes), None)).unwrap()
    else {
        unreachable!()
    };
    let id = "i".repeat(MAX_ID_CHARS);
    let summary = ConversationSummary {
        conversation_id: id.clone(),
        visitor: VisitorProfile {
            visitor_id: id.clone(),
            user,
            page,
            locale: Some(id.clone()),
            verified: true,
            browser: Some("Chrome 131 · Windows".into()),
            first_seen: Some(i64::MAX),
            visits: u32::MAX,
            previous_conversations: (0..MAX_PAST_CONVERSATIONS)
                .map(|_| PastConversation {
                    conversation_id: id.clone(),
                    started_at: i64::MAX,
                    ended_at: Some(i64::MAX),
                    group: id.clone(),
                    first_message: "金".repeat(PAST_PREVIEW_CHARS),
                })
                .collect(),
            online: true,
        },
        group: id.clone(),
        phase: Phase::Human,
        agent_id: Some(id),
        started_at: i64::MAX,
        last_seq: u64::MAX,
        read_seq: u64::MAX,
    };
    let frame = encode(&ServerFrame::Snapshot {
        conversation: summary,
        events: vec![],
    });
    assert!(
        frame.len() > MAX_PROFILE_BYTES - 1024,
        "the profile is near its limit"
    );
    assert!(frame.len() < MAX_FRAME_BYTES / 2, "{} bytes", frame.len());
}
