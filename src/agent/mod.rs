//! Agent mode: the agent workspace at `/agent`, from the same bundle as the customer panel.

pub mod alerts;
pub mod api;
pub mod assist;
pub mod session;
pub mod workspace;
