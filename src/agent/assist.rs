//! What helps an agent answer: the knowledge base (搜索框 + 推荐知识) and canned phrases
//! (常用语). Both only fill the composer's draft: sending stays one deliberate action.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::agent::api::{self, CannedPhrase, KnowledgeItem, PhraseInput};
use crate::agent::session::AgentSession;
use crate::i18n::Lang;

/// The composer's draft, shared by the composer and everything that fills it.
pub type Draft = RwSignal<String>;

/// Puts `text` in the composer and moves the focus there, ready to send.
fn use_in_composer(draft: Draft, text: &str) {
    draft.set(text.to_owned());
    if let Some(composer) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| {
            document
                .query_selector(".kefu-conversation textarea")
                .ok()
                .flatten()
        })
    {
        use wasm_bindgen::JsCast;
        let _ = composer.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}

/// A list of knowledge items, each a button that puts its answer in the composer.
#[component]
fn KnowledgeList(
    items: Signal<Vec<KnowledgeItem>>,
    draft: Draft,
    lang: RwSignal<Lang>,
) -> impl IntoView {
    view! {
        <ul class="kefu-knowledge-list">
            <For each=move || items.get() key=|item| item.id.clone() children=move |item| {
                let answer = item.answer.clone();
                // Both follow the language switch, like every other text in the workspace.
                let question = item.question.clone();
                let label = move || format!("{}: {}", lang.get().texts().use_answer, question);
                view! {
                    // The button's name starts with its visible text ("使用答案"), then says which.
                    <li class="kefu-knowledge-item">
                        <span class="kefu-knowledge-question">{item.question.clone()}</span>
                        <span class="kefu-knowledge-answer">{crate::richtext::plain_text(&item.answer)}</span>
                        <button type="button" aria-label=label on:click=move |_| use_in_composer(draft, &answer)>
                            {move || lang.get().texts().use_answer}
                        </button>
                    </li>
                }
            }/>
        </ul>
    }
}

/// 搜索框 + 推荐知识: search the knowledge base, the best matches for the customer's latest
/// question, and the high-frequency items.
#[component]
pub fn KnowledgePanel(
    lang: RwSignal<Lang>,
    session: RwSignal<AgentSession>,
    draft: Draft,
) -> impl IntoView {
    let texts = move || lang.get().texts();
    let token = session.with_untracked(|session| session.session_token.clone());
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(Vec::<KnowledgeItem>::new());
    let for_latest = RwSignal::new(Vec::<KnowledgeItem>::new());
    let frequent = RwSignal::new(Vec::<KnowledgeItem>::new());

    // The answers change as the knowledge base is used; a minute is fresh enough.
    let load_frequent = {
        let token = token.clone();
        move || {
            let token = token.clone();
            spawn_local(async move {
                if let Ok(items) = api::recommended(&token).await {
                    frequent.set(items);
                }
            });
        }
    };
    load_frequent();
    let refresh = set_interval_with_handle(load_frequent, std::time::Duration::from_secs(60));
    on_cleanup(move || {
        if let Ok(refresh) = refresh {
            refresh.clear();
        }
    });

    // Best matches for what the customer of the selected chat asked last.
    let latest_question = Memo::new(move |_| {
        session.with(|session| {
            session.selected().and_then(|conversation| {
                conversation
                    .log
                    .events
                    .iter()
                    .rev()
                    .find_map(|event| match &event.body {
                        kefu_core::conversation::EventBody::CustomerMessage { text, .. } => {
                            Some(text.clone())
                        }
                        _ => None,
                    })
            })
        })
    });
    {
        let token = token.clone();
        Effect::new(move |_| {
            let Some(question) = latest_question.get() else {
                for_latest.set(Vec::new());
                return;
            };
            let token = token.clone();
            spawn_local(async move {
                if let Ok(items) = api::search(&token, &question).await {
                    for_latest.set(items);
                }
            });
        });
    }

    let search = move |text: String| {
        query.set(text.clone());
        if text.trim().is_empty() {
            results.set(Vec::new());
            return;
        }
        let token = token.clone();
        spawn_local(async move {
            if let Ok(items) = api::search(&token, &text).await
                && query.get_untracked() == text
            {
                results.set(items);
            }
        });
    };

    view! {
        <section class="kefu-knowledge" aria-label=move || texts().knowledge>
            <h2>{move || texts().knowledge}</h2>
            <input type="search" class="kefu-search" aria-label=move || texts().search_knowledge placeholder=move || texts().search_knowledge
                on:input:target=move |event| search(event.target().value())/>
            <Show when=move || !query.get().trim().is_empty()>
                <Show when=move || !results.with(Vec::is_empty) fallback=move || view! { <p class="kefu-empty">{move || texts().no_knowledge_found}</p> }>
                    <KnowledgeList items=results.into() draft lang/>
                </Show>
            </Show>
            <Show when=move || !for_latest.with(Vec::is_empty)>
                <h3>{move || texts().for_latest_question}</h3>
                <KnowledgeList items=for_latest.into() draft lang/>
            </Show>
            <Show when=move || !frequent.with(Vec::is_empty)>
                <h3>{move || texts().frequent_questions}</h3>
                <KnowledgeList items=frequent.into() draft lang/>
            </Show>
        </section>
    }
}

/// The agent's canned phrases, loaded once per workspace and after each change.
#[derive(Clone, Copy)]
pub struct Phrases {
    pub list: RwSignal<Vec<CannedPhrase>>,
    pub error: RwSignal<Option<String>>,
}

impl Phrases {
    pub fn load(token: String) -> Phrases {
        let phrases = Phrases {
            list: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
        };
        phrases.reload(token);
        phrases
    }

    pub fn reload(self, token: String) {
        spawn_local(async move {
            match api::phrases(&token).await {
                Ok(list) => self.list.set(list),
                Err(error) => self.error.set(Some(error.0)),
            }
        });
    }
}

/// The phrases offered while the composer starts with `/`: a click (or Enter on the first)
/// replaces the draft with the phrase.
#[component]
pub fn SlashSuggestions(lang: RwSignal<Lang>, phrases: Phrases, draft: Draft) -> impl IntoView {
    let texts = move || lang.get().texts();
    let matches = move || {
        let draft = draft.get();
        let Some(typed) = api::slash_query(&draft) else {
            return Vec::new();
        };
        phrases.list.with(|list| {
            api::phrases_matching(list, typed)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <Show when=move || !matches().is_empty()>
            <div class="kefu-slash" role="group" aria-label=move || texts().canned_phrases>
                <For each=matches key=|phrase| phrase.id.clone() children=move |phrase| {
                    let content = phrase.content.clone();
                    view! {
                        <button type="button" class="kefu-chip" on:click=move |_| use_in_composer(draft, &content)>
                            {format!("{} · {}", phrase.category, phrase.content)}
                        </button>
                    }
                }/>
            </div>
        </Show>
    }
}

/// The first phrase the `/` shortcut offers for `draft`, for Enter.
pub fn first_slash_match(phrases: Phrases, draft: &str) -> Option<String> {
    let typed = api::slash_query(draft)?;
    phrases.list.with_untracked(|list| {
        api::phrases_matching(list, typed)
            .first()
            .map(|phrase| phrase.content.clone())
    })
}

/// 常用语 in the composer: every phrase by category, a click puts it in the draft.
#[component]
pub fn PhrasePicker(lang: RwSignal<Lang>, phrases: Phrases, draft: Draft) -> impl IntoView {
    let texts = move || lang.get().texts();
    let open = RwSignal::new(false);
    view! {
        <div class="kefu-phrase-picker">
            <button type="button" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|open| *open = !*open)>
                {move || texts().canned_phrases}
            </button>
            <Show when=move || open.get()>
                <div class="kefu-phrase-menu" role="group" aria-label=move || texts().canned_phrases>
                    <For each=move || phrases.list.get() key=|phrase| phrase.clone() children=move |phrase| {
                        let content = phrase.content.clone();
                        view! {
                            <button type="button" class="kefu-chip" on:click=move |_| {
                                open.set(false);
                                use_in_composer(draft, &content);
                            }>{format!("{} · {}", phrase.category, phrase.content)}</button>
                        }
                    }/>
                </div>
            </Show>
        </div>
    }
}

/// 常用语设置 (behind the gear): add, edit and delete phrases in categories.
#[component]
pub fn PhraseSettings(
    lang: RwSignal<Lang>,
    session: RwSignal<AgentSession>,
    phrases: Phrases,
    open: RwSignal<bool>,
) -> impl IntoView {
    let texts = move || lang.get().texts();
    let token = session.with_untracked(|session| session.session_token.clone());
    let category = RwSignal::new(String::new());
    let content = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let save = {
        let token = token.clone();
        move |event: web_sys::SubmitEvent| {
            event.prevent_default();
            let input = PhraseInput {
                category: category.get_untracked().trim().to_owned(),
                content: content.get_untracked(),
                shared: None,
            };
            let token = token.clone();
            let editing_id = editing.get_untracked();
            spawn_local(async move {
                let saved = match &editing_id {
                    Some(id) => api::update_phrase(&token, id, &input).await,
                    None => api::create_phrase(&token, &input).await,
                };
                match saved {
                    Ok(_) => {
                        content.set(String::new());
                        editing.set(None);
                        message.set(None);
                        phrases.reload(token);
                    }
                    Err(error) => message.set(Some(error.0)),
                }
            });
        }
    };
    let remove = move |id: String| {
        let token = token.clone();
        spawn_local(async move {
            match api::delete_phrase(&token, &id).await {
                Ok(()) => phrases.reload(token),
                Err(error) => message.set(Some(error.0)),
            }
        });
    };
    view! {
        <section class="kefu-settings" role="dialog" aria-modal="true" aria-labelledby="kefu-settings-title">
            <div class="kefu-settings-head">
                <h2 id="kefu-settings-title">{move || texts().phrase_settings}</h2>
                <button type="button" on:click=move |_| open.set(false)>{move || texts().close}</button>
            </div>
            <form class="kefu-phrase-form" on:submit=save>
                <label>{move || texts().phrase_category}
                    <input type="text" prop:value=move || category.get() on:input:target=move |event| category.set(event.target().value())/>
                </label>
                <label>{move || texts().phrase_content}
                    <textarea rows="3" prop:value=move || content.get() on:input:target=move |event| content.set(event.target().value())></textarea>
                </label>
                <Show when=move || message.get().is_some()>
                    <p class="kefu-error" role="alert">{move || message.get()}</p>
                </Show>
                <button type="submit">{move || if editing.get().is_some() { texts().save_phrase } else { texts().add_phrase }}</button>
            </form>
            <ul class="kefu-phrase-list">
                <For each=move || phrases.list.get() key=|phrase| phrase.clone() children=move |phrase| {
                    let remove = remove.clone();
                    let (id, id_for_delete) = (phrase.id.clone(), phrase.id.clone());
                    let (phrase_category, phrase_content) = (phrase.category.clone(), phrase.content.clone());
                    let label = phrase.content.clone();
                    let editable = !phrase.shared;
                    view! {
                        <li>
                            <span class="kefu-phrase-category">{phrase.category.clone()}</span>
                            <span class="kefu-phrase-content">{phrase.content.clone()}</span>
                            {move || (!editable).then(|| view! { <span class="kefu-phrase-shared">{texts().shared_phrase}</span> })}
                            <Show when=move || editable>
                                <button type="button" aria-label=format!("{}: {label}", texts().edit_phrase) on:click={
                                    let (id, phrase_category, phrase_content) = (id.clone(), phrase_category.clone(), phrase_content.clone());
                                    move |_| {
                                        editing.set(Some(id.clone()));
                                        category.set(phrase_category.clone());
                                        content.set(phrase_content.clone());
                                    }
                                }>{move || texts().edit_phrase}</button>
                                <button type="button" aria-label=format!("{}: {}", texts().delete_phrase, phrase.content) on:click={
                                    let (remove, id) = (remove.clone(), id_for_delete.clone());
                                    move |_| remove(id.clone())
                                }>{move || texts().delete_phrase}</button>
                            </Show>
                        </li>
                    }
                }/>
            </ul>
        </section>
    }
}
