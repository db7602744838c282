//! 操作日志: the audit log — who changed which setting, when, and what changed.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::admin::api::{self, AuditEntry};
use crate::admin::{describe_action, describe_change_line, texts};

/// The `agent_login` of changes made with the `kefu` command line (the server's
/// `store::CLI_ACTOR`): not a login anyone can have, since it has spaces.
pub const CLI_ACTOR: &str = "kefu command line";
use crate::i18n::Lang;

/// A unix-ms instant as the browser's local date and time, `YYYY-MM-DD HH:MM`.
pub fn local_time(at: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

#[component]
pub fn AuditPage(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let t = move || texts(lang);
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    spawn_local(async move {
        if let Ok(list) = api::audit(&token).await {
            entries.set(list);
        }
    });
    view! {
        <section class="kefu-admin-page" aria-labelledby="kefu-admin-audit">
            <h2 id="kefu-admin-audit">{move || t().page_audit}</h2>
            <Show when=move || entries.with(Vec::is_empty)>
                <p class="kefu-empty">{move || t().no_changes}</p>
            </Show>
            <table class="kefu-audit-table">
                <thead><tr>
                    <th scope="col">{move || t().when}</th><th scope="col">{move || t().who}</th>
                    <th scope="col">{move || t().what}</th><th scope="col">{move || t().change}</th>
                </tr></thead>
                <tbody>
                    {move || entries.get().into_iter().map(|entry| {
                        let t = t();
                        let who = if entry.agent_login == CLI_ACTOR { t.command_line.to_owned() } else { entry.agent_login.clone() };
                        let change = entry
                            .summary
                            .lines()
                            .map(|line| describe_change_line(&entry.action, line, t))
                            .collect::<Vec<_>>()
                            .join("\n");
                        view! {
                            <tr>
                                <td>{local_time(entry.at)}</td>
                                <td>{who}</td>
                                <td>{describe_action(&entry.action, t)}</td>
                                <td><pre class="kefu-text">{change}</pre></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
