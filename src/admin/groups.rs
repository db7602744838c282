//! 技能组: skill groups — name, the name customers see (对外展示名称), the service rule, and
//! the members picked from the agents.

use leptos::prelude::*;
use leptos::task::spawn_local;

use kefu_core::config::SkillGroup;

use crate::admin::api;
use crate::admin::{CheckField, FieldError, Problems, SaveBar, TextField, texts};
use crate::i18n::{Lang, fill};

#[component]
pub fn GroupsPage(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let t = move || texts(lang);
    let groups = RwSignal::new(Vec::<SkillGroup>::new());
    let rules = RwSignal::new(Vec::<String>::new());
    let agents = RwSignal::new(Vec::<(String, String)>::new());
    let loaded = RwSignal::new(0u32);
    let problems: Problems = RwSignal::new(Vec::new());
    let saved = RwSignal::new(false);
    {
        let token = token.clone();
        spawn_local(async move {
            match (api::config(&token).await, api::agents(&token).await) {
                (Ok(config), Ok(list)) => {
                    rules.set(config.rules.iter().map(|rule| rule.name.clone()).collect());
                    agents.set(
                        list.into_iter()
                            .map(|agent| (agent.login, agent.display_name))
                            .collect(),
                    );
                    groups.set(config.skill_groups);
                    loaded.update(|count| *count += 1);
                }
                (Err(error), _) | (_, Err(error)) => problems.set(error.problems()),
            }
        });
    }
    let on_save = Callback::new(move |()| {
        let token = token.clone();
        let body = groups.get_untracked();
        saved.set(false);
        spawn_local(async move {
            match api::save_section(&token, "skill_groups", &body).await {
                Ok(_) => {
                    problems.set(Vec::new());
                    saved.set(true);
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    });
    let count = Memo::new(move |_| groups.with(Vec::len));
    view! {
        <section class="kefu-admin-page" aria-labelledby="kefu-admin-groups">
            <h2 id="kefu-admin-groups">{move || t().page_groups}</h2>
            <FieldError lang problems path="skill_groups"/>
            {move || {
                loaded.get();
                (0..count.get()).map(|index| view! { <GroupEditor lang groups index rules agents problems loaded/> }).collect_view()
            }}
            <button type="button" on:click=move |_| groups.update(|groups| {
                let rule = rules.with_untracked(|rules| rules.first().cloned()).unwrap_or_default();
                let number = groups.len() + 1;
                groups.push(SkillGroup { name: format!("group-{number}"), display_name: String::new(), rule, members: Vec::new() });
            })>{move || t().add_group}</button>
            <SaveBar lang problems saved on_save/>
        </section>
    }
}

/// One group's fields.
#[component]
pub fn GroupEditor(
    lang: RwSignal<Lang>,
    groups: RwSignal<Vec<SkillGroup>>,
    index: usize,
    rules: RwSignal<Vec<String>>,
    agents: RwSignal<Vec<(String, String)>>,
    problems: Problems,
    loaded: RwSignal<u32>,
) -> impl IntoView {
    let t = move || texts(lang);
    let group = groups
        .with_untracked(|groups| groups.get(index).cloned())
        .unwrap_or(SkillGroup {
            name: String::new(),
            display_name: String::new(),
            rule: String::new(),
            members: Vec::new(),
        });
    let path = format!("skill_groups[{index}]");
    let edit = move |change: Box<dyn Fn(&mut SkillGroup)>| {
        groups.update(|groups| {
            if let Some(group) = groups.get_mut(index) {
                change(group);
            }
        })
    };
    let heading = move || {
        groups.with(|groups| {
            groups
                .get(index)
                .map(|group| group.name.clone())
                .unwrap_or_default()
        })
    };
    let n = (index + 1).to_string();
    let members = group.members.clone();
    let chosen_rule = group.rule.clone();
    view! {
        <fieldset class="kefu-group">
            <legend>{move || t().group}" "{heading}</legend>
            <TextField label=Signal::derive({ let n = n.clone(); move || fill(t().group_name, "n", &n) }) value=group.name.clone()
                problems path=format!("{path}.name")
                on_input=Callback::new(move |value: String| edit(Box::new(move |group| group.name = value.trim().to_owned())))/>
            <TextField label=Signal::derive({ let n = n.clone(); move || fill(t().display_name, "n", &n) }) value=group.display_name.clone()
                problems path=format!("{path}.display_name")
                on_input=Callback::new(move |value: String| edit(Box::new(move |group| group.display_name = value.clone())))/>
            <div class="kefu-field">
                <label>
                    <span>{{ let n = n.clone(); move || fill(t().group_rule, "n", &n) }}</span>
                    <select on:change:target=move |event| {
                        let value = event.target().value();
                        edit(Box::new(move |group| group.rule = value.clone()));
                    }>
                        {move || rules.get().into_iter().map(|rule| {
                            let selected = rule == chosen_rule;
                            view! { <option value=rule.clone() selected=selected>{rule.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <FieldError lang problems path=format!("{path}.rule")/>
            </div>
            <div role="group" aria-label={ let n = n.clone(); move || fill(t().members, "n", &n) } class="kefu-members">
                <span>{{ let n = n.clone(); move || fill(t().members, "n", &n) }}</span>
                {move || agents.get().into_iter().map(|(login, name)| {
                    let checked = members.contains(&login);
                    let label = format!("{name} ({login})");
                    view! {
                        <CheckField label=Signal::derive(move || label.clone()) checked
                            on_change=Callback::new(move |on: bool| {
                                let login = login.clone();
                                edit(Box::new(move |group| {
                                    group.members.retain(|member| *member != login);
                                    if on { group.members.push(login.clone()); }
                                }))
                            })/>
                    }
                }).collect_view()}
            </div>
            <button type="button" on:click=move |_| {
                groups.update(|groups| { if index < groups.len() { groups.remove(index); } });
                loaded.update(|count| *count += 1);
            }>{move || fill(t().delete_group, "n", &n)}</button>
        </fieldset>
    }
}
