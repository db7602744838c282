//! The scenarios, one per MUST of PROTOCOL.md, named `section/rule` after the section that
//! states the rule.

use serde_json::{Value, json};

use crate::{
    Check, Endpoint, Got, Needs, Peer, Played, Scenario, Session, Target, WAIT_MS, event_kind,
    is_type,
};

macro_rules! scenarios {
    ($($name:literal, $needs:ident, $rule:literal;)*) => {
        /// Every scenario, in the order of the document.
        pub const SCENARIOS: &[Scenario] = &[
            $(Scenario { name: $name, needs: Needs::$needs, rule: $rule },)*
        ];
    };
}

scenarios! {
    "transport/foreign-origin-refused", Wire,
        "a customer socket whose Origin is not allowed is refused with HTTP 403 at the handshake";
    "transport/binary-frame-refused", Wire,
        "a binary frame is answered with bad_frame and the connection stays open";
    "lifecycle/first-frame-must-be-hello", Wire,
        "a first frame other than hello is answered with bad_frame, then close 1008";
    "lifecycle/welcome-fields", Customer,
        "hello is answered with welcome: visitor_token, visitor_id, group_display_name, service_mode, transfer_button, server_time, greeting";
    "lifecycle/unknown-token-gets-new-identity", Customer,
        "an unknown visitor_token gets a new identity (a new token, no conversation), not an error";
    "lifecycle/second-hello-refused", Customer,
        "a second hello is answered with invalid_state and the connection stays open";
    "lifecycle/hello-deadline", Timing,
        "no hello within the deadline: bad_frame, then close 1008";
    "keepalive/ping-pong", Customer,
        "ping is answered with pong";
    "keepalive/idle-close", Timing,
        "a connection from which nothing arrives for the idle time is closed with 1000";
    "keepalive/pings-keep-open", Timing,
        "a connection that pings inside the idle time stays open";
    "closing/answers-client-close", Wire,
        "a client's close frame is answered with a close frame with the same code (RFC 6455, 5.5.1)";
    "versioning/unsupported-version", Wire,
        "a frame whose v is not 1 is answered with unsupported_version and the connection stays open";
    "versioning/missing-version", Wire,
        "a frame without v is answered with bad_frame";
    "versioning/unknown-type", Wire,
        "an unknown type is answered with unknown_type and the connection stays open";
    "versioning/unknown-fields-ignored", Customer,
        "unknown fields are ignored";
    "limits/frame-over-64k", Wire,
        "a frame over 65,536 bytes (up to 262,144) is answered with too_large and the connection stays open";
    "limits/transport-cap", Wire,
        "a frame over 262,144 bytes is answered with too_large, or the connection is closed with 1009";
    "limits/text-length", Customer,
        "a text of 4,000 characters is accepted; 4,001 is too_large, carrying the client_msg_id";
    "limits/empty-text", Customer,
        "an empty or whitespace text is bad_frame, carrying the client_msg_id";
    "limits/id-length", Customer,
        "a client_msg_id of 128 characters is accepted, 129 is bad_frame";
    "limits/malformed-json", Wire,
        "text that is not a JSON object is bad_frame and the connection stays open";
    "limits/nesting-depth", Wire,
        "JSON nested deeper than 128 levels is bad_frame";
    "limits/user-hash-placement", Wire,
        "a user_hash beside user instead of inside it is bad_frame (then close 1008: it is a hello)";
    "rate-limits/every-frame-answered", Customer,
        "every frame is answered, by its answer or by rate_limited, and the connection stays open";
    "events/seq-gap-free", Customer,
        "a conversation's events are numbered 1, 2, 3, … without gaps and sent in order; the first is started";
    "sending/ack-and-event", Customer,
        "send is answered with ack (client_msg_id, conversation_id, seq) and the customer_message event with that seq";
    "sending/duplicate-acked-with-first-seq", Customer,
        "a repeated client_msg_id is answered with the first ack (same seq) and stores nothing";
    "sending/duplicate-with-other-text", Customer,
        "a repeated client_msg_id with another text is answered with the first ack; the new text is not stored";
    "sending/retry-after-reconnect", Customer,
        "a send retried on a new connection is answered with the first ack";
    "resume/missed-events-exactly-once", Customer,
        "hello with a cursor gets every event after it exactly once, in order, and nothing before it";
    "resume/token-without-cursor", Customer,
        "hello with the token and no cursor gets the visitor's logs from seq 1";
    "resume/foreign-cursor-ignored", Customer,
        "a cursor for another visitor's conversation is ignored";
    "conversations/first-send-starts", Customer,
        "the first send starts a conversation: started (conversation_id, visitor_id, group), then the message";
    "conversations/robot-replies", Customer,
        "in robot_first and robot_only, a question in phase robot gets robot_answer or robot_miss";
    "conversations/end-phrase", Customer,
        "exactly 结束会话 is stored as a customer_message and ends the conversation (ended by customer)";
    "conversations/end-frame", Customer,
        "end ends the open conversation (ended by customer); a second end is invalid_state; the next send starts a new conversation";
    "conversations/end-without-conversation", Customer,
        "end with no open conversation is invalid_state";
    "conversations/transfer-button", Customer,
        "transfer starts a conversation if needed; success is told by events only: transfer_requested, then queued or a notice";
    "conversations/transfer-keyword", Customer,
        "in robot_first, a message containing a transfer keyword requests a transfer (reason keyword)";
    "conversations/typing-is-ephemeral", Customer,
        "typing is accepted without an answer and never becomes an event";
    "conversations/vote", Customer,
        "vote on a robot_answer with a knowledge_id is accepted without an answer (again, replacing it); on any other seq or another's conversation it is not_found; seq 0 is bad_frame";
    "agents/login-refused-401", Agent,
        "a wrong password is answered with HTTP 401 and {\"error\": \"unauthorized\"}";
    "agents/unknown-session-refused", AgentWire,
        "an agent hello with an unknown session_token: unauthorized, then close 1008";
    "agents/welcome-fields", Agent,
        "agent hello is answered with agent_welcome: agent, conversations, server_time, groups";
    "agents/presence", Agent,
        "set_status is answered with agent_status on every socket of the agent, and the status outlives a reconnect";
    "agents/assignment-snapshot", Agent,
        "a transferred conversation is assigned: the customer gets agent_assigned, the agent a snapshot of the whole log, whose user has no user_hash";
    "agents/both-ways", Agent,
        "agent and customer messages reach both sides with one gap-free seq sequence; agent sends are acked and idempotent";
    "agents/typing", Agent,
        "typing reaches the other side as a typing frame with from customer or agent";
    "agents/after-end-invalid-state", Agent,
        "an agent writing into a chat of theirs that ended gets invalid_state with the client_msg_id";
    "agents/not-found", Agent,
        "an agent acting on a conversation not theirs gets not_found";
    "agents/logout-closes-1008", AgentWire,
        "logging out sends unauthorized on the session's sockets, then close 1008";
}

pub(crate) async fn play<T: Target>(s: &Session<'_, T>, name: &str) -> Check {
    match name {
        "transport/foreign-origin-refused" => foreign_origin_refused(s).await,
        "transport/binary-frame-refused" => binary_frame_refused(s).await,
        "lifecycle/first-frame-must-be-hello" => first_frame_must_be_hello(s).await,
        "lifecycle/welcome-fields" => welcome_fields(s).await,
        "lifecycle/unknown-token-gets-new-identity" => unknown_token(s).await,
        "lifecycle/second-hello-refused" => second_hello(s).await,
        "lifecycle/hello-deadline" => hello_deadline(s).await,
        "keepalive/ping-pong" => ping_pong(s).await,
        "keepalive/idle-close" => idle_close(s).await,
        "keepalive/pings-keep-open" => pings_keep_open(s).await,
        "closing/answers-client-close" => answers_client_close(s).await,
        "versioning/unsupported-version" => {
            refused_then_open(
                s,
                json!({"v": 2, "type": "ping"}).to_string(),
                "unsupported_version",
            )
            .await
        }
        "versioning/missing-version" => {
            refused_then_open(s, json!({"type": "ping"}).to_string(), "bad_frame").await
        }
        "versioning/unknown-type" => {
            refused_then_open(
                s,
                json!({"v": 1, "type": "conformance_probe"}).to_string(),
                "unknown_type",
            )
            .await
        }
        "versioning/unknown-fields-ignored" => unknown_fields_ignored(s).await,
        "limits/frame-over-64k" => {
            let padding = "x".repeat(70_000);
            refused_then_open(
                s,
                json!({"v": 1, "type": "ping", "padding": padding}).to_string(),
                "too_large",
            )
            .await
        }
        "limits/transport-cap" => transport_cap(s).await,
        "limits/text-length" => text_length(s).await,
        "limits/empty-text" => empty_text(s).await,
        "limits/id-length" => id_length(s).await,
        "limits/malformed-json" => {
            refused_then_open(s, "{\"v\":1,\"type\":".into(), "bad_frame").await?;
            refused_then_open(s, "[1,2,3]".into(), "bad_frame").await
        }
        "limits/nesting-depth" => {
            let deep = format!(
                "{{\"v\":1,\"type\":\"ping\",\"x\":{}1{}}}",
                "[".repeat(200),
                "]".repeat(200)
            );
            refused_then_open(s, deep, "bad_frame").await
        }
        "limits/user-hash-placement" => user_hash_placement(s).await,
        "rate-limits/every-frame-answered" => every_frame_answered(s).await,
        "events/seq-gap-free" => seq_gap_free(s).await,
        "sending/ack-and-event" => ack_and_event(s).await,
        "sending/duplicate-acked-with-first-seq" => duplicate(s, "退款多久到账？").await,
        "sending/duplicate-with-other-text" => duplicate(s, "另一句完全不同的话").await,
        "sending/retry-after-reconnect" => retry_after_reconnect(s).await,
        "resume/missed-events-exactly-once" => missed_events(s).await,
        "resume/token-without-cursor" => token_without_cursor(s).await,
        "resume/foreign-cursor-ignored" => foreign_cursor(s).await,
        "conversations/first-send-starts" => first_send_starts(s).await,
        "conversations/robot-replies" => robot_replies(s).await,
        "conversations/end-phrase" => end_phrase(s).await,
        "conversations/end-frame" => end_frame(s).await,
        "conversations/end-without-conversation" => end_without_conversation(s).await,
        "conversations/transfer-button" => transfer_button(s).await,
        "conversations/transfer-keyword" => transfer_keyword(s).await,
        "conversations/typing-is-ephemeral" => typing_is_ephemeral(s).await,
        "conversations/vote" => vote(s).await,
        "agents/login-refused-401" => login_refused(s).await,
        "agents/unknown-session-refused" => unknown_session(s).await,
        "agents/welcome-fields" => agent_welcome_fields(s).await,
        "agents/presence" => presence(s).await,
        "agents/assignment-snapshot" => assignment_snapshot(s).await,
        "agents/both-ways" => both_ways(s).await,
        "agents/typing" => agent_typing(s).await,
        "agents/after-end-invalid-state" => after_end(s).await,
        "agents/not-found" => not_found(s).await,
        "agents/logout-closes-1008" => logout(s).await,
        _ => Err(format!("no scenario {name}")),
    }
}

const DONE: Check = Ok(Played::Done);

fn ensure(condition: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(why()) }
}

fn ping() -> Value {
    json!({"v": 1, "type": "ping"})
}

/// The events among `frames`, for conversation `id` when given.
fn events_in<'a>(frames: &'a [Value], id: Option<&str>) -> Vec<&'a Value> {
    frames
        .iter()
        .filter(|frame| is_type(frame, "event"))
        .filter(|frame| id.is_none_or(|id| frame["conversation_id"] == id))
        .map(|frame| &frame["event"])
        .collect()
}

fn seqs(events: &[&Value]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|event| event["seq"].as_u64())
        .collect()
}

/// Sends a raw frame after `hello`, expects the error `code`, then a `pong` to a ping.
async fn refused_then_open<T: Target>(s: &Session<'_, T>, raw: String, code: &str) -> Check {
    let mut customer = s.customer("customer").await?;
    customer.send_raw(raw).await?;
    customer.expect_error(code, None).await?;
    customer.until_pong().await?;
    DONE
}

// ---- transport, lifecycle, keep-alive, closing ---------------------------------------------

async fn foreign_origin_refused<T: Target>(s: &Session<'_, T>) -> Check {
    s.note("→ customer: <handshake with Origin: https://conformance.invalid>".into());
    match s
        .target
        .connect(Endpoint::Customer, Some("https://conformance.invalid"))
        .await?
    {
        crate::Connect::Refused(403) => DONE,
        crate::Connect::Refused(status) => Err(format!("refused with {status}, not 403")),
        crate::Connect::Open(_) => Err("a socket from a foreign Origin was accepted".into()),
    }
}

async fn binary_frame_refused<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer
        .send_binary(ping().to_string().into_bytes())
        .await?;
    customer.expect_error("bad_frame", None).await?;
    customer.until_pong().await?;
    DONE
}

async fn first_frame_must_be_hello<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.open(Endpoint::Customer, "customer").await?;
    customer.send(&ping()).await?;
    customer.expect_error("bad_frame", None).await?;
    customer.expect_close_code(1008, WAIT_MS).await?;
    DONE
}

async fn welcome_fields<T: Target>(s: &Session<'_, T>) -> Check {
    let customer = s.customer("customer").await?;
    let welcome = &customer.welcome;
    for field in [
        "visitor_token",
        "visitor_id",
        "group_display_name",
        "greeting",
    ] {
        ensure(welcome[field].is_string(), || {
            format!("welcome.{field} is not a string: {welcome}")
        })?;
    }
    ensure(
        !welcome["visitor_token"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        || "welcome.visitor_token is empty".into(),
    )?;
    let mode = welcome["service_mode"].as_str().unwrap_or_default();
    ensure(
        ["robot_first", "robot_only", "human_only"].contains(&mode),
        || format!("welcome.service_mode {mode:?} is not robot_first, robot_only or human_only"),
    )?;
    ensure(welcome["transfer_button"].is_boolean(), || {
        "welcome.transfer_button is not a boolean".into()
    })?;
    ensure(welcome["server_time"].is_i64(), || {
        "welcome.server_time is not an integer".into()
    })?;
    ensure(welcome["conversation_id"].is_null(), || {
        format!("a new visitor's welcome names a conversation: {welcome}")
    })?;
    DONE
}

async fn unknown_token<T: Target>(s: &Session<'_, T>) -> Check {
    let forged = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let customer = s
        .customer_with("customer", json!({"visitor_token": forged}))
        .await?;
    let welcome = &customer.welcome;
    ensure(
        welcome["visitor_token"].is_string() && welcome["visitor_token"] != forged,
        || format!("an unknown token was kept: {welcome}"),
    )?;
    ensure(welcome["conversation_id"].is_null(), || {
        format!("a new identity with a conversation: {welcome}")
    })?;
    DONE
}

async fn second_hello<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer.send(&json!({"v": 1, "type": "hello"})).await?;
    customer.expect_error("invalid_state", None).await?;
    customer.until_pong().await?;
    DONE
}

async fn hello_deadline<T: Target>(s: &Session<'_, T>) -> Check {
    let timing = s.caps().timing.ok_or("no timing")?;
    let mut customer = s.open(Endpoint::Customer, "customer").await?;
    let within = (timing.hello_seconds + 3) * 1000;
    let frame = customer.next(within).await?;
    match frame {
        Got::Frame(frame) if is_type(&frame, "error") && frame["code"] == "bad_frame" => {}
        other => {
            return Err(format!(
                "expected bad_frame after {} s, got {other:?}",
                timing.hello_seconds
            ));
        }
    }
    customer.expect_close_code(1008, WAIT_MS).await?;
    DONE
}

async fn ping_pong<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let before = customer.until_pong().await?;
    ensure(before.is_empty(), || {
        format!("frames before the pong: {before:?}")
    })?;
    DONE
}

async fn idle_close<T: Target>(s: &Session<'_, T>) -> Check {
    let timing = s.caps().timing.ok_or("no timing")?;
    let mut customer = s.customer("customer").await?;
    customer
        .expect_close_code(1000, (timing.idle_seconds + 3) * 1000)
        .await?;
    DONE
}

async fn pings_keep_open<T: Target>(s: &Session<'_, T>) -> Check {
    let timing = s.caps().timing.ok_or("no timing")?;
    let mut customer = s.customer("customer").await?;
    let every = (timing.idle_seconds * 1000 / 3).max(200);
    let rounds = (timing.idle_seconds * 2 * 1000) / every + 1;
    for _ in 0..rounds {
        s.target.sleep(every).await;
        customer.until_pong().await?;
    }
    DONE
}

async fn answers_client_close<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer.send_close(1000).await?;
    customer.expect_close_code(1000, WAIT_MS).await?;
    DONE
}

// ---- versions and limits -----------------------------------------------------------------

async fn unknown_fields_ignored<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s
        .customer_with("customer", json!({"conformance_extra": {"nested": [1, 2]}}))
        .await?;
    customer
        .send(&json!({"v": 1, "type": "ping", "conformance_extra": "ignored"}))
        .await?;
    customer
        .expect("pong", |frame| is_type(frame, "pong"))
        .await?;
    DONE
}

async fn transport_cap<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let padding = "x".repeat(300_000);
    customer
        .send_raw(json!({"v": 1, "type": "ping", "padding": padding}).to_string())
        .await?;
    match customer.next(WAIT_MS).await? {
        Got::Close(Some(1009)) => DONE,
        Got::Frame(frame) if is_type(&frame, "error") && frame["code"] == "too_large" => {
            customer.until_pong().await?;
            DONE
        }
        other => Err(format!("expected too_large or close 1009, got {other:?}")),
    }
}

async fn text_length<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer
        .send(
            &json!({"v": 1, "type": "send", "client_msg_id": "long-1", "text": "长".repeat(4001)}),
        )
        .await?;
    customer.expect_error("too_large", Some("long-1")).await?;
    customer.say("long-2", &"长".repeat(4000)).await?;
    end_open(&mut customer).await?;
    DONE
}

async fn empty_text<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer
        .send(&json!({"v": 1, "type": "send", "client_msg_id": "empty-1", "text": " \n\t "}))
        .await?;
    customer.expect_error("bad_frame", Some("empty-1")).await?;
    let after = customer.until_pong().await?;
    ensure(events_in(&after, None).is_empty(), || {
        format!("an empty text made events: {after:?}")
    })?;
    DONE
}

async fn id_length<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer
        .send(&json!({"v": 1, "type": "send", "client_msg_id": "i".repeat(129), "text": "你好"}))
        .await?;
    customer.expect_error("bad_frame", None).await?;
    customer.say(&"i".repeat(128), "你好").await?;
    end_open(&mut customer).await?;
    DONE
}

async fn user_hash_placement<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.open(Endpoint::Customer, "customer").await?;
    customer
        .send(&json!({"v": 1, "type": "hello", "user": {"id": "u_1001"}, "user_hash": "00ff"}))
        .await?;
    customer.expect_error("bad_frame", None).await?;
    customer.expect_close_code(1008, WAIT_MS).await?;
    DONE
}

async fn every_frame_answered<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    const SENT: usize = 40;
    for _ in 0..SENT {
        customer.send(&ping()).await?;
    }
    let (mut pongs, mut limited) = (0, 0);
    while pongs + limited < SENT {
        match customer.next(WAIT_MS).await? {
            Got::Frame(frame) if is_type(&frame, "pong") => pongs += 1,
            Got::Frame(frame) if is_type(&frame, "error") && frame["code"] == "rate_limited" => {
                limited += 1
            }
            Got::Frame(_) => {}
            other => {
                return Err(format!(
                    "after {pongs} pongs and {limited} rate_limited of {SENT} pings: {other:?}"
                ));
            }
        }
    }
    // Still open: a ping a moment later (the buckets refill) is answered.
    for _ in 0..20 {
        s.target.sleep(250).await;
        customer.send(&ping()).await?;
        match customer
            .expect("pong or rate_limited", |frame| {
                is_type(frame, "pong") || frame["code"] == "rate_limited"
            })
            .await?
        {
            frame if is_type(&frame, "pong") => return DONE,
            _ => continue,
        }
    }
    Err("the connection kept answering rate_limited for 5 s".into())
}

// ---- events, sending, resume ---------------------------------------------------------------

/// Sends messages and returns the conversation id and every event received for it (all
/// answers in, by the pong).
async fn chat<C: crate::Conn>(
    customer: &mut Peer<C>,
    messages: &[(&str, &str)],
) -> Result<(String, Vec<Value>), String> {
    let mut conversation_id = String::new();
    let mut frames = Vec::new();
    for (id, text) in messages {
        customer
            .send(&json!({"v": 1, "type": "send", "client_msg_id": id, "text": text}))
            .await?;
        let mut answers = customer.until_pong().await?;
        let ack = answers
            .iter()
            .find(|frame| is_type(frame, "ack") && frame["client_msg_id"] == *id)
            .cloned()
            .ok_or_else(|| format!("no ack of {id} before the pong: {answers:?}"))?;
        conversation_id = ack["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        frames.append(&mut answers);
    }
    let events = events_in(&frames, Some(conversation_id.as_str()))
        .into_iter()
        .cloned()
        .collect();
    Ok((conversation_id, events))
}

fn check_gap_free(events: &[&Value]) -> Result<(), String> {
    let seqs = seqs(events);
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    ensure(seqs == expected, || {
        format!("seqs {seqs:?} are not 1..{}", seqs.len())
    })
}

async fn seq_gap_free<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let (_, events) = chat(
        &mut customer,
        &[
            ("g-1", "你好"),
            ("g-2", "退款多久到账？"),
            ("g-3", "怎么开发票"),
        ],
    )
    .await?;
    let events: Vec<&Value> = events.iter().collect();
    check_gap_free(&events)?;
    ensure(events[0]["kind"] == "started", || {
        format!("the first event is {}", events[0])
    })?;
    end_open(&mut customer).await?;
    DONE
}

async fn ack_and_event<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer
        .send(&json!({"v": 1, "type": "send", "client_msg_id": "a-1", "text": "你好"}))
        .await?;
    let answers = customer.until_pong().await?;
    let ack = answers
        .iter()
        .find(|frame| is_type(frame, "ack"))
        .ok_or("no ack before the pong")?;
    ensure(ack["client_msg_id"] == "a-1", || {
        format!("ack for another id: {ack}")
    })?;
    let message = answers
        .iter()
        .find(|frame| event_kind(frame) == Some("customer_message"))
        .ok_or("no customer_message event before the pong")?;
    ensure(message["conversation_id"] == ack["conversation_id"], || {
        format!("the ack and the event name different conversations: {ack} {message}")
    })?;
    let event = &message["event"];
    ensure(
        event["seq"] == ack["seq"] && event["client_msg_id"] == "a-1" && event["text"] == "你好",
        || format!("the event does not match the ack: {ack} {message}"),
    )?;
    end_open(&mut customer).await?;
    DONE
}

async fn duplicate<T: Target>(s: &Session<'_, T>, second_text: &str) -> Check {
    let mut customer = s.customer("customer").await?;
    let first = customer.say("d-1", "退款多久到账？").await?;
    customer.until_pong().await?;
    customer
        .send(&json!({"v": 1, "type": "send", "client_msg_id": "d-1", "text": second_text}))
        .await?;
    let answers = customer.until_pong().await?;
    let again = answers
        .iter()
        .find(|frame| is_type(frame, "ack"))
        .ok_or_else(|| format!("the repeat got no ack: {answers:?}"))?;
    ensure(
        again["seq"] == first["seq"] && again["conversation_id"] == first["conversation_id"],
        || format!("the repeat was acked as {again}, the first as {first}"),
    )?;
    let events = events_in(&answers, None);
    ensure(events.is_empty(), || {
        format!("the repeat made events: {events:?}")
    })?;
    end_open(&mut customer).await?;
    DONE
}

async fn retry_after_reconnect<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let first = customer.say("r-1", "你好").await?;
    let token = customer.welcome["visitor_token"].clone();
    drop(customer);
    let mut again = s
        .customer_with("customer again", json!({"visitor_token": token}))
        .await?;
    let ack = again.say("r-1", "你好").await?;
    ensure(
        ack["seq"] == first["seq"] && ack["conversation_id"] == first["conversation_id"],
        || format!("the retry was acked as {ack}, the first as {first}"),
    )?;
    end_open(&mut again).await?;
    DONE
}

async fn missed_events<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let (conversation_id, events) =
        chat(&mut customer, &[("m-1", "你好"), ("m-2", "退款多久到账？")]).await?;
    ensure(events.len() >= 3, || {
        format!("too few events to resume: {events:?}")
    })?;
    let token = customer.welcome["visitor_token"].clone();
    drop(customer);
    let cursor = 2;
    let mut again = s
        .customer_with(
            "customer again",
            json!({"visitor_token": token,
                   "resume": [{"conversation_id": conversation_id, "after_seq": cursor}]}),
        )
        .await?;
    ensure(
        again.welcome["conversation_id"] == conversation_id.as_str(),
        || {
            format!(
                "the welcome does not name the open conversation: {}",
                again.welcome
            )
        },
    )?;
    let resumed = again.until_pong().await?;
    let got: Vec<&Value> = events_in(&resumed, Some(conversation_id.as_str()));
    let expected: Vec<&Value> = events
        .iter()
        .filter(|event| event["seq"].as_u64().is_some_and(|seq| seq > cursor))
        .collect();
    ensure(got == expected, || {
        format!("resumed {got:?}, expected {expected:?}")
    })?;
    end_open(&mut again).await?;
    DONE
}

async fn token_without_cursor<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let (conversation_id, events) = chat(&mut customer, &[("t-1", "你好")]).await?;
    let token = customer.welcome["visitor_token"].clone();
    drop(customer);
    let mut again = s
        .customer_with("customer again", json!({"visitor_token": token}))
        .await?;
    let pushed = again.until_pong().await?;
    let got: Vec<&Value> = events_in(&pushed, Some(conversation_id.as_str()));
    let expected: Vec<&Value> = events.iter().collect();
    ensure(got == expected, || {
        format!("pushed {got:?}, expected {expected:?}")
    })?;
    end_open(&mut again).await?;
    DONE
}

async fn foreign_cursor<T: Target>(s: &Session<'_, T>) -> Check {
    let mut owner = s.customer("owner").await?;
    let (conversation_id, _) = chat(&mut owner, &[("f-1", "你好")]).await?;
    let mut stranger = s
        .customer_with(
            "stranger",
            json!({"resume": [{"conversation_id": conversation_id, "after_seq": 0}]}),
        )
        .await?;
    let pushed = stranger.until_pong().await?;
    let leaked = events_in(&pushed, Some(conversation_id.as_str()));
    ensure(leaked.is_empty(), || {
        format!("another visitor's events were sent: {leaked:?}")
    })?;
    end_open(&mut owner).await?;
    DONE
}

// ---- conversations -------------------------------------------------------------------------

/// Ends the customer's open conversation, if any, so that nothing is left in a queue.
async fn end_open<C: crate::Conn>(customer: &mut Peer<C>) -> Result<(), String> {
    customer.send(&json!({"v": 1, "type": "end"})).await?;
    customer.until_pong().await?;
    Ok(())
}

async fn first_send_starts<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let (conversation_id, events) = chat(&mut customer, &[("s-1", "你好")]).await?;
    let started = events.first().ok_or("no events")?;
    ensure(started["kind"] == "started" && started["seq"] == 1, || {
        format!("the first event is not started with seq 1: {started}")
    })?;
    ensure(
        started["conversation_id"] == conversation_id.as_str(),
        || format!("started names another conversation: {started}"),
    )?;
    ensure(
        started["visitor_id"] == customer.welcome["visitor_id"],
        || format!("started names another visitor than the welcome: {started}"),
    )?;
    ensure(started["group"].is_string(), || {
        format!("started without group: {started}")
    })?;
    let message = events.get(1).ok_or("no second event")?;
    ensure(
        message["kind"] == "customer_message" && message["seq"] == 2,
        || format!("the second event is not the message: {message}"),
    )?;
    end_open(&mut customer).await?;
    DONE
}

fn robot_mode(welcome: &Value) -> bool {
    matches!(
        welcome["service_mode"].as_str(),
        Some("robot_first" | "robot_only")
    )
}

async fn robot_replies<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    if !robot_mode(&customer.welcome) {
        return Ok(Played::NotApplicable("the service is human_only".into()));
    }
    let (_, events) = chat(&mut customer, &[("q-1", "请问退款多久到账？")]).await?;
    let reply = events
        .iter()
        .find(|event| matches!(event["kind"].as_str(), Some("robot_answer" | "robot_miss")))
        .ok_or_else(|| format!("no robot_answer or robot_miss: {events:?}"))?;
    ensure(
        reply["text"].is_string() && reply["suggestions"].is_array(),
        || format!("a robot reply without text or suggestions: {reply}"),
    )?;
    for suggestion in reply["suggestions"].as_array().into_iter().flatten() {
        ensure(
            suggestion["id"].is_string() && suggestion["question"].is_string(),
            || format!("a suggestion without id or question: {suggestion}"),
        )?;
    }
    end_open(&mut customer).await?;
    DONE
}

async fn end_phrase<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let (_, events) = chat(&mut customer, &[("e-1", "结束会话")]).await?;
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|event| event["kind"].as_str())
        .collect();
    ensure(kinds == ["started", "customer_message", "ended"], || {
        format!("结束会话 as the first message made {kinds:?}")
    })?;
    ensure(events[2]["by"] == json!({"type": "customer"}), || {
        format!("ended not by the customer: {}", events[2])
    })?;
    DONE
}

async fn end_frame<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let (first, _) = chat(&mut customer, &[("n-1", "你好")]).await?;
    customer.send(&json!({"v": 1, "type": "end"})).await?;
    let answers = customer.until_pong().await?;
    let events = events_in(&answers, Some(first.as_str()));
    ensure(
        events.len() == 1
            && events[0]["kind"] == "ended"
            && events[0]["by"] == json!({"type": "customer"}),
        || format!("end made {events:?}"),
    )?;
    ensure(
        !answers
            .iter()
            .any(|frame| is_type(frame, "ack") || is_type(frame, "error")),
        || format!("end was answered with more than events: {answers:?}"),
    )?;
    customer.send(&json!({"v": 1, "type": "end"})).await?;
    customer.expect_error("invalid_state", None).await?;
    let (second, events) = chat(&mut customer, &[("n-2", "你好")]).await?;
    ensure(second != first, || {
        "a send after the end went to the ended conversation".into()
    })?;
    ensure(
        events
            .first()
            .is_some_and(|event| event["kind"] == "started"),
        || format!("the new conversation does not begin with started: {events:?}"),
    )?;
    end_open(&mut customer).await?;
    DONE
}

async fn end_without_conversation<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer.send(&json!({"v": 1, "type": "end"})).await?;
    customer.expect_error("invalid_state", None).await?;
    DONE
}

/// After `transfer_requested`: `queued` or a `notice`, by the rules of "Phases".
fn check_transfer_outcome(events: &[&Value], reason: &str) -> Result<(), String> {
    let at = events
        .iter()
        .position(|event| event["kind"] == "transfer_requested")
        .ok_or_else(|| format!("no transfer_requested: {events:?}"))?;
    ensure(events[at]["reason"] == reason, || {
        format!(
            "transfer_requested with reason {}, not {reason}",
            events[at]["reason"]
        )
    })?;
    let outcome = events
        .get(at + 1)
        .ok_or("nothing after transfer_requested")?;
    match outcome["kind"].as_str() {
        Some("queued") => ensure(outcome["group"].is_string(), || {
            format!("queued without group: {outcome}")
        }),
        Some("notice") => {
            let kind = outcome["notice"]["type"].as_str().unwrap_or_default();
            ensure(
                ["off_hours", "no_agent_online"].contains(&kind) && outcome["text"].is_string(),
                || {
                    format!(
                        "a notice after a transfer that is not off_hours or no_agent_online: {outcome}"
                    )
                },
            )
        }
        _ => Err(format!("transfer_requested is followed by {outcome}")),
    }
}

async fn transfer_button<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let welcome = customer.welcome.clone();
    customer
        .send(&json!({"v": 1, "type": "transfer", "client_msg_id": "t-1"}))
        .await?;
    let answers = customer.until_pong().await?;
    let mode = welcome["service_mode"].as_str().unwrap_or_default();
    if mode == "robot_first" && welcome["transfer_button"] == false {
        let refused = answers.iter().any(|frame| {
            is_type(frame, "error")
                && frame["code"] == "invalid_state"
                && frame["client_msg_id"] == "t-1"
        });
        ensure(refused, || {
            format!("a disabled transfer button was not refused: {answers:?}")
        })?;
        return DONE;
    }
    ensure(
        !answers
            .iter()
            .any(|frame| is_type(frame, "ack") || is_type(frame, "error")),
        || format!("transfer was answered with more than events: {answers:?}"),
    )?;
    let events = events_in(&answers, None);
    ensure(
        events
            .first()
            .is_some_and(|event| event["kind"] == "started"),
        || format!("transfer without a conversation did not start one: {events:?}"),
    )?;
    if mode == "robot_only" {
        ensure(
            events
                .iter()
                .any(|event| event["notice"]["type"] == "robot_only"),
            || format!("robot_only: no robot_only notice: {events:?}"),
        )?;
    } else {
        let reason = if mode == "human_only" {
            "human_only"
        } else {
            "button"
        };
        check_transfer_outcome(&events, reason)?;
    }
    end_open(&mut customer).await?;
    DONE
}

async fn transfer_keyword<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    if customer.welcome["service_mode"] != "robot_first" {
        return Ok(Played::NotApplicable(
            "keywords transfer in robot_first only".into(),
        ));
    }
    let text = format!("你好，我要{}", s.caps().transfer_keyword);
    let (_, events) = chat(&mut customer, &[("k-1", &text)]).await?;
    let events: Vec<&Value> = events.iter().collect();
    check_transfer_outcome(&events, "keyword")?;
    end_open(&mut customer).await?;
    DONE
}

async fn typing_is_ephemeral<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    customer
        .send(&json!({"v": 1, "type": "typing", "typing": true}))
        .await?;
    customer
        .send(&json!({"v": 1, "type": "typing", "typing": false}))
        .await?;
    let answers = customer.until_pong().await?;
    ensure(answers.is_empty(), || {
        format!("typing was answered: {answers:?}")
    })?;
    DONE
}

async fn vote<T: Target>(s: &Session<'_, T>) -> Check {
    let mut customer = s.customer("customer").await?;
    let (conversation_id, events) = chat(&mut customer, &[("v-1", "请问退款多久到账？")]).await?;
    let vote = |seq: u64, verdict: &str| json!({"v": 1, "type": "vote", "conversation_id": conversation_id, "seq": seq, "verdict": verdict});
    // The customer's own message is never votable.
    let question = events
        .iter()
        .find(|event| event["kind"] == "customer_message")
        .and_then(|event| event["seq"].as_u64())
        .ok_or_else(|| format!("no customer_message: {events:?}"))?;
    customer.send(&vote(question, "helpful")).await?;
    customer.expect_error("not_found", None).await?;
    customer.send(&vote(0, "helpful")).await?;
    customer.expect_error("bad_frame", None).await?;
    let answer = events
        .iter()
        .find(|event| event["kind"] == "robot_answer" && event["knowledge_id"].is_string())
        .and_then(|event| event["seq"].as_u64());
    if let Some(seq) = answer {
        customer.send(&vote(seq, "not_helpful")).await?;
        customer.send(&vote(seq, "helpful")).await?;
        let answers = customer.until_pong().await?;
        ensure(answers.is_empty(), || {
            format!("a vote on a knowledge answer was answered: {answers:?}")
        })?;
        let mut stranger = s.customer("stranger").await?;
        stranger.send(&vote(seq, "helpful")).await?;
        stranger.expect_error("not_found", None).await?;
    }
    end_open(&mut customer).await?;
    DONE
}

// ---- agents ----------------------------------------------------------------------------------

async fn login_refused<T: Target>(s: &Session<'_, T>) -> Check {
    let login = s.caps().agent.clone().ok_or("no agent")?;
    let body =
        json!({"login": login.login, "password": format!("{}-wrong", login.password)}).to_string();
    s.note("→ http: POST /api/agent/login with a wrong password".into());
    let (status, answer) = s
        .target
        .http("POST", "/api/agent/login", None, Some(body.as_str()))
        .await?;
    s.note(format!("← http: {status} {answer}"));
    ensure(status == 401, || format!("answered {status}, not 401"))?;
    let answer: Value =
        serde_json::from_str(&answer).map_err(|error| format!("not JSON: {error}"))?;
    ensure(
        answer["error"] == "unauthorized" && answer["message"].is_string(),
        || format!("the body is not {{\"error\": \"unauthorized\", \"message\"}}: {answer}"),
    )?;
    DONE
}

async fn unknown_session<T: Target>(s: &Session<'_, T>) -> Check {
    let mut agent = s.open(Endpoint::Agent, "agent").await?;
    agent
        .send(&json!({"v": 1, "type": "hello", "session_token": "0000000000000000000000000000000000000000000000000000000000000000"}))
        .await?;
    agent.expect_error("unauthorized", None).await?;
    agent.expect_close_code(1008, WAIT_MS).await?;
    DONE
}

async fn agent_welcome_fields<T: Target>(s: &Session<'_, T>) -> Check {
    let (token, agent_id) = s.login().await?;
    let agent = s.agent("agent", &token).await?;
    let welcome = &agent.welcome;
    let profile = &welcome["agent"];
    ensure(profile["agent_id"] == agent_id.as_str(), || {
        format!("agent_welcome.agent.agent_id is not the login's agent_id {agent_id}: {welcome}")
    })?;
    ensure(
        profile["display_name"].is_string() && profile["groups"].is_array(),
        || format!("agent without display_name or groups: {profile}"),
    )?;
    ensure(profile["max_concurrent_chats"].is_u64(), || {
        "max_concurrent_chats is not an integer".into()
    })?;
    let status = profile["status"].as_str().unwrap_or_default();
    ensure(["online", "away", "offline"].contains(&status), || {
        format!("status {status:?}")
    })?;
    ensure(
        welcome["conversations"].is_array() && welcome["server_time"].is_i64(),
        || format!("agent_welcome without conversations or server_time: {welcome}"),
    )?;
    for group in welcome["groups"]
        .as_array()
        .ok_or("agent_welcome.groups is not a list")?
    {
        ensure(
            group["name"].is_string() && group["display_name"].is_string(),
            || format!("a group without name or display_name: {group}"),
        )?;
    }
    DONE
}

async fn presence<T: Target>(s: &Session<'_, T>) -> Check {
    let (token, _) = s.login().await?;
    let mut first = s.agent("agent socket 1", &token).await?;
    let mut second = s.agent("agent socket 2", &token).await?;
    first
        .send(&json!({"v": 1, "type": "set_status", "status": "away"}))
        .await?;
    for socket in [&mut first, &mut second] {
        socket
            .expect("agent_status away", |frame| {
                is_type(frame, "agent_status") && frame["status"] == "away"
            })
            .await?;
    }
    second
        .send(&json!({"v": 1, "type": "set_status", "status": "online"}))
        .await?;
    first
        .expect("agent_status online", |frame| {
            is_type(frame, "agent_status") && frame["status"] == "online"
        })
        .await?;
    drop(first);
    drop(second);
    let again = s.agent("agent reconnected", &token).await?;
    ensure(again.welcome["agent"]["status"] == "online", || {
        format!(
            "the status did not outlive the reconnect: {}",
            again.welcome["agent"]
        )
    })?;
    DONE
}

/// A customer who asked for a person and was assigned to the kit's agent: the customer,
/// the agent socket, the conversation id, and the agent's snapshot frame.
async fn assigned<'s, T: Target>(
    s: &Session<'s, T>,
) -> Result<(Peer<T::Conn>, Peer<T::Conn>, String, Value, String), String> {
    let (token, agent_id) = s.login().await?;
    let mut agent = s.online_agent("agent", &token).await?;
    // An unverified user, whose copy the agent gets without any user_hash.
    let user = json!({"user": {"id": "conformance-user", "name": "一致性测试客户"}});
    let mut customer = s.customer_with("customer", user).await?;
    if customer.welcome["service_mode"] == "robot_only" {
        return Err("robot_only: nobody can be transferred (run the agent scenarios against a robot_first or human_only service)".into());
    }
    customer
        .send(&json!({"v": 1, "type": "send", "client_msg_id": "h-1", "text": "你好，请问在吗"}))
        .await?;
    let answers = customer.until_pong().await?;
    let already = answers
        .iter()
        .any(|frame| event_kind(frame) == Some("queued"));
    let conversation_id = answers
        .iter()
        .find(|frame| is_type(frame, "ack"))
        .and_then(|ack| ack["conversation_id"].as_str())
        .ok_or_else(|| format!("no ack of h-1: {answers:?}"))?
        .to_owned();
    customer.unread(answers);
    if !already {
        if customer.welcome["transfer_button"] == true {
            customer
                .send(&json!({"v": 1, "type": "transfer", "client_msg_id": "h-2"}))
                .await?;
        } else {
            let text = s.caps().transfer_keyword.clone();
            customer
                .send(&json!({"v": 1, "type": "send", "client_msg_id": "h-2", "text": text}))
                .await?;
        }
    }
    let assigned = customer
        .expect_event("agent_assigned", Some(conversation_id.as_str()))
        .await?;
    ensure(assigned["event"]["agent_id"] == agent_id.as_str(), || {
        format!("assigned to another agent than the kit's ({agent_id}): {assigned}")
    })?;
    let snapshot = agent
        .expect("snapshot of the conversation", |frame| {
            is_type(frame, "snapshot")
                && frame["conversation"]["conversation_id"] == conversation_id.as_str()
        })
        .await?;
    Ok((customer, agent, conversation_id, snapshot, agent_id))
}

async fn assignment_snapshot<T: Target>(s: &Session<'_, T>) -> Check {
    let (mut customer, _agent, conversation_id, snapshot, agent_id) = assigned(s).await?;
    let summary = &snapshot["conversation"];
    ensure(
        summary["phase"] == "human" && summary["agent_id"] == agent_id.as_str(),
        || format!("the snapshot's summary is not human with the agent: {summary}"),
    )?;
    ensure(
        summary["visitor"]["visitor_id"] == customer.welcome["visitor_id"],
        || format!("the snapshot names another visitor: {summary}"),
    )?;
    let user = &summary["visitor"]["user"];
    ensure(
        user["id"] == "conformance-user" && user.get("user_hash").is_none(),
        || format!("the snapshot's user is not the hello's, without user_hash: {user}"),
    )?;
    ensure(summary["visitor"]["verified"] == false, || {
        format!("a user without a hash is shown as verified: {summary}")
    })?;
    let events: Vec<&Value> = snapshot["events"]
        .as_array()
        .ok_or("snapshot without events")?
        .iter()
        .collect();
    check_gap_free(&events)?;
    ensure(
        events
            .iter()
            .any(|event| event["kind"] == "customer_message" && event["client_msg_id"] == "h-1"),
        || format!("the snapshot lacks the customer's message before the transfer: {events:?}"),
    )?;
    if robot_mode(&customer.welcome) {
        ensure(
            events
                .iter()
                .any(|event| matches!(event["kind"].as_str(), Some("robot_answer" | "robot_miss"))),
            || format!("the snapshot lacks the robot's part: {events:?}"),
        )?;
    }
    ensure(
        events
            .last()
            .is_some_and(|event| event["kind"] == "agent_assigned"),
        || format!("the snapshot does not end with agent_assigned: {events:?}"),
    )?;
    ensure(
        summary["last_seq"] == events.last().map_or(json!(0), |event| event["seq"].clone()),
        || format!("last_seq does not match the snapshot's events: {summary}"),
    )?;
    let _ = conversation_id;
    end_open(&mut customer).await?;
    DONE
}

async fn both_ways<T: Target>(s: &Session<'_, T>) -> Check {
    let (mut customer, mut agent, conversation_id, snapshot, agent_id) = assigned(s).await?;
    let mut last = snapshot["conversation"]["last_seq"]
        .as_u64()
        .ok_or("no last_seq")?;
    let send = json!({"v": 1, "type": "send", "conversation_id": conversation_id, "client_msg_id": "w-1", "text": "您好，请讲"});
    agent.send(&send).await?;
    let ack = agent.ack_of("w-1").await?;
    ensure(
        ack["seq"] == last + 1 && ack["conversation_id"] == conversation_id.as_str(),
        || format!("the agent's message was acked as {ack}, after seq {last}"),
    )?;
    last += 1;
    let seen = customer
        .expect_event("agent_message", Some(conversation_id.as_str()))
        .await?;
    let event = &seen["event"];
    ensure(
        event["seq"] == last
            && event["agent_id"] == agent_id.as_str()
            && event["client_msg_id"] == "w-1"
            && event["text"] == "您好，请讲",
        || format!("the customer got {seen}"),
    )?;
    agent.send(&json!({"v": 1, "type": "send", "conversation_id": conversation_id, "client_msg_id": "w-1", "text": "重发"})).await?;
    let again = agent.ack_of("w-1").await?;
    ensure(again["seq"] == ack["seq"], || {
        format!("a repeated agent send was acked as {again}, first {ack}")
    })?;
    customer.say("c-2", "我的订单还没到").await?;
    let seen = agent
        .expect_event("customer_message", Some(conversation_id.as_str()))
        .await?;
    ensure(
        seen["event"]["seq"] == last + 1 && seen["event"]["text"] == "我的订单还没到",
        || format!("the agent got {seen}, after seq {last}"),
    )?;
    end_open(&mut customer).await?;
    DONE
}

async fn agent_typing<T: Target>(s: &Session<'_, T>) -> Check {
    let (mut customer, mut agent, conversation_id, _, _) = assigned(s).await?;
    customer
        .send(&json!({"v": 1, "type": "typing", "typing": true}))
        .await?;
    let typing = agent
        .expect("typing from the customer", |frame| is_type(frame, "typing"))
        .await?;
    ensure(
        typing["conversation_id"] == conversation_id.as_str()
            && typing["from"] == "customer"
            && typing["typing"] == true,
        || format!("the agent got {typing}"),
    )?;
    agent
        .send(
            &json!({"v": 1, "type": "typing", "conversation_id": conversation_id, "typing": true}),
        )
        .await?;
    let typing = customer
        .expect("typing from the agent", |frame| is_type(frame, "typing"))
        .await?;
    ensure(
        typing["conversation_id"] == conversation_id.as_str()
            && typing["from"] == "agent"
            && typing["typing"] == true,
        || format!("the customer got {typing}"),
    )?;
    end_open(&mut customer).await?;
    DONE
}

async fn after_end<T: Target>(s: &Session<'_, T>) -> Check {
    let (mut customer, mut agent, conversation_id, _, _) = assigned(s).await?;
    customer.send(&json!({"v": 1, "type": "end"})).await?;
    agent
        .expect_event("ended", Some(conversation_id.as_str()))
        .await?;
    agent
        .send(&json!({"v": 1, "type": "send", "conversation_id": conversation_id, "client_msg_id": "late-1", "text": "还在吗"}))
        .await?;
    agent.expect_error("invalid_state", Some("late-1")).await?;
    DONE
}

async fn not_found<T: Target>(s: &Session<'_, T>) -> Check {
    let (token, _) = s.login().await?;
    let mut agent = s.online_agent("agent", &token).await?;
    agent
        .send(&json!({"v": 1, "type": "send", "conversation_id": "0123456789abcdef0123456789abcdef", "client_msg_id": "x-1", "text": "你好"}))
        .await?;
    agent.expect_error("not_found", Some("x-1")).await?;
    agent
        .send(
            &json!({"v": 1, "type": "end", "conversation_id": "0123456789abcdef0123456789abcdef"}),
        )
        .await?;
    agent.expect_error("not_found", None).await?;
    DONE
}

async fn logout<T: Target>(s: &Session<'_, T>) -> Check {
    let (token, _) = s.fresh_login().await?;
    let mut agent = s.agent("agent", &token).await?;
    s.note("→ http: POST /api/agent/logout".into());
    let (status, body) = s
        .target
        .http("POST", "/api/agent/logout", Some(token.as_str()), None)
        .await?;
    s.note(format!("← http: {status} {body}"));
    ensure(status == 204, || {
        format!("logout answered {status}, not 204")
    })?;
    agent.expect_error("unauthorized", None).await?;
    agent.expect_close_code(1008, WAIT_MS).await?;
    DONE
}
