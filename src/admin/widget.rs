//! 挂件设置: the widget's allowed origins, accent colour, launcher text, greeting and
//! languages, and the exact tag a site owner pastes, with a copy button.

use leptos::prelude::*;
use leptos::task::spawn_local;

use kefu_core::config::{OperatorTexts, WIDGET_LANGUAGES, WidgetSettings};

use crate::admin::api;
use crate::admin::{CheckField, FieldError, Problems, SaveBar, TextField, texts};
use crate::i18n::{AdminTexts, Lang};

/// Origins as typed: one per line, blanks dropped, trailing slashes kept (kefu-core says
/// what is wrong with them).
pub fn parse_origins(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
pub fn WidgetPage(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let widget = RwSignal::new(None::<WidgetSettings>);
    let snippet = RwSignal::new(String::new());
    let problems: Problems = RwSignal::new(Vec::new());
    let saved = RwSignal::new(false);
    {
        let token = token.clone();
        spawn_local(async move {
            match api::config(&token).await {
                Ok(config) => {
                    snippet.set(config.snippet);
                    widget.set(Some(config.widget));
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    }
    let on_save = Callback::new(move |()| {
        let Some(body) = widget.get_untracked() else {
            return;
        };
        let token = token.clone();
        saved.set(false);
        spawn_local(async move {
            match api::save_section(&token, "widget", &body).await {
                Ok(config) => {
                    problems.set(Vec::new());
                    saved.set(true);
                    snippet.set(config.snippet);
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    });
    let loaded = Memo::new(move |_| widget.with(Option::is_some));
    view! {
        <section class="kefu-admin-page" aria-labelledby="kefu-admin-widget">
            <h2 id="kefu-admin-widget">{move || texts(lang).page_widget}</h2>
            {move || loaded.get().then(|| view! { <WidgetEditor lang widget problems/> })}
            <SaveBar lang problems saved on_save/>
            <Snippet lang snippet/>
        </section>
    }
}

/// The widget settings' fields; `widget` must hold the settings when mounted.
#[component]
pub fn WidgetEditor(
    lang: RwSignal<Lang>,
    widget: RwSignal<Option<WidgetSettings>>,
    problems: Problems,
) -> impl IntoView {
    let t = move || texts(lang);
    let start = widget.get_untracked().unwrap_or_default();
    let edit = move |change: Box<dyn Fn(&mut WidgetSettings)>| {
        widget.update(|widget| {
            if let Some(widget) = widget {
                change(widget);
            }
        })
    };
    view! {
        <TextField label=Signal::derive(move || t().allowed_origins.to_owned()) multiline=true value=start.allowed_origins.join("\n")
            problems path="widget.allowed_origins"
            on_input=Callback::new(move |value: String| edit(Box::new(move |widget| widget.allowed_origins = parse_origins(&value))))/>
        {(0..start.allowed_origins.len().max(1) + 4).map(|index| view! { <FieldError lang problems path=format!("widget.allowed_origins[{index}]")/> }).collect_view()}
        <TextField label=Signal::derive(move || t().accent_color.to_owned()) value=start.accent_color.clone() problems path="widget.accent_color"
            on_input=Callback::new(move |value: String| edit(Box::new(move |widget| widget.accent_color = value.trim().to_owned())))/>
        <TextField label=Signal::derive(move || t().launcher_text.to_owned()) value=start.launcher_text.clone() problems path="widget.launcher_text"
            on_input=Callback::new(move |value: String| edit(Box::new(move |widget| widget.launcher_text = value.clone())))/>
        <TextField label=Signal::derive(move || t().greeting.to_owned()) multiline=true value=start.greeting.clone() problems path="widget.greeting"
            on_input=Callback::new(move |value: String| edit(Box::new(move |widget| widget.greeting = value.clone())))/>
        <div role="group" class="kefu-members" aria-label=move || t().languages>
            <span>{move || t().languages}</span>
            {WIDGET_LANGUAGES.into_iter().map(|language| view! {
                <CheckField label=Signal::derive(move || language.to_owned()) checked=start.languages.iter().any(|each| each == language)
                    on_change=Callback::new(move |on: bool| edit(Box::new(move |widget| {
                        widget.languages.retain(|each| each != language);
                        if on { widget.languages.push(language.to_owned()); }
                    })))/>
            }).collect_view()}
        </div>
        <FieldError lang problems path="widget.languages"/>
        // What English visitors read; an empty field is the built-in English text.
        <fieldset class="kefu-english-texts">
            <legend>{move || t().english_texts}</legend>
            <p class="kefu-hint">{move || t().english_texts_hint}</p>
            {english_fields().into_iter().map(|(field, label, get, set)| view! {
                <TextField label=Signal::derive(move || label(t()).to_owned()) multiline=field != "chat_title"
                    value=get(&start.english).to_owned() problems path=format!("widget.english.{field}")
                    on_input=Callback::new(move |value: String| edit(Box::new(move |widget| set(&mut widget.english, value.clone()))))/>
            }).collect_view()}
        </fieldset>
    }
}

type EnglishField = (
    &'static str,
    fn(&AdminTexts) -> &'static str,
    fn(&OperatorTexts) -> &str,
    fn(&mut OperatorTexts, String),
);

/// The operator's English texts, each with its label and how it is read and written.
fn english_fields() -> [EnglishField; 7] {
    [
        (
            "chat_title",
            |t| t.english_chat_title,
            |e| &e.chat_title,
            |e, v| e.chat_title = v,
        ),
        (
            "greeting",
            |t| t.english_greeting,
            |e| &e.greeting,
            |e, v| e.greeting = v,
        ),
        (
            "no_answer_reply",
            |t| t.english_no_answer,
            |e| &e.no_answer_reply,
            |e, v| e.no_answer_reply = v,
        ),
        (
            "robot_only_reply",
            |t| t.english_robot_only,
            |e| &e.robot_only_reply,
            |e, v| e.robot_only_reply = v,
        ),
        (
            "off_hours_message",
            |t| t.english_off_hours,
            |e| &e.off_hours_message,
            |e, v| e.off_hours_message = v,
        ),
        (
            "no_agent_message",
            |t| t.english_no_agent,
            |e| &e.no_agent_message,
            |e, v| e.no_agent_message = v,
        ),
        (
            "idle_timeout_message",
            |t| t.english_idle,
            |e| &e.idle_timeout_message,
            |e, v| e.idle_timeout_message = v,
        ),
    ]
}

/// The tag to paste, read-only, with a copy button.
#[component]
pub fn Snippet(lang: RwSignal<Lang>, snippet: RwSignal<String>) -> impl IntoView {
    let t = move || texts(lang);
    let copied = RwSignal::new(false);
    let copy = move |_| {
        let text = snippet.get_untracked();
        if let Some(window) = web_sys::window() {
            let promise = window.navigator().clipboard().write_text(&text);
            spawn_local(async move {
                copied.set(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok());
            });
        }
    };
    view! {
        <div class="kefu-snippet">
            <label><span>{move || t().snippet}</span>
                <textarea readonly rows="3" prop:value=move || snippet.get()></textarea>
            </label>
            <button type="button" on:click=copy>{move || t().copy_snippet}</button>
            <Show when=move || copied.get()>
                <span role="status">{move || t().copied}</span>
            </Show>
        </div>
    }
}
