//! 操作日志: the audit log — who changed which setting, when, and what changed.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::admin::api::{self, AuditEntry};
use crate::admin::texts;
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
                    {move || entries.get().into_iter().map(|entry| view! {
                        <tr>
                            <td>{local_time(entry.at)}</td>
                            <td>{entry.agent_login.clone()}</td>
                            <td>{entry.action.clone()}</td>
                            <td><pre class="kefu-text">{entry.summary.clone()}</pre></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
