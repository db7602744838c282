//! 服务模式: robot_first / robot_only / human_only, the robot's no-answer reply, transfer
//! keywords, the transfer button, misses before a transfer and the group transfers go to.

use leptos::prelude::*;
use leptos::task::spawn_local;

use kefu_core::config::{ServiceMode, ServiceSettings};

use crate::admin::api;
use crate::admin::{CheckField, FieldError, Problems, SaveBar, TextField, texts};
use crate::i18n::Lang;

/// Transfer keywords as typed: separated by commas (`,` or `，`) or line breaks.
pub fn parse_keywords(text: &str) -> Vec<String> {
    text.split([',', '，', '\n'])
        .map(str::trim)
        .filter(|keyword| !keyword.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
pub fn ModePage(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let service = RwSignal::new(None::<ServiceSettings>);
    let groups = RwSignal::new(Vec::<String>::new());
    let problems: Problems = RwSignal::new(Vec::new());
    let saved = RwSignal::new(false);
    {
        let token = token.clone();
        spawn_local(async move {
            match api::config(&token).await {
                Ok(config) => {
                    groups.set(
                        config
                            .skill_groups
                            .iter()
                            .map(|group| group.name.clone())
                            .collect(),
                    );
                    service.set(Some(config.service));
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    }
    let on_save = Callback::new(move |()| {
        let Some(body) = service.get_untracked() else {
            return;
        };
        let token = token.clone();
        saved.set(false);
        spawn_local(async move {
            match api::save_section(&token, "service", &body).await {
                Ok(_) => {
                    problems.set(Vec::new());
                    saved.set(true);
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    });
    let loaded = Memo::new(move |_| service.with(Option::is_some));
    view! {
        <section class="kefu-admin-page" aria-labelledby="kefu-admin-mode">
            <h2 id="kefu-admin-mode">{move || texts(lang).page_mode}</h2>
            {move || loaded.get().then(|| view! { <ModeEditor lang service groups problems/> })}
            <SaveBar lang problems saved on_save/>
        </section>
    }
}

/// The fields of the service mode; `service` must hold the settings when mounted.
#[component]
pub fn ModeEditor(
    lang: RwSignal<Lang>,
    service: RwSignal<Option<ServiceSettings>>,
    groups: RwSignal<Vec<String>>,
    problems: Problems,
) -> impl IntoView {
    let t = move || texts(lang);
    let start = service.get_untracked().unwrap_or_default();
    let edit = move |change: Box<dyn Fn(&mut ServiceSettings)>| {
        service.update(|service| {
            if let Some(service) = service {
                change(service);
            }
        })
    };
    let mode = move || service.with(|service| service.as_ref().map(|service| service.mode));
    let robot = start.robot.clone();
    let chosen_group = robot.skill_group.clone();
    view! {
        <fieldset class="kefu-mode">
            <legend>{move || t().service_mode}</legend>
            {[(ServiceMode::RobotFirst, 0), (ServiceMode::RobotOnly, 1), (ServiceMode::HumanOnly, 2)].into_iter().map(|(each, index)| view! {
                <label class="kefu-check">
                    <input type="radio" name="kefu-service-mode" prop:checked=move || mode() == Some(each)
                        on:change=move |_| edit(Box::new(move |service| service.mode = each))/>
                    <span>{move || t().modes[index]}</span>
                </label>
            }).collect_view()}
        </fieldset>
        <TextField label=Signal::derive(move || t().no_answer_reply.to_owned()) multiline=true value=robot.no_answer_reply.clone()
            problems path="service.robot.no_answer_reply"
            on_input=Callback::new(move |value: String| edit(Box::new(move |service| service.robot.no_answer_reply = value.clone())))/>
        <TextField label=Signal::derive(move || t().robot_only_reply.to_owned()) multiline=true value=robot.robot_only_reply.clone()
            problems path="service.robot.robot_only_reply"
            on_input=Callback::new(move |value: String| edit(Box::new(move |service| service.robot.robot_only_reply = value.clone())))/>
        <TextField label=Signal::derive(move || t().transfer_keywords.to_owned()) value=robot.transfer_keywords.join(", ")
            problems path="service.robot.transfer_keywords"
            on_input=Callback::new(move |value: String| edit(Box::new(move |service| service.robot.transfer_keywords = parse_keywords(&value))))/>
        {(0..8).map(|index| view! { <FieldError lang problems path=format!("service.robot.transfer_keywords[{index}]")/> }).collect_view()}
        <CheckField label=Signal::derive(move || t().transfer_button.to_owned()) checked=robot.transfer_button
            on_change=Callback::new(move |on: bool| edit(Box::new(move |service| service.robot.transfer_button = on)))/>
        <TextField label=Signal::derive(move || t().misses_before_transfer.to_owned()) kind="number" value=robot.misses_before_transfer.to_string()
            problems path="service.robot.misses_before_transfer"
            on_input=Callback::new(move |value: String| edit(Box::new(move |service| service.robot.misses_before_transfer = value.trim().parse().unwrap_or(0))))/>
        <div class="kefu-field">
            <label>
                <span>{move || t().transfer_group}</span>
                <select on:change:target=move |event| {
                    let value = event.target().value();
                    edit(Box::new(move |service| service.robot.skill_group = (!value.is_empty()).then(|| value.clone())));
                }>
                    <option value="" selected=robot.skill_group.is_none()>{move || t().first_group}</option>
                    {move || groups.get().into_iter().map(|group| {
                        let selected = chosen_group.as_deref() == Some(group.as_str());
                        view! { <option value=group.clone() selected=selected>{group.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <FieldError lang problems path="service.robot.skill_group"/>
        </div>
    }
}
