//! The agent bundle (`kefu-agent`): the agent workspace at `/agent`. Same crate, same core
//! and components as the customer bundle, built as a second binary so that each side
//! downloads only its own code.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(kefu_widget::agent::workspace::AgentApp);
}
