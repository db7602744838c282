//! The agent workspace under a heavy load: one agent with 50 chats at once (capacity
//! raised), measured in headless Chromium from input to the next painted frame while the
//! agent types a reply and switches between chats.
//!
//! Input-to-paint is measured in the page: a capture listener takes the event's own time
//! stamp (when the input happened), then waits for the next animation frame and the task
//! after it, which runs once that frame is painted.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::SinkExt;
use kefu_core::conversation::EventBody;
use kefu_core::protocol::{self, CustomerFrame, ServerFrame};
use kefu_e2e::{Agent, KefuServer, ServerOptions};
use tokio_tungstenite::tungstenite::Message;

const CHATS: usize = 50;

/// Runs the measurement and returns the Markdown section.
pub fn measure(kefu: &Path, assets: &Path, quick: bool) -> Result<String> {
    // SAFETY: set before any other thread of this process reads the environment.
    unsafe {
        std::env::set_var("KEFU_BIN", kefu);
        std::env::set_var("KEFU_ASSETS", assets);
    }
    let chats = if quick { 5 } else { CHATS };
    let server =
        KefuServer::start_with(ServerOptions::default().file("kefu.toml", crate::BENCH_SETTINGS));
    let agent = Agent::online(&server, "busy", "Busy Agent", chats as u32);
    let addr = server.base_url().trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Runtime::new()?;
    // The customers stay connected (and their chats open) while the agent works.
    let _customers = runtime.block_on(park_customers(&addr, chats))?;
    agent.browser.wait_until(
        "every chat is in the list",
        &format!("return document.querySelectorAll('.kefu-conversation-item').length >= {chats};"),
    );
    agent.browser.execute(
        "window.__kefuLatency = { keydown: [], click: [] };
         for (const type of ['keydown', 'click']) {
           addEventListener(type, event => {
             const input = event.timeStamp;
             requestAnimationFrame(() => setTimeout(() => window.__kefuLatency[type].push(performance.now() - input)));
           }, { capture: true });
         }
         return 1;",
        &[],
    );
    // Switch through the chats by clicking them in the list, as an agent does.
    let switches = if quick { 5 } else { 30 };
    for index in 0..switches {
        agent.browser.execute(
            "const items = document.querySelectorAll('.kefu-conversation-item'); items[arguments[0] % items.length].click(); return 1;",
            &[serde_json::json!(index)],
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Type a reply character by character (each a real keydown through WebDriver).
    let composer = agent.browser.find_by_role("textbox", "Reply");
    let typed = if quick {
        "您好".to_owned()
    } else {
        "您好，我查了一下您的订单，预计明天发货，请留意短信通知。".repeat(2)
    };
    for character in typed.chars() {
        composer.type_text(&character.to_string());
    }
    std::thread::sleep(Duration::from_millis(300));
    let samples = agent.browser.execute("return window.__kefuLatency;", &[]);
    let summary = |name: &str| -> Result<(usize, f64, f64, f64)> {
        let mut values: Vec<f64> = samples[name]
            .as_array()
            .context("no samples")?
            .iter()
            .filter_map(|value| value.as_f64())
            .collect();
        if values.is_empty() {
            bail!("no {name} samples");
        }
        values.sort_by(f64::total_cmp);
        let at = |fraction: f64| values[((values.len() - 1) as f64 * fraction).round() as usize];
        Ok((values.len(), at(0.5), at(0.95), values[values.len() - 1]))
    };
    let mut section = String::new();
    writeln!(
        section,
        "### Agent workspace with {chats} chats (headless Chromium, input to next paint)\n"
    )?;
    writeln!(
        section,
        "| action | samples | median | p95 | max |\n|---|---:|---:|---:|---:|"
    )?;
    let (count, median, p95, max) = summary("click")?;
    writeln!(
        section,
        "| switch chat (click in the list) | {count} | {median:.1} ms | {p95:.1} ms | {max:.1} ms |"
    )?;
    let (count, median, p95, max) = summary("keydown")?;
    writeln!(
        section,
        "| type in the reply box | {count} | {median:.1} ms | {p95:.1} ms | {max:.1} ms |\n"
    )?;
    Ok(section)
}

/// Customers who asked for a person and said a few things, assigned to the one agent.
async fn park_customers(addr: &str, count: usize) -> Result<Vec<crate::load::Socket>> {
    let mut customers = Vec::with_capacity(count);
    for index in 0..count {
        let mut socket = crate::load::connect(&format!("ws://{addr}/ws/customer")).await?;
        let hello = CustomerFrame::Hello {
            visitor_token: None,
            resume: vec![],
            locale: Some("zh-CN".into()),
            group: None,
            page: None,
            user: None,
        };
        socket
            .send(Message::text(protocol::encode_customer_frame(&hello)))
            .await?;
        for (number, text) in [
            "转人工",
            "我的订单还没到",
            "订单号是 2026112500123",
            "麻烦帮我查一下",
        ]
        .into_iter()
        .enumerate()
        {
            let frame = CustomerFrame::Send {
                client_msg_id: format!("c{index}-{number}"),
                text: text.into(),
            };
            socket
                .send(Message::text(protocol::encode_customer_frame(&frame)))
                .await?;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if Instant::now() > deadline {
                bail!("customer {index} was not assigned");
            }
            let text = crate::load::next_text(&mut socket).await?;
            if let Ok(ServerFrame::Event { event, .. }) = protocol::decode_server_frame(&text)
                && matches!(event.body, EventBody::AgentAssigned { .. })
            {
                break;
            }
        }
        customers.push(socket);
    }
    Ok(customers)
}
