//! 知识库: the knowledge base — search and categories, add / edit / disable items with similar
//! questions, hit counts, import (all or nothing; a bad file names its line) and export of
//! CSV and JSON files, and "try the robot": what a customer would get.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use kefu_core::config::KnowledgeItem;

use crate::admin::api::{self, KnowledgeView, Problem, RobotReply};
use crate::admin::{CheckField, Problems, SaveBar, TextField, texts};
use crate::i18n::{Lang, fill};

/// Similar questions as typed: one per line.
pub fn parse_similar(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The import format of a file, by its name: `.csv` is CSV, everything else JSON.
pub fn format_of_file(name: &str) -> &'static str {
    if name.to_ascii_lowercase().ends_with(".csv") {
        "csv"
    } else {
        "json"
    }
}

#[component]
pub fn KnowledgePage(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let t = move || texts(lang);
    let items = RwSignal::new(Vec::<KnowledgeView>::new());
    let categories = RwSignal::new(Vec::<String>::new());
    let query = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<KnowledgeItem>);
    let is_new = RwSignal::new(false);
    // "已保存「…」" after the editor closed on a successful save.
    let saved_question = RwSignal::new(None::<String>);
    let load = {
        let token = token.clone();
        move || {
            let (token, q, c) = (
                token.clone(),
                query.get_untracked(),
                category.get_untracked(),
            );
            spawn_local(async move {
                if let Ok(list) = api::knowledge(&token, &q, &c).await {
                    items.set(list.items);
                    categories.set(list.categories);
                }
            });
        }
    };
    load();
    let reload = Callback::new(move |()| load());
    let blank = || KnowledgeItem {
        id: String::new(),
        category: String::new(),
        question: String::new(),
        similar: Vec::new(),
        answer: String::new(),
        enabled: true,
    };
    view! {
        <section class="kefu-admin-page" aria-labelledby="kefu-admin-knowledge">
            <h2 id="kefu-admin-knowledge">{move || t().page_knowledge}</h2>
            <div class="kefu-toolbar">
                <input type="search" aria-label=move || t().search_knowledge placeholder=move || t().search_knowledge
                    on:input:target=move |event| { query.set(event.target().value()); reload.run(()); }/>
                <label><span>{move || t().filter_category}</span>
                    <select on:change:target=move |event| { category.set(event.target().value()); reload.run(()); }>
                        <option value="">{move || t().all_categories}</option>
                        {move || categories.get().into_iter().map(|each| view! { <option value=each.clone()>{each.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" on:click=move |_| { is_new.set(true); saved_question.set(None); editing.set(Some(blank())); }>{move || t().add_item}</button>
            </div>
            {move || saved_question.get().map(|question| view! { <p role="status" class="kefu-saved">{fill(t().item_saved, "q", &question)}</p> })}
            {
                let token = token.clone();
                move || editing.get().map(|item| view! { <ItemEditor lang item is_new=is_new.get_untracked() token=token.clone() editing reload categories saved_question/> })
            }
            <table class="kefu-knowledge-table">
                <thead><tr>
                    <th scope="col">{move || t().question}</th><th scope="col">{move || t().category}</th>
                    <th scope="col">{move || t().hits}</th>
                    <th scope="col">{move || t().helpful_votes}</th><th scope="col">{move || t().unhelpful_votes}</th>
                    <th scope="col">{move || t().state}</th><th scope="col"></th>
                </tr></thead>
                <tbody>
                    <For each=move || items.get() key=|view| format!("{view:?}{}", 0) children={
                        let token = token.clone();
                        move |view| {
                            let item = view.item.clone();
                            let question = item.question.clone();
                            let (edit_item, toggle_item, token) = (item.clone(), item.clone(), token.clone());
                            let (q_edit, q_toggle) = (question.clone(), question.clone());
                            let enabled = item.enabled;
                            view! {
                                <tr>
                                    <td>{question.clone()}</td>
                                    <td>{item.category.clone()}</td>
                                    <td>{view.hit_count}</td>
                                    <td>{view.votes.helpful}</td>
                                    <td>{view.votes.not_helpful}</td>
                                    <td>{move || if enabled { t().enabled } else { t().disabled }}</td>
                                    <td>
                                        <button type="button" aria-label=move || fill(t().edit_item, "q", &q_edit)
                                            on:click=move |_| { is_new.set(false); editing.set(Some(edit_item.clone())); }>{move || t().edit}</button>
                                        <button type="button" aria-label=move || fill(if enabled { t().disable_item } else { t().enable_item }, "q", &q_toggle)
                                            on:click=move |_| {
                                                let token = token.clone();
                                                let item = KnowledgeItem { enabled: !enabled, ..toggle_item.clone() };
                                                spawn_local(async move {
                                                    if api::update_knowledge(&token, &item).await.is_ok() {
                                                        reload.run(());
                                                    }
                                                });
                                            }>{move || if enabled { t().disable } else { t().enable }}</button>
                                    </td>
                                </tr>
                            }
                        }
                    }/>
                </tbody>
            </table>
            <ImportExport lang token=token.clone() reload/>
            <TryRobot lang token/>
        </section>
    }
}

/// The form of a new or an edited item.
#[component]
pub fn ItemEditor(
    lang: RwSignal<Lang>,
    item: KnowledgeItem,
    is_new: bool,
    token: String,
    editing: RwSignal<Option<KnowledgeItem>>,
    reload: Callback<()>,
    /// The categories in use, offered as choices (a new one can still be typed).
    categories: RwSignal<Vec<String>>,
    saved_question: RwSignal<Option<String>>,
) -> impl IntoView {
    let t = move || texts(lang);
    let problems: Problems = RwSignal::new(Vec::new());
    let saved = RwSignal::new(false);
    let draft = RwSignal::new(item.clone());
    let edit = move |change: Box<dyn Fn(&mut KnowledgeItem)>| draft.update(|item| change(item));
    let on_save = Callback::new(move |()| {
        let token = token.clone();
        let item = draft.get_untracked();
        spawn_local(async move {
            let result = if is_new {
                api::add_knowledge(&token, &item).await
            } else {
                api::update_knowledge(&token, &item).await
            };
            match result {
                Ok(_) => {
                    problems.set(Vec::new());
                    saved_question.set(Some(item.question.clone()));
                    editing.set(None);
                    reload.run(());
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    });
    view! {
        <fieldset class="kefu-item-editor">
            <legend>{move || if is_new { t().add_item } else { t().edit }}</legend>
            <div class="kefu-field">
                <label><span>{move || t().category}</span>
                    <input type="text" list="kefu-knowledge-categories" prop:value=item.category.clone()
                        on:input:target=move |event| { let value = event.target().value(); edit(Box::new(move |item| item.category = value.clone())) }/>
                </label>
                <datalist id="kefu-knowledge-categories">
                    {move || categories.get().into_iter().map(|each| view! { <option value=each/> }).collect_view()}
                </datalist>
                <crate::admin::FieldError lang problems path="category"/>
            </div>
            <TextField label=Signal::derive(move || t().question.to_owned()) value=item.question.clone() problems path="question"
                on_input=Callback::new(move |value: String| edit(Box::new(move |item| item.question = value.clone())))/>
            <TextField label=Signal::derive(move || t().similar.to_owned()) multiline=true value=item.similar.join("\n") problems path="similar"
                on_input=Callback::new(move |value: String| edit(Box::new(move |item| item.similar = parse_similar(&value))))/>
            <TextField label=Signal::derive(move || t().answer.to_owned()) multiline=true value=item.answer.clone() problems path="answer"
                on_input=Callback::new(move |value: String| edit(Box::new(move |item| item.answer = value.clone())))/>
            <CheckField label=Signal::derive(move || t().enabled.to_owned()) checked=item.enabled
                on_change=Callback::new(move |on: bool| edit(Box::new(move |item| item.enabled = on)))/>
            <SaveBar lang problems saved on_save label=Signal::derive(move || t().save_item.to_owned())/>
            <button type="button" on:click=move |_| editing.set(None)>{move || t().cancel}</button>
        </fieldset>
    }
}

/// Reads a file the admin picked, as text.
async fn read_file(input: &web_sys::HtmlInputElement) -> Option<(String, String)> {
    let file = input.files()?.get(0)?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?
        .as_string()?;
    Some((file.name(), text))
}

/// Offers `text` as a file download.
fn download(name: &str, text: &str, content_type: &str) {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(document) = web_sys::window().and_then(|window| window.document())
        && let Ok(link) = document.create_element("a")
    {
        let link: web_sys::HtmlAnchorElement = link.unchecked_into();
        link.set_href(&url);
        link.set_download(name);
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Import from a file (all or nothing) and export as CSV or JSON.
#[component]
pub fn ImportExport(lang: RwSignal<Lang>, token: String, reload: Callback<()>) -> impl IntoView {
    let t = move || texts(lang);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let result = RwSignal::new(None::<String>);
    let on_file = {
        let token = token.clone();
        move |event: web_sys::Event| {
            let Some(input) = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let token = token.clone();
            spawn_local(async move {
                let Some((name, text)) = read_file(&input).await else {
                    return;
                };
                input.set_value("");
                result.set(None);
                match api::import_knowledge(&token, format_of_file(&name), text).await {
                    Ok(imported) => {
                        problems.set(Vec::new());
                        let message = fill(
                            &fill(
                                texts_static(lang).imported,
                                "added",
                                &imported.added.to_string(),
                            ),
                            "replaced",
                            &imported.replaced.to_string(),
                        );
                        result.set(Some(message));
                        reload.run(());
                    }
                    Err(error) => problems.set(error.problems()),
                }
            });
        }
    };
    let export = move |format: &'static str| {
        let token = token.clone();
        spawn_local(async move {
            if let Ok(text) = api::export_knowledge(&token, format).await {
                let content_type = if format == "csv" {
                    "text/csv"
                } else {
                    "application/json"
                };
                download(&format!("knowledge.{format}"), &text, content_type);
            }
        });
    };
    let export_csv = export.clone();
    view! {
        <fieldset class="kefu-import">
            <legend>{move || t().import_export}</legend>
            <label><span>{move || t().import_file}</span>
                <input type="file" accept=".csv,.json,text/csv,application/json" on:change=on_file/>
            </label>
            <button type="button" on:click=move |_| export_csv("csv")>{move || t().export_csv}</button>
            <button type="button" on:click=move |_| export("json")>{move || t().export_json}</button>
            {move || result.get().map(|message| view! { <p role="status">{message}</p> })}
            <Show when=move || problems.with(|problems| !problems.is_empty())>
                <div class="kefu-problems" role="alert">
                    <p>{move || t().nothing_imported}</p>
                    <ul>
                        {move || problems.get().into_iter().map(|problem| {
                            let place = problem.line.map(|line| format!("{} {line}: ", t().line)).unwrap_or_default();
                            let text = crate::admin::problem_text(&problem, lang.get());
                            view! { <li>{place}{text}</li> }
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
        </fieldset>
    }
}

fn texts_static(lang: RwSignal<Lang>) -> &'static crate::i18n::AdminTexts {
    lang.get_untracked().admin()
}

/// 测试机器人: a question, and what a customer would get.
#[component]
pub fn TryRobot(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let t = move || texts(lang);
    let question = RwSignal::new(String::new());
    let reply = RwSignal::new(None::<RobotReply>);
    let ask = move || {
        let (token, question) = (token.clone(), question.get_untracked());
        if question.trim().is_empty() {
            return;
        }
        spawn_local(async move {
            reply.set(api::ask_robot(&token, &question).await.ok());
        });
    };
    let ask_on_enter = ask.clone();
    view! {
        <fieldset class="kefu-try-robot">
            <legend>{move || t().try_robot}</legend>
            <label><span>{move || t().robot_question}</span>
                <input type="text" on:input:target=move |event| question.set(event.target().value())
                    on:keydown=move |event| if event.key() == "Enter" { ask_on_enter() }/>
            </label>
            <button type="button" on:click=move |_| ask()>{move || t().ask}</button>
            {move || reply.get().map(|reply| view! {
                <div role="status" aria-label=move || t().robot_reply class="kefu-robot-reply">
                    <p>{move || if reply.hit { t().robot_hit } else { t().robot_miss }}</p>
                    <p class="kefu-text">{reply.reply.clone()}</p>
                    {(!reply.suggestions.is_empty()).then(|| view! { <p>{move || t().suggestions}": "{reply.suggestions.join(" / ")}</p> })}
                </div>
            })}
        </fieldset>
    }
}
