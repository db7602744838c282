//! Customer mode: the chat panel inside the iframe that `embed.js` opens on the host page.

pub mod backend;
pub mod host;
pub mod panel;
pub mod session;
