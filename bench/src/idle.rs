//! Memory per idle connection, as the *slope* of the server's resident memory between two
//! counts of idle connections (by default 1,000 and 10,000), for Kefu and for the bare relay
//! in the same run. One RSS difference divided by N (what this suite did before) mixes the
//! per-connection cost with whatever the allocator and the runtime reserve once (thread
//! stacks, arenas, the first pages of each map): at small N that overhead dominates, so the
//! figure swung from 1 KiB to 140 KiB depending on N. The slope cancels the fixed part.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::load::{self, Socket, Target};

/// What one server measured.
pub struct Slope {
    pub low: usize,
    pub high: usize,
    pub rss_low: u64,
    pub rss_high: u64,
}

impl Slope {
    /// Bytes per connection between the two counts.
    pub fn bytes_per_connection(&self) -> f64 {
        (self.rss_high as f64 - self.rss_low as f64) / (self.high - self.low) as f64
    }
}

/// How many connections are opened at once (each a hello and its welcome against Kefu).
const BATCH: usize = 200;

/// Opens `low` idle connections, reads the RSS, opens more up to `high`, reads it again.
pub async fn measure(target: &Target, low: usize, high: usize, server_pid: u32) -> Result<Slope> {
    let mut sockets: Vec<Socket> = Vec::with_capacity(high);
    open(target, &mut sockets, low).await?;
    let rss_low = settled_rss(server_pid).await?;
    open(target, &mut sockets, high).await?;
    let rss_high = settled_rss(server_pid).await?;
    drop(sockets);
    Ok(Slope {
        low,
        high,
        rss_low,
        rss_high,
    })
}

async fn open(target: &Target, sockets: &mut Vec<Socket>, until: usize) -> Result<()> {
    while sockets.len() < until {
        let first = sockets.len();
        let count = BATCH.min(until - first);
        let mut batch = Vec::with_capacity(count);
        for index in first..first + count {
            let target = target.clone();
            batch.push(tokio::spawn(async move {
                load::connect_idle(&target, 1_000_000 + index as u64)
                    .await
                    .with_context(|| format!("idle connection {index}"))
            }));
        }
        for socket in batch {
            sockets.push(socket.await??);
        }
    }
    Ok(())
}

/// The server's RSS once it has stopped changing (the last connections' tasks have run
/// their first steps): read every 200 ms until two readings agree within 64 KiB, at most 5 s.
async fn settled_rss(pid: u32) -> Result<u64> {
    let mut last = load::rss_bytes(pid)?;
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = load::rss_bytes(pid)?;
        if now.abs_diff(last) < 64 * 1024 {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

/// The Markdown section for both servers.
pub fn section(command: &str, kefu: &Slope, relay: &Slope) -> Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "### Memory per idle connection (slope of RSS between {} and {} idle)\n\n\
         Run: `{command}`\n\n\
         | server | RSS at {} | RSS at {} | per idle connection |\n|---|---:|---:|---:|",
        kefu.low, kefu.high, kefu.low, kefu.high
    )?;
    for (name, slope) in [("kefu", kefu), ("relay", relay)] {
        writeln!(
            out,
            "| {name} | {:.1} MiB | {:.1} MiB | {:.1} KiB |",
            slope.rss_low as f64 / 1048576.0,
            slope.rss_high as f64 / 1048576.0,
            slope.bytes_per_connection() / 1024.0
        )?;
    }
    writeln!(
        out,
        "| **kefu ÷ relay** | | | {:.2}× |\n",
        kefu.bytes_per_connection() / relay.bytes_per_connection()
    )?;
    Ok(out)
}
