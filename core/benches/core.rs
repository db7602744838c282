//! Micro-benchmarks of the hot paths every message goes through: folding a log, deciding a
//! customer message, and asking the robot. `cargo bench -p kefu-core`.

use criterion::{Criterion, criterion_group, criterion_main};
use kefu_core::config::Config;
use kefu_core::conversation::{self, Availability, Command, Ctx, Event, EventBody, State};
use kefu_core::robot::KnowledgeIndex;
use std::hint::black_box;

/// A human conversation of `messages` exchanges, as the server would have stored it.
fn log(messages: usize) -> Vec<Event> {
    let mut bodies = vec![
        EventBody::Started {
            conversation_id: "c".into(),
            visitor_id: "v".into(),
            group: "support".into(),
        },
        EventBody::Queued {
            group: "support".into(),
        },
        EventBody::AgentAssigned {
            agent_id: "a".into(),
            agent_name: "小美".into(),
        },
    ];
    for index in 0..messages {
        bodies.push(EventBody::CustomerMessage {
            client_msg_id: format!("m{index}"),
            text: "请问我的订单什么时候发货？".into(),
        });
        bodies.push(EventBody::AgentMessage {
            agent_id: "a".into(),
            client_msg_id: format!("r{index}"),
            text: "您好，预计明天发货。".into(),
        });
    }
    bodies
        .into_iter()
        .zip(1..)
        .map(|(body, seq)| Event {
            seq,
            at: seq as i64,
            body,
        })
        .collect()
}

fn benchmarks(criterion: &mut Criterion) {
    let events = log(500);
    criterion.bench_function("fold a 1,003-event log", |bench| {
        bench.iter(|| conversation::fold(black_box(&events)))
    });

    let state: State = conversation::fold(&events);
    let config = Config::demo();
    let settings = config
        .conversation_settings("support")
        .expect("the demo has the support group");
    let ctx = Ctx {
        now: 10_000,
        settings: &settings,
        availability: Availability {
            open: true,
            next_opening: None,
            agents_online: 1,
            free_capacity: 1,
        },
        robot: None,
    };
    let command = Command::CustomerMessage {
        client_msg_id: "new".into(),
        text: "好的，谢谢".into(),
    };
    criterion.bench_function("decide a customer message in Human", |bench| {
        bench.iter(|| conversation::decide(black_box(&state), black_box(&command), black_box(&ctx)))
    });

    let index = KnowledgeIndex::new(&config.knowledge);
    criterion.bench_function("robot: ask a paraphrase (demo knowledge base)", |bench| {
        bench.iter(|| index.ask(black_box("密码忘了咋办，登录不上")))
    });
    criterion.bench_function("robot: ask an unrelated question", |bench| {
        bench.iter(|| index.ask(black_box("今天天气怎么样")))
    });
}

criterion_group!(core, benchmarks);
criterion_main!(core);
