//! One short given-events / when-command / then-events-or-rejection test per rule of the
//! conversation state machine (DESIGN.md), all through [`check`].

use kefu_core::config::{Config, ServiceMode};
use kefu_core::conversation::{
    Availability, Command, ConversationSettings, Ctx, EndedBy, Event, EventBody, NoticeKind, Phase,
    Rejection, RequeueReason, Suggestion, TransferReason, decide, fold,
};
use kefu_core::protocol::{ErrorCode, MAX_MESSAGE_CHARS};
use kefu_core::robot::{Hit, RobotResult};

const NOW: i64 = 1_750_000_000_000;
const MINUTE: i64 = 60_000;

/// The world a command is decided in; each test changes only what its rule is about.
#[derive(Clone)]
struct World {
    settings: ConversationSettings,
    availability: Availability,
    robot: Option<RobotResult>,
    now: i64,
}

impl World {
    fn new() -> World {
        World {
            settings: Config::demo()
                .conversation_settings("support")
                .expect("demo group has settings"),
            availability: Availability {
                open: true,
                next_opening: None,
                agents_online: 1,
                free_capacity: 1,
            },
            robot: None,
            now: NOW,
        }
    }
    fn mode(mut self, mode: ServiceMode) -> World {
        self.settings.mode = mode;
        self
    }
    fn closed(mut self, next_opening: Option<i64>) -> World {
        self.availability.open = false;
        self.availability.next_opening = next_opening;
        self
    }
    fn nobody_online(mut self) -> World {
        self.availability.agents_online = 0;
        self.availability.free_capacity = 0;
        self
    }
    fn robot_hit(mut self) -> World {
        self.robot = Some(RobotResult {
            best: Some(hit("kb-013", "退款多久到账？", "1-3 个工作日到账。")),
            suggestions: vec![hit("kb-012", "退货政策是什么？", "7 天无理由。")],
        });
        self
    }
    fn robot_miss(mut self) -> World {
        self.robot = Some(RobotResult {
            best: None,
            suggestions: vec![hit("kb-012", "退货政策是什么？", "7 天无理由。")],
        });
        self
    }
    fn at(mut self, now: i64) -> World {
        self.now = now;
        self
    }
}

fn hit(id: &str, question: &str, answer: &str) -> Hit {
    Hit {
        id: id.to_owned(),
        score: 0.9,
        question: question.to_owned(),
        answer: answer.to_owned(),
    }
}

/// Given the bodies of a log (seq 1.., one minute apart ending at `NOW`), when the command
/// is decided in the world, then exactly these bodies are appended (with the next seqs and
/// `world.now`), or this rejection.
#[track_caller]
fn check(
    world: &World,
    given: &[EventBody],
    when: Command,
    then: Result<Vec<EventBody>, Rejection>,
) {
    let log: Vec<Event> = given
        .iter()
        .enumerate()
        .map(|(index, body)| Event {
            seq: index as u64 + 1,
            at: NOW - (given.len() - index) as i64 * MINUTE,
            body: body.clone(),
        })
        .collect();
    let state = fold(&log);
    let ctx = Ctx {
        now: world.now,
        settings: &world.settings,
        availability: world.availability,
        robot: world.robot.as_ref(),
    };
    let decided = decide(&state, &when, &ctx);
    let expected = then.map(|bodies| {
        bodies
            .into_iter()
            .enumerate()
            .map(|(index, body)| Event {
                seq: log.len() as u64 + 1 + index as u64,
                at: world.now,
                body,
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(decided, expected);
    if let Ok(events) = decided {
        let mut after = state.clone();
        for event in &events {
            after
                .check_next(event)
                .expect("decided events extend the log");
            after.apply(event);
        }
        after
            .check_invariants()
            .expect("decided events keep the invariants");
    }
}

fn started() -> EventBody {
    EventBody::Started {
        conversation_id: "c1".into(),
        visitor_id: "v1".into(),
        group: "support".into(),
    }
}
fn customer(client_msg_id: &str, text: &str) -> EventBody {
    EventBody::CustomerMessage {
        client_msg_id: client_msg_id.into(),
        text: text.into(),
    }
}
fn send(client_msg_id: &str, text: &str) -> Command {
    Command::CustomerMessage {
        client_msg_id: client_msg_id.into(),
        text: text.into(),
    }
}
fn miss(world: &World) -> EventBody {
    EventBody::RobotMiss {
        text: world.settings.no_answer_reply.clone(),
        suggestions: vec![Suggestion {
            id: "kb-012".into(),
            question: "退货政策是什么？".into(),
        }],
    }
}
fn transfer_requested(reason: TransferReason) -> EventBody {
    EventBody::TransferRequested { reason }
}
fn queued() -> EventBody {
    EventBody::Queued {
        group: "support".into(),
    }
}
fn assigned() -> EventBody {
    EventBody::AgentAssigned {
        agent_id: "a1".into(),
        agent_name: "小王".into(),
    }
}
fn agent_says(client_msg_id: &str, text: &str) -> EventBody {
    EventBody::AgentMessage {
        agent_id: "a1".into(),
        client_msg_id: client_msg_id.into(),
        text: text.into(),
    }
}
fn ended(by: EndedBy) -> EventBody {
    EventBody::Ended { by }
}
fn in_human() -> Vec<EventBody> {
    vec![
        started(),
        customer("m1", "转人工"),
        transfer_requested(TransferReason::Keyword),
        queued(),
        assigned(),
    ]
}
fn in_queue() -> Vec<EventBody> {
    vec![
        started(),
        customer("m1", "转人工"),
        transfer_requested(TransferReason::Keyword),
        queued(),
    ]
}

// --- start ---

#[test]
fn start_creates_the_conversation_in_the_robot_phase() {
    let command = Command::Start {
        conversation_id: "c1".into(),
        visitor_id: "v1".into(),
        group: "support".into(),
    };
    check(&World::new(), &[], command.clone(), Ok(vec![started()]));
    check(
        &World::new(),
        &[started()],
        command,
        Err(Rejection::AlreadyStarted),
    );
}

#[test]
fn nothing_but_start_on_an_empty_log() {
    check(
        &World::new(),
        &[],
        send("m1", "你好"),
        Err(Rejection::NotStarted),
    );
}

// --- robot_first ---

#[test]
fn robot_first_answers_a_hit() {
    let world = World::new().robot_hit();
    check(
        &world,
        &[started()],
        send("m1", "退款多久到账"),
        Ok(vec![
            customer("m1", "退款多久到账"),
            EventBody::RobotAnswer {
                knowledge_id: Some("kb-013".into()),
                text: "1-3 个工作日到账。".into(),
                suggestions: vec![Suggestion {
                    id: "kb-012".into(),
                    question: "退货政策是什么？".into(),
                }],
            },
        ]),
    );
}

#[test]
fn robot_first_gives_the_no_answer_reply_on_a_miss() {
    let world = World::new().robot_miss();
    check(
        &world,
        &[started()],
        send("m1", "嗯？"),
        Ok(vec![customer("m1", "嗯？"), miss(&world)]),
    );
}

#[test]
fn robot_not_consulted_counts_as_a_miss() {
    let world = World::new();
    let bare_miss = EventBody::RobotMiss {
        text: world.settings.no_answer_reply.clone(),
        suggestions: vec![],
    };
    check(
        &world,
        &[started()],
        send("m1", "嗯？"),
        Ok(vec![customer("m1", "嗯？"), bare_miss]),
    );
}

#[test]
fn a_transfer_keyword_queues_at_once() {
    check(
        &World::new().robot_hit(),
        &[started()],
        send("m1", "我要转人工"),
        Ok(vec![
            customer("m1", "我要转人工"),
            transfer_requested(TransferReason::Keyword),
            queued(),
        ]),
    );
}

#[test]
fn english_keywords_match_whole_words_in_any_width_and_case() {
    check(
        &World::new(),
        &[started()],
        send("m1", "ＨＵＭＡＮ please"),
        Ok(vec![
            customer("m1", "ＨＵＭＡＮ please"),
            transfer_requested(TransferReason::Keyword),
            queued(),
        ]),
    );
}

#[test]
fn the_transfer_button_queues() {
    check(
        &World::new(),
        &[started()],
        Command::RequestTransfer,
        Ok(vec![transfer_requested(TransferReason::Button), queued()]),
    );
}

#[test]
fn a_disabled_transfer_button_is_refused() {
    let mut world = World::new();
    world.settings.transfer_button = false;
    check(
        &world,
        &[started()],
        Command::RequestTransfer,
        Err(Rejection::TransferButtonDisabled),
    );
}

#[test]
fn the_third_consecutive_miss_transfers() {
    let world = World::new().robot_miss();
    let given = [
        started(),
        customer("m1", "a"),
        miss(&world),
        customer("m2", "b"),
        miss(&world),
    ];
    check(
        &world,
        &given,
        send("m3", "c"),
        Ok(vec![
            customer("m3", "c"),
            miss(&world),
            transfer_requested(TransferReason::Misses),
            queued(),
        ]),
    );
}

#[test]
fn a_hit_resets_the_miss_count() {
    let world = World::new().robot_miss();
    let answer = EventBody::RobotAnswer {
        knowledge_id: Some("kb-1".into()),
        text: "ok".into(),
        suggestions: vec![],
    };
    let given = [
        started(),
        customer("m1", "a"),
        miss(&world),
        customer("m2", "b"),
        answer,
        customer("m3", "c"),
        miss(&world),
    ];
    check(
        &world,
        &given,
        send("m4", "d"),
        Ok(vec![customer("m4", "d"), miss(&world)]),
    );
}

#[test]
fn an_acknowledgement_the_robot_cannot_answer_gets_no_reply_and_is_not_a_miss() {
    let world = World::new().robot_miss();
    let given = [
        started(),
        customer("m1", "a"),
        miss(&world),
        customer("m2", "b"),
        miss(&world),
    ];
    // Two misses already: "谢谢" would have been the third and transferred.
    check(
        &world,
        &given,
        send("m3", "谢谢！"),
        Ok(vec![customer("m3", "谢谢！")]),
    );
}

#[test]
fn an_acknowledgement_the_knowledge_base_answers_is_answered() {
    let world = World::new().robot_hit();
    let answer = EventBody::RobotAnswer {
        knowledge_id: Some("kb-013".into()),
        text: "1-3 个工作日到账。".into(),
        suggestions: vec![Suggestion {
            id: "kb-012".into(),
            question: "退货政策是什么？".into(),
        }],
    };
    check(
        &world,
        &[started()],
        send("m1", "好的"),
        Ok(vec![customer("m1", "好的"), answer]),
    );
}

#[test]
fn zero_misses_setting_never_transfers_on_misses() {
    let mut world = World::new().robot_miss();
    world.settings.misses_before_transfer = 0;
    let given = [
        started(),
        customer("m1", "a"),
        miss(&world),
        customer("m2", "b"),
        miss(&world),
    ];
    check(
        &world,
        &given,
        send("m3", "c"),
        Ok(vec![customer("m3", "c"), miss(&world)]),
    );
}

// --- availability on transfer ---

#[test]
fn off_hours_gives_the_off_hours_message_and_stays_with_the_robot() {
    let world = World::new().closed(Some(NOW + 3_600_000));
    check(
        &world,
        &[started()],
        send("m1", "转人工"),
        Ok(vec![
            customer("m1", "转人工"),
            transfer_requested(TransferReason::Keyword),
            EventBody::Notice {
                notice: NoticeKind::OffHours {
                    next_opening: Some(NOW + 3_600_000),
                },
                text: world.settings.off_hours_message.clone(),
            },
        ]),
    );
}

#[test]
fn no_agent_online_gives_the_no_agent_message_and_stays_with_the_robot() {
    let world = World::new().nobody_online();
    let given = [
        started(),
        customer("m1", "转人工"),
        transfer_requested(TransferReason::Keyword),
    ];
    let notice = EventBody::Notice {
        notice: NoticeKind::NoAgentOnline,
        text: world.settings.no_agent_message.clone(),
    };
    check(
        &world,
        &given[..1],
        Command::RequestTransfer,
        Ok(vec![transfer_requested(TransferReason::Button), notice]),
    );
    // Still in Robot: the robot keeps answering afterwards.
    check(
        &World::new().robot_hit(),
        &given,
        send("m2", "退款"),
        Ok(vec![
            customer("m2", "退款"),
            EventBody::RobotAnswer {
                knowledge_id: Some("kb-013".into()),
                text: "1-3 个工作日到账。".into(),
                suggestions: vec![Suggestion {
                    id: "kb-012".into(),
                    question: "退货政策是什么？".into(),
                }],
            },
        ]),
    );
}

#[test]
fn all_agents_busy_still_queues() {
    let mut world = World::new();
    world.availability.free_capacity = 0;
    check(
        &world,
        &[started()],
        Command::RequestTransfer,
        Ok(vec![transfer_requested(TransferReason::Button), queued()]),
    );
}

// --- robot_only ---

#[test]
fn robot_only_answers_transfer_keywords_with_a_clear_notice() {
    let world = World::new().mode(ServiceMode::RobotOnly);
    let notice = EventBody::Notice {
        notice: NoticeKind::RobotOnly,
        text: world.settings.robot_only_reply.clone(),
    };
    check(
        &world,
        &[started()],
        send("m1", "转人工"),
        Ok(vec![customer("m1", "转人工"), notice.clone()]),
    );
    check(
        &world,
        &[started()],
        Command::RequestTransfer,
        Ok(vec![notice]),
    );
}

#[test]
fn robot_only_never_transfers_on_misses() {
    let world = World::new().mode(ServiceMode::RobotOnly).robot_miss();
    let given = [
        started(),
        customer("m1", "a"),
        miss(&world),
        customer("m2", "b"),
        miss(&world),
    ];
    check(
        &world,
        &given,
        send("m3", "c"),
        Ok(vec![customer("m3", "c"), miss(&world)]),
    );
}

// --- human_only ---

#[test]
fn human_only_goes_straight_to_the_group_without_the_robot() {
    let world = World::new().mode(ServiceMode::HumanOnly).robot_hit();
    check(
        &world,
        &[started()],
        send("m1", "退款多久到账"),
        Ok(vec![
            customer("m1", "退款多久到账"),
            transfer_requested(TransferReason::HumanOnly),
            queued(),
        ]),
    );
}

#[test]
fn human_only_off_hours_tells_the_customer_and_retries_on_the_next_message() {
    let world = World::new().mode(ServiceMode::HumanOnly).closed(None);
    let notice = EventBody::Notice {
        notice: NoticeKind::OffHours { next_opening: None },
        text: world.settings.off_hours_message.clone(),
    };
    let given = [
        started(),
        customer("m1", "在吗"),
        transfer_requested(TransferReason::HumanOnly),
        notice.clone(),
    ];
    check(
        &world,
        &given,
        send("m2", "还在吗"),
        Ok(vec![
            customer("m2", "还在吗"),
            transfer_requested(TransferReason::HumanOnly),
            notice,
        ]),
    );
}

// --- queue ---

#[test]
fn customer_messages_while_queued_are_kept_for_the_agent() {
    check(
        &World::new().robot_hit(),
        &in_queue(),
        send("m2", "还要等多久"),
        Ok(vec![customer("m2", "还要等多久")]),
    );
}

#[test]
fn transfer_while_queued_or_with_a_human_is_refused() {
    check(
        &World::new(),
        &in_queue(),
        Command::RequestTransfer,
        Err(Rejection::WrongPhase {
            phase: Phase::Queued,
        }),
    );
    check(
        &World::new(),
        &in_human(),
        Command::RequestTransfer,
        Err(Rejection::WrongPhase {
            phase: Phase::Human,
        }),
    );
}

#[test]
fn the_router_assigns_a_queued_conversation() {
    let command = Command::AssignAgent {
        agent_id: "a1".into(),
        agent_name: "小王".into(),
    };
    check(
        &World::new(),
        &in_queue(),
        command.clone(),
        Ok(vec![assigned()]),
    );
    check(
        &World::new(),
        &[started()],
        command.clone(),
        Err(Rejection::WrongPhase {
            phase: Phase::Robot,
        }),
    );
    check(
        &World::new(),
        &in_human(),
        command,
        Err(Rejection::WrongPhase {
            phase: Phase::Human,
        }),
    );
}

// --- human ---

#[test]
fn messages_flow_both_ways_with_a_human() {
    check(
        &World::new().robot_hit(),
        &in_human(),
        send("m2", "退款多久到账"),
        Ok(vec![customer("m2", "退款多久到账")]),
    );
    let command = Command::AgentMessage {
        agent_id: "a1".into(),
        client_msg_id: "x1".into(),
        text: "您好".into(),
    };
    check(
        &World::new(),
        &in_human(),
        command,
        Ok(vec![agent_says("x1", "您好")]),
    );
}

#[test]
fn transfer_keywords_are_plain_messages_with_a_human() {
    check(
        &World::new(),
        &in_human(),
        send("m2", "人工客服在吗"),
        Ok(vec![customer("m2", "人工客服在吗")]),
    );
}

#[test]
fn only_the_assigned_agent_may_speak_end_or_transfer() {
    let other = "a2".to_owned();
    let world = World::new();
    let send_as_other = Command::AgentMessage {
        agent_id: other.clone(),
        client_msg_id: "x1".into(),
        text: "hi".into(),
    };
    check(
        &world,
        &in_human(),
        send_as_other.clone(),
        Err(Rejection::NotAssignedAgent),
    );
    check(
        &world,
        &in_queue(),
        send_as_other,
        Err(Rejection::NotAssignedAgent),
    );
    check(
        &world,
        &in_human(),
        Command::EndByAgent {
            agent_id: other.clone(),
        },
        Err(Rejection::NotAssignedAgent),
    );
    check(
        &world,
        &in_human(),
        Command::AgentOffline {
            agent_id: other.clone(),
        },
        Err(Rejection::NotAssignedAgent),
    );
    check(
        &world,
        &in_human(),
        Command::TransferToGroup {
            agent_id: other,
            group: "sales".into(),
        },
        Err(Rejection::NotAssignedAgent),
    );
}

#[test]
fn the_end_phrase_ends_the_human_session() {
    check(
        &World::new(),
        &in_human(),
        send("m2", "　结束会话 "),
        Ok(vec![
            customer("m2", "　结束会话 "),
            ended(EndedBy::Customer),
        ]),
    );
}

#[test]
fn the_end_phrase_inside_a_sentence_is_not_an_end() {
    check(
        &World::new(),
        &in_human(),
        send("m2", "我不想结束会话"),
        Ok(vec![customer("m2", "我不想结束会话")]),
    );
}

#[test]
fn the_end_phrase_also_leaves_the_queue_and_the_robot() {
    check(
        &World::new(),
        &in_queue(),
        send("m2", "结束会话"),
        Ok(vec![customer("m2", "结束会话"), ended(EndedBy::Customer)]),
    );
    check(
        &World::new().robot_hit(),
        &[started()],
        send("m1", "结束会话"),
        Ok(vec![customer("m1", "结束会话"), ended(EndedBy::Customer)]),
    );
}

#[test]
fn the_customer_may_end_from_the_widget() {
    check(
        &World::new(),
        &in_human(),
        Command::EndByCustomer,
        Ok(vec![ended(EndedBy::Customer)]),
    );
}

#[test]
fn the_agent_may_end() {
    check(
        &World::new(),
        &in_human(),
        Command::EndByAgent {
            agent_id: "a1".into(),
        },
        Ok(vec![ended(EndedBy::Agent {
            agent_id: "a1".into(),
        })]),
    );
}

#[test]
fn idle_timeout_ends_with_a_notice_when_due() {
    let world = World::new();
    let timeout = world.settings.idle_timeout_ms;
    // The last activity in `in_human()` is the assignment, one minute before NOW.
    let last_activity = NOW - MINUTE;
    check(
        &world.clone().at(last_activity + timeout - 1),
        &in_human(),
        Command::IdleTick,
        Ok(vec![]),
    );
    check(
        &world.clone().at(last_activity + timeout),
        &in_human(),
        Command::IdleTick,
        Ok(vec![
            EventBody::Notice {
                notice: NoticeKind::IdleTimeout,
                text: world.settings.idle_timeout_message.clone(),
            },
            ended(EndedBy::IdleTimeout),
        ]),
    );
}

#[test]
fn idle_timeout_counts_from_the_assignment_not_the_wait() {
    // The customer's last message was long before the agent took over.
    let world = World::new().at(NOW + 5 * MINUTE);
    check(&world, &in_human(), Command::IdleTick, Ok(vec![]));
}

#[test]
fn idle_timeout_does_not_apply_outside_human_or_when_disabled() {
    let late = World::new().at(NOW + 24 * 60 * MINUTE);
    check(&late, &[started()], Command::IdleTick, Ok(vec![]));
    check(&late, &in_queue(), Command::IdleTick, Ok(vec![]));
    let mut disabled = late.clone();
    disabled.settings.idle_timeout_ms = 0;
    check(&disabled, &in_human(), Command::IdleTick, Ok(vec![]));
}

#[test]
fn an_agent_going_offline_requeues_the_chat() {
    check(
        &World::new(),
        &in_human(),
        Command::AgentOffline {
            agent_id: "a1".into(),
        },
        Ok(vec![EventBody::Requeued {
            reason: RequeueReason::AgentOffline {
                agent_id: "a1".into(),
            },
        }]),
    );
}

#[test]
fn a_requeued_chat_can_be_assigned_again() {
    let mut given = in_human();
    given.push(EventBody::Requeued {
        reason: RequeueReason::AgentOffline {
            agent_id: "a1".into(),
        },
    });
    let command = Command::AssignAgent {
        agent_id: "a2".into(),
        agent_name: "小李".into(),
    };
    check(
        &World::new(),
        &given,
        command,
        Ok(vec![EventBody::AgentAssigned {
            agent_id: "a2".into(),
            agent_name: "小李".into(),
        }]),
    );
}

#[test]
fn an_agent_transfers_to_another_open_group() {
    let command = Command::TransferToGroup {
        agent_id: "a1".into(),
        group: "sales".into(),
    };
    // The caller passes the target group's settings; the event names it as customers do.
    let mut sales = World::new();
    sales.settings.group_display_name = "售前咨询".into();
    check(
        &sales,
        &in_human(),
        command.clone(),
        Ok(vec![EventBody::Requeued {
            reason: RequeueReason::TransferredToGroup {
                agent_id: "a1".into(),
                group: "sales".into(),
                group_display_name: "售前咨询".into(),
            },
        }]),
    );
    check(
        &World::new().closed(None),
        &in_human(),
        command.clone(),
        Err(Rejection::GroupClosed {
            group: "sales".into(),
        }),
    );
    check(
        &World::new().nobody_online(),
        &in_human(),
        command,
        Err(Rejection::NoAgentOnline {
            group: "sales".into(),
        }),
    );
    let same = Command::TransferToGroup {
        agent_id: "a1".into(),
        group: "support".into(),
    };
    check(
        &World::new(),
        &in_human(),
        same,
        Err(Rejection::SameGroup {
            group: "support".into(),
        }),
    );
}

// --- ended ---

#[test]
fn an_ended_conversation_accepts_nothing_more() {
    let mut given = in_human();
    given.push(ended(EndedBy::Customer));
    let world = World::new();
    for command in [
        send("m9", "还有一个问题"),
        Command::RequestTransfer,
        Command::AssignAgent {
            agent_id: "a1".into(),
            agent_name: "小王".into(),
        },
        Command::AgentMessage {
            agent_id: "a1".into(),
            client_msg_id: "x9".into(),
            text: "在吗".into(),
        },
        Command::EndByCustomer,
        Command::EndByAgent {
            agent_id: "a1".into(),
        },
        Command::AgentOffline {
            agent_id: "a1".into(),
        },
        Command::TransferToGroup {
            agent_id: "a1".into(),
            group: "sales".into(),
        },
    ] {
        check(&world, &given, command, Err(Rejection::ConversationEnded));
    }
    check(&world, &given, Command::IdleTick, Ok(vec![]));
}

// --- idempotency and limits ---

#[test]
fn a_duplicate_customer_message_returns_the_original_seq() {
    let given = [started(), customer("m1", "你好")];
    check(
        &World::new(),
        &given,
        send("m1", "你好"),
        Err(Rejection::Duplicate { seq: 2 }),
    );
}

#[test]
fn a_retried_end_phrase_is_a_duplicate_not_an_error() {
    let mut given = in_human();
    given.push(customer("m2", "结束会话"));
    given.push(ended(EndedBy::Customer));
    check(
        &World::new(),
        &given,
        send("m2", "结束会话"),
        Err(Rejection::Duplicate { seq: 6 }),
    );
}

#[test]
fn a_duplicate_agent_message_returns_the_original_seq() {
    let mut given = in_human();
    given.push(agent_says("x1", "您好"));
    let command = Command::AgentMessage {
        agent_id: "a1".into(),
        client_msg_id: "x1".into(),
        text: "您好".into(),
    };
    check(
        &World::new(),
        &given,
        command,
        Err(Rejection::Duplicate { seq: 6 }),
    );
}

#[test]
fn empty_and_oversized_messages_are_refused() {
    check(
        &World::new(),
        &[started()],
        send("m1", " \u{3000}\n"),
        Err(Rejection::EmptyMessage),
    );
    let long = "字".repeat(MAX_MESSAGE_CHARS + 1);
    check(
        &World::new(),
        &[started()],
        send("m1", &long),
        Err(Rejection::TooLong {
            max_chars: MAX_MESSAGE_CHARS,
        }),
    );
    check(
        &World::new(),
        &[started()],
        send("", "你好"),
        Err(Rejection::InvalidClientMessageId { max_chars: 128 }),
    );
}

#[test]
fn rejections_map_to_protocol_error_codes() {
    assert_eq!(
        Rejection::NotAssignedAgent.error_code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        Rejection::ConversationEnded.error_code(),
        ErrorCode::InvalidState
    );
    assert_eq!(
        Rejection::Duplicate { seq: 3 }.error_code(),
        ErrorCode::Duplicate
    );
    assert_eq!(
        Rejection::TooLong { max_chars: 1 }.error_code(),
        ErrorCode::TooLarge
    );
    assert_eq!(Rejection::EmptyMessage.error_code(), ErrorCode::BadFrame);
    assert_eq!(Rejection::NotStarted.error_code(), ErrorCode::NotFound);
}

// --- the reducer ---

#[test]
fn folding_tracks_phase_agent_group_and_ids() {
    let mut log: Vec<Event> = in_human()
        .into_iter()
        .enumerate()
        .map(|(index, body)| Event {
            seq: index as u64 + 1,
            at: index as i64,
            body,
        })
        .collect();
    let state = fold(&log);
    assert_eq!(state.phase, Phase::Human);
    assert_eq!(state.agent_id(), Some("a1"));
    assert_eq!(state.last_seq, 5);
    assert_eq!(state.customer_client_msg_ids.get("m1"), Some(&2));
    log.push(Event {
        seq: 6,
        at: 6,
        body: EventBody::Requeued {
            reason: RequeueReason::TransferredToGroup {
                agent_id: "a1".into(),
                group: "sales".into(),
                group_display_name: "售前咨询".into(),
            },
        },
    });
    let state = fold(&log);
    assert_eq!(
        (state.phase, state.group.as_str(), state.agent_id()),
        (Phase::Queued, "sales", None)
    );
}

#[test]
fn applying_an_event_twice_is_a_no_op() {
    let log: Vec<Event> = in_human()
        .into_iter()
        .enumerate()
        .map(|(index, body)| Event {
            seq: index as u64 + 1,
            at: index as i64,
            body,
        })
        .collect();
    let twice: Vec<Event> = log
        .iter()
        .flat_map(|event| [event.clone(), event.clone()])
        .collect();
    assert_eq!(fold(&log), fold(&twice));
}

#[test]
fn a_queued_chat_whose_visitor_left_ends_and_nothing_else_does() {
    let world = World::new();
    check(
        &world,
        &in_queue(),
        Command::VisitorLeftQueue,
        Ok(vec![ended(EndedBy::IdleTimeout)]),
    );
    check(
        &world,
        &[started()],
        Command::VisitorLeftQueue,
        Err(Rejection::WrongPhase {
            phase: Phase::Robot,
        }),
    );
    check(
        &world,
        &in_human(),
        Command::VisitorLeftQueue,
        Err(Rejection::WrongPhase {
            phase: Phase::Human,
        }),
    );
}
