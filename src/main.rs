//! Entry point of the Kefu widget bundle: it only mounts the app (see `lib.rs`).

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(kefu_widget::App);
}
