//! 客服: agents — add, disable, reset a password, the maximum of concurrent chats
//! (在线最大接单人数) and the skill groups each takes chats from.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::admin::api::{self, AgentView};
use crate::admin::{CheckField, Problems, SaveBar, TextField, texts};
use crate::i18n::{Lang, fill};

#[component]
pub fn AgentsPage(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let t = move || texts(lang);
    let agents = RwSignal::new(Vec::<AgentView>::new());
    let groups = RwSignal::new(Vec::<String>::new());
    let problems: Problems = RwSignal::new(Vec::new());
    let load = {
        let token = token.clone();
        move || {
            let token = token.clone();
            spawn_local(async move {
                match (api::agents(&token).await, api::config(&token).await) {
                    (Ok(list), Ok(config)) => {
                        groups.set(
                            config
                                .skill_groups
                                .into_iter()
                                .map(|group| group.name)
                                .collect(),
                        );
                        agents.set(list);
                    }
                    (Err(error), _) | (_, Err(error)) => problems.set(error.problems()),
                }
            });
        }
    };
    load();
    view! {
        <section class="kefu-admin-page" aria-labelledby="kefu-admin-agents">
            <h2 id="kefu-admin-agents">{move || t().page_agents}</h2>
            <For each=move || agents.get() key=|agent| format!("{agent:?}") children={
                let token = token.clone();
                move |agent| view! { <AgentRow lang agent groups token=token.clone()/> }
            }/>
            <NewAgentForm lang token=token.clone() on_added=Callback::new(move |()| load())/>
        </section>
    }
}

/// One agent: capacity, groups, enabled, and a password reset.
#[component]
pub fn AgentRow(
    lang: RwSignal<Lang>,
    agent: AgentView,
    groups: RwSignal<Vec<String>>,
    token: String,
) -> impl IntoView {
    let t = move || texts(lang);
    let problems: Problems = RwSignal::new(Vec::new());
    let saved = RwSignal::new(false);
    let max_chats = RwSignal::new(agent.max_chats.to_string());
    let chosen = RwSignal::new(agent.groups.clone());
    let disabled = RwSignal::new(agent.disabled);
    let new_password = RwSignal::new(None::<String>);
    let name = agent.display_name.clone();
    let who = format!("{} ({})", agent.display_name, agent.login);
    let login = agent.login.clone();
    let on_save = {
        let (token, login) = (token.clone(), login.clone());
        Callback::new(move |()| {
            let (token, login) = (token.clone(), login.clone());
            let change = serde_json::json!({
                "max_chats": max_chats.get_untracked().trim().parse::<u32>().unwrap_or(0),
                "groups": chosen.get_untracked(),
                "disabled": disabled.get_untracked(),
            });
            saved.set(false);
            spawn_local(async move {
                match api::update_agent(&token, &login, &change).await {
                    Ok(_) => {
                        problems.set(Vec::new());
                        saved.set(true);
                    }
                    Err(error) => problems.set(error.problems()),
                }
            });
        })
    };
    let reset = move |_| {
        let (token, login) = (token.clone(), login.clone());
        spawn_local(async move {
            match api::reset_password(&token, &login).await {
                Ok(password) => new_password.set(Some(password)),
                Err(error) => problems.set(error.problems()),
            }
        });
    };
    let role = if agent.is_admin {
        t().role_admin
    } else {
        t().role_agent
    };
    let (who_max, who_groups, who_disabled, who_reset, who_save) = (
        who.clone(),
        who.clone(),
        who.clone(),
        who.clone(),
        who.clone(),
    );
    view! {
        <fieldset class="kefu-agent-row">
            <legend>{who.clone()}" · "{role}</legend>
            <TextField label=Signal::derive(move || fill(t().max_chats_of, "name", &who_max)) kind="number" value=agent.max_chats.to_string()
                problems path="max_concurrent_chats" on_input=Callback::new(move |value: String| max_chats.set(value))/>
            <div role="group" class="kefu-members" aria-label=move || fill(t().groups_of, "name", &who_groups)>
                <span>{move || fill(t().groups_of, "name", &name)}</span>
                {move || groups.get().into_iter().map(|group| {
                    let checked = chosen.with_untracked(|chosen| chosen.contains(&group));
                    let label = group.clone();
                    view! {
                        <CheckField label=Signal::derive(move || label.clone()) checked on_change=Callback::new(move |on: bool| chosen.update(|chosen| {
                            chosen.retain(|each| *each != group);
                            if on { chosen.push(group.clone()); }
                        }))/>
                    }
                }).collect_view()}
            </div>
            <CheckField label=Signal::derive(move || fill(t().disable_agent, "name", &who_disabled)) checked=agent.disabled
                on_change=Callback::new(move |on: bool| disabled.set(on))/>
            <button type="button" on:click=reset>{move || fill(t().reset_password, "name", &who_reset)}</button>
            {move || new_password.get().map(|password| view! {
                <p role="status">{move || t().new_password}" "<code>{password.clone()}</code></p>
            })}
            <SaveBar lang problems saved on_save label=Signal::derive(move || fill(t().save_agent, "name", &who_save))/>
        </fieldset>
    }
}

/// Adds an agent; the password is generated and shown once when left empty.
#[component]
pub fn NewAgentForm(lang: RwSignal<Lang>, token: String, on_added: Callback<()>) -> impl IntoView {
    let t = move || texts(lang);
    let problems: Problems = RwSignal::new(Vec::new());
    let saved = RwSignal::new(false);
    let login = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let max_chats = RwSignal::new("5".to_owned());
    let is_admin = RwSignal::new(false);
    let generated = RwSignal::new(None::<String>);
    let redraw = RwSignal::new(0u32);
    let on_save = Callback::new(move |()| {
        let token = token.clone();
        let password_value = password.get_untracked();
        let body = serde_json::json!({
            "login": login.get_untracked(),
            "display_name": name.get_untracked(),
            "password": (!password_value.is_empty()).then_some(password_value),
            "max_chats": max_chats.get_untracked().trim().parse::<u32>().unwrap_or(0),
            "is_admin": is_admin.get_untracked(),
        });
        saved.set(false);
        spawn_local(async move {
            match api::add_agent(&token, &body).await {
                Ok(answer) => {
                    problems.set(Vec::new());
                    saved.set(true);
                    generated.set(answer["password"].as_str().map(str::to_owned));
                    login.set(String::new());
                    name.set(String::new());
                    password.set(String::new());
                    redraw.update(|count| *count += 1);
                    on_added.run(());
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    });
    view! {
        <fieldset class="kefu-new-agent">
            <legend>{move || t().add_agent}</legend>
            {move || {
                redraw.get();
                view! {
                    <TextField label=Signal::derive(move || t().login.to_owned()) value=String::new() problems path="login"
                        on_input=Callback::new(move |value: String| login.set(value))/>
                    <TextField label=Signal::derive(move || t().agent_name.to_owned()) value=String::new() problems path="display_name"
                        on_input=Callback::new(move |value: String| name.set(value))/>
                    <TextField label=Signal::derive(move || t().initial_password.to_owned()) kind="password" value=String::new() problems path="password"
                        on_input=Callback::new(move |value: String| password.set(value))/>
                    <TextField label=Signal::derive(move || t().max_chats.to_owned()) kind="number" value="5" problems path="max_concurrent_chats"
                        on_input=Callback::new(move |value: String| max_chats.set(value))/>
                    <CheckField label=Signal::derive(move || t().role_admin.to_owned()) checked=false on_change=Callback::new(move |on: bool| is_admin.set(on))/>
                }
            }}
            {move || generated.get().map(|password| view! {
                <p role="status">{move || t().new_password}" "<code>{password.clone()}</code></p>
            })}
            <SaveBar lang problems saved on_save label=Signal::derive(move || t().add_agent.to_owned())/>
        </fieldset>
    }
}
