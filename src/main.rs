//! The customer bundle (`kefu-widget`): the chat panel inside the iframe that `embed.js`
//! opens. It links only the customer side of the crate, so visitors never download the
//! agent workspace (that is `src/bin/kefu-agent.rs`).

use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(|| view! { <kefu_widget::customer::panel::CustomerPanel/> });
}
