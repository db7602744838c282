//! The history checker of Kefu (issue 10): many customers and agents against a real `kefu`
//! process over the real WebSocket protocol, under faults, and a check that nothing
//! acknowledged is lost or duplicated. See RELIABILITY.md at the repository root.
//!
//! - [`driver`]: the clients, the schedule of faults, the final reads; records a history.
//! - [`faults`]: `kill -9` and restart of the server, the database's disk filled and freed.
//! - [`checker`]: the pure verdict on a recorded history.
//! - [`client`]: the protocol wire (kefu-core's frames over tokio-tungstenite).
//! - [`rng`]: the seeded generator behind every random choice (`KEFU_SEED` replays).

pub mod checker;
pub mod client;
pub mod driver;
pub mod faults;
pub mod rng;
