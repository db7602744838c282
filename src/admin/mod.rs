//! Admin mode: the settings area of the agent workspace, shown to agents with the admin role
//! only (the login answer says `role: "admin"`; the server's admin API refuses everyone else
//! with `403` whatever the page shows). One module per page; [`api`] is the HTTP client.
//!
//! Every page loads what it edits, sends a whole section on Save, and shows kefu-core's
//! problems next to the field whose path they name ([`FieldError`]), with a list of all of
//! them by the Save button ([`SaveBar`]); nothing is saved while a problem remains.

pub mod agents;
pub mod api;
pub mod audit;
pub mod groups;
pub mod knowledge;
pub mod mode;
pub mod rules;
pub mod widget;

use leptos::prelude::*;

use crate::admin::api::Problem;
use crate::i18n::{AdminTexts, Lang};
use crate::storage;

/// sessionStorage key of the logged-in agent's role (`admin` or `agent`).
pub const ROLE_KEY: &str = "kefu.agent_role";

/// Whether the logged-in agent is an admin, as the login answer said.
pub fn is_admin() -> bool {
    storage::get_session(ROLE_KEY).as_deref() == Some("admin")
}

/// The problems of the last refused Save of a page.
pub type Problems = RwSignal<Vec<Problem>>;

/// What is wrong, in `lang`: the problem's kind said for people, or the sentence of the
/// failed call's code; the server's (English) message only for what neither knows.
pub fn problem_text(problem: &Problem, lang: Lang) -> String {
    if let Some(kind) = &problem.kind {
        return crate::i18n::describe_problem_kind(kind, lang);
    }
    problem
        .code
        .as_deref()
        .and_then(|code| crate::i18n::describe_admin_error(code, lang))
        .map_or_else(|| problem.message.clone(), str::to_owned)
}

/// The problems at exactly `path`, in `lang`.
pub fn problem_at(problems: &[Problem], path: &str, lang: Lang) -> Option<String> {
    let messages: Vec<String> = problems
        .iter()
        .filter(|problem| problem.path == path)
        .map(|problem| problem_text(problem, lang))
        .collect();
    (!messages.is_empty()).then(|| messages.join(if lang == Lang::Zh { "；" } else { "; " }))
}

/// A path of the configuration as a person reads it, in the page's language:
/// `rules[0].working_hours.weekly[1].from` → "规则 1 · 上班时间 · 时段 2 · 开始时间". Field
/// names without a translation are kept as they are; an index counts from 1.
pub fn describe_path(path: &str, t: &AdminTexts) -> String {
    let name = |key: &str| {
        t.path_names
            .iter()
            .find(|(each, _)| *each == key)
            .map_or_else(|| key.to_owned(), |(_, name)| (*name).to_owned())
    };
    path.split('.')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.split_once('[') {
            Some((key, rest)) => {
                let index = rest.trim_end_matches(']').parse::<usize>().map_or_else(
                    |_| rest.trim_end_matches(']').to_owned(),
                    |i| (i + 1).to_string(),
                );
                format!("{} {index}", name(key)).trim().to_owned()
            }
            None => name(segment),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// An audit log action ("config.rules", "agent.update mei") as people say it.
pub fn describe_action(action: &str, t: &AdminTexts) -> String {
    let (verb, object) = action.split_once(' ').unwrap_or((action, ""));
    match t.actions.iter().find(|(each, _)| *each == verb) {
        Some((_, said)) if object.is_empty() => (*said).to_owned(),
        Some((_, said)) => format!("{said} {object}"),
        None => action.to_owned(),
    }
}

/// One line of an audit summary ("[0].working_hours.weekly[0].from: \"09:00\" → \"10:00\""),
/// its path described, for an entry of `action`.
pub fn describe_change_line(action: &str, line: &str, t: &AdminTexts) -> String {
    let section = action
        .strip_prefix("config.")
        .map(|section| section.split(' ').next().unwrap_or(section));
    match line.split_once(": ") {
        Some((path, change)) if !path.contains(' ') => {
            let full = match section {
                // "more: N" counts the changes past the eighth, of any section.
                _ if path == "more" => path.to_owned(),
                Some(section) if path.starts_with('[') => format!("{section}{path}"),
                // The fields of these read well without the section's name.
                Some("service" | "widget") | None => path.to_owned(),
                Some(section) => format!("{section}.{path}"),
            };
            let change = change
                .split(" → ")
                .map(|value| match value {
                    "true" => t.value_true,
                    "false" => t.value_false,
                    value => value,
                })
                .collect::<Vec<_>>()
                .join(" → ");
            format!("{}: {change}", describe_path(&full, t))
        }
        _ => line.to_owned(),
    }
}

/// The admin strings of the current language.
pub fn texts(lang: RwSignal<Lang>) -> &'static AdminTexts {
    lang.get().admin()
}

/// The problem of one field, shown right under it.
#[component]
pub fn FieldError(
    /// The page's language; by default the one [`AdminArea`] provides (English without it).
    #[prop(optional)]
    lang: Option<RwSignal<Lang>>,
    problems: Problems,
    #[prop(into)] path: String,
) -> impl IntoView {
    let lang = lang.or_else(use_context::<RwSignal<Lang>>);
    let message = move || {
        let lang = lang.map_or(Lang::En, |lang| lang.get());
        problems.with(|problems| problem_at(problems, &path, lang))
    };
    view! {
        {move || message().map(|message| view! { <p class="kefu-field-error" role="alert">{message}</p> })}
    }
}

/// The Save button of a page, with what happened: saved, or every problem with its field.
#[component]
pub fn SaveBar(
    lang: RwSignal<Lang>,
    problems: Problems,
    saved: RwSignal<bool>,
    on_save: Callback<()>,
    /// The button's text when a page has several (e.g. "Save 小美 (mei)").
    #[prop(optional, into)]
    label: Option<Signal<String>>,
) -> impl IntoView {
    let t = move || texts(lang);
    let button_text = move || {
        label
            .map(|label| label.get())
            .unwrap_or_else(|| t().save.to_owned())
    };
    view! {
        <div class="kefu-save-bar">
            <button type="button" class="kefu-primary" on:click=move |_| on_save.run(())>{button_text}</button>
            <Show when=move || saved.get()>
                <span role="status">{move || t().saved}</span>
            </Show>
            <Show when=move || problems.with(|problems| !problems.is_empty())>
                <div class="kefu-problems" role="status">
                    <p>{move || t().not_saved}</p>
                    <ul>
                        {move || problems.get().into_iter().map(|problem| {
                            let colon = if lang.get() == Lang::Zh { "：" } else { ": " };
                            let place = match (problem.line, problem.path.is_empty()) {
                                (Some(line), _) => format!("{} {line}{colon}", t().line),
                                (None, false) => format!("{}{colon}", describe_path(&problem.path, t())),
                                (None, true) => String::new(),
                            };
                            let text = problem_text(&problem, lang.get());
                            view! { <li>{place}{text}</li> }
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
        </div>
    }
}

/// The pages of the settings area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Groups,
    Rules,
    Mode,
    Agents,
    Knowledge,
    Widget,
    Audit,
}

impl Page {
    pub const ALL: [Page; 7] = [
        Page::Groups,
        Page::Rules,
        Page::Mode,
        Page::Agents,
        Page::Knowledge,
        Page::Widget,
        Page::Audit,
    ];

    pub fn title(self, texts: &AdminTexts) -> &'static str {
        match self {
            Page::Groups => texts.page_groups,
            Page::Rules => texts.page_rules,
            Page::Mode => texts.page_mode,
            Page::Agents => texts.page_agents,
            Page::Knowledge => texts.page_knowledge,
            Page::Widget => texts.page_widget,
            Page::Audit => texts.page_audit,
        }
    }
}

/// The header button that opens the settings; nothing for agents who are not admins.
#[component]
pub fn AdminToggle(lang: RwSignal<Lang>, open: RwSignal<bool>) -> impl IntoView {
    is_admin().then(|| {
        view! {
            <button type="button" aria-pressed=move || open.get().to_string() on:click=move |_| open.update(|open| *open = !*open)>
                {move || if open.get() { texts(lang).back_to_workspace } else { texts(lang).admin_settings }}
            </button>
        }
    })
}

/// The settings area: a tab per page, the current page below.
#[component]
pub fn AdminArea(lang: RwSignal<Lang>, #[prop(into)] token: String) -> impl IntoView {
    // Every field's problem is said in the page's language (see [`FieldError`]).
    provide_context(lang);
    let page = RwSignal::new(Page::Groups);
    let t = move || texts(lang);
    view! {
        <main class="kefu-admin" aria-label=move || t().admin_settings>
            <nav class="kefu-admin-tabs" aria-label=move || t().admin_settings>
                {Page::ALL.into_iter().map(|each| view! {
                    <button type="button" aria-pressed=move || (page.get() == each).to_string() on:click=move |_| page.set(each)>
                        {move || each.title(t())}
                    </button>
                }).collect_view()}
            </nav>
            {move || {
                let token = token.clone();
                match page.get() {
                    Page::Groups => view! { <groups::GroupsPage lang token/> }.into_any(),
                    Page::Rules => view! { <rules::RulesPage lang token/> }.into_any(),
                    Page::Mode => view! { <mode::ModePage lang token/> }.into_any(),
                    Page::Agents => view! { <agents::AgentsPage lang token/> }.into_any(),
                    Page::Knowledge => view! { <knowledge::KnowledgePage lang token/> }.into_any(),
                    Page::Widget => view! { <widget::WidgetPage lang token/> }.into_any(),
                    Page::Audit => view! { <audit::AuditPage lang token/> }.into_any(),
                }
            }}
        </main>
    }
}

/// A labelled text field (or text area) whose input goes to `on_input`, with its problem
/// under it. `value` is the value it starts with; the page owns the data.
#[component]
pub fn TextField(
    #[prop(into)] label: Signal<String>,
    #[prop(into)] value: String,
    on_input: Callback<String>,
    problems: Problems,
    #[prop(into)] path: String,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] kind: Option<&'static str>,
) -> impl IntoView {
    let input = if multiline {
        view! { <textarea rows="3" prop:value=value on:input:target=move |event| on_input.run(event.target().value())></textarea> }.into_any()
    } else {
        view! { <input type=kind.unwrap_or("text") prop:value=value on:input:target=move |event| on_input.run(event.target().value())/> }.into_any()
    };
    view! {
        <div class="kefu-field">
            <label><span>{move || label.get()}</span>{input}</label>
            <FieldError problems path/>
        </div>
    }
}

/// A checkbox with its label.
#[component]
pub fn CheckField(
    #[prop(into)] label: Signal<String>,
    checked: bool,
    on_change: Callback<bool>,
) -> impl IntoView {
    view! {
        <label class="kefu-check">
            <input type="checkbox" prop:checked=checked on:change:target=move |event| on_change.run(event.target().checked())/>
            <span>{move || label.get()}</span>
        </label>
    }
}
