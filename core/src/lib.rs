//! `kefu-core`: every business rule of Kefu, once, as pure functions.
//!
//! The widget (wasm32, in the visitor's browser), the agent workspace, the in-browser demo
//! backend and the server (native) all link this crate and call the same code, so they
//! cannot disagree about what a conversation looks like or what a customer may do.
//!
//! # Architecture invariant
//! **`kefu-core` does no I/O, reads no clock and draws no random numbers.** Time arrives as
//! unix milliseconds (`i64`), ids arrive as strings, the robot's index is built from the
//! items it is given. It knows nothing about sockets, databases, Leptos, axum or tokio.
//! That is what makes every rule testable as given/when/then data, and what lets the same
//! code run in a browser.
//!
//! # Layout
//! * [`protocol`] — the WebSocket frames of protocol v1 (customer, agent, server), their
//!   JSON encoding, size limits and error codes. `PROTOCOL.md` documents it for humans.
//! * [`conversation`] — a conversation as an append-only log of [`conversation::Event`]s:
//!   the reducer (`apply`/`fold`) and the decider (`decide(state, command, ctx)`) that holds
//!   the state machine `Robot → Queued → Human → Ended`.
//! * [`routing`] — which online agent of a skill group takes the next queued conversation,
//!   and queue positions.
//! * [`config`] — the configuration model (skill groups, service rules, service mode, robot
//!   settings, agents, knowledge, canned phrases) and its validation.
//! * [`hours`] — working hours in IANA zones: open at an instant, next opening.
//! * [`robot`] — the knowledge robot: an inverted index with BM25-style confidence over
//!   Chinese character n-grams and English words.
//! * [`presence`] — typing indicators (when to send, when to forget) and what counts as a
//!   new visit.
//! * [`useragent`] — a short "browser · system" label from a `User-Agent` header.
//! * [`text`] — the text folding (full-width, case, spaces) every comparison shares.
//!
//! # Key decisions
//! * The backend orders events (per-conversation `seq`) and validates every transition with
//!   [`conversation::decide`]; clients fold the events they receive with the same reducer.
//! * `decide` never looks anything up: the caller computes the availability of the skill
//!   group and the robot's answer first and passes them in [`conversation::Ctx`].
//! * Duplicates are answered, not repeated: a client message id already in the log yields
//!   [`conversation::Rejection::Duplicate`] with the original `seq` so the server re-acks.

pub mod config;
pub mod conversation;
pub mod feedback;
pub mod hours;
pub mod presence;
pub mod protocol;
pub mod robot;
pub mod routing;
pub mod text;
pub mod useragent;
