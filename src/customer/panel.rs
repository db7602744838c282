//! The customer panel (inside the iframe): header, transcript, transfer button, composer.
//! It reads the [`CustomerSession`] signal and sends frames through a [`Backend`] (a Kefu
//! server over WebSocket, or the in-browser one); the backend is wired in [`connect`], never
//! in the view.

use leptos::prelude::*;
use web_sys::KeyboardEvent;

use std::rc::Rc;

use kefu_core::config::ServiceMode;
use kefu_core::conversation::Phase;
use kefu_core::feedback::Verdict;
use kefu_core::protocol::{CustomerFrame, ServerFrame, TypingParty};

use crate::customer::backend::{self, Backend, Listener};
use crate::customer::host::{self, HostMessage};
use crate::customer::session::CustomerSession;
use crate::follow::Follow;
use crate::i18n::{Lang, fill, format_opening};
use crate::richtext::{self, Block, Inline};
use crate::transcript::{Side, Viewer, clock_time, lines, mark_days};
use crate::typing::TypingSender;

/// Starts `backend` and wires its frames into `session`: `hello` on every (re)connection,
/// then, after `welcome`, every message still waiting for its ack, in the order typed.
fn connect(session: RwSignal<CustomerSession>, backend: Rc<dyn Backend>) {
    let on_open = {
        let backend = backend.clone();
        move || {
            let hello = session.try_update_untracked(CustomerSession::hello_sent);
            let Some(hello) = hello else { return };
            backend.send(&hello);
        }
    };
    let on_frame = {
        let backend = backend.clone();
        move |frame: ServerFrame| {
            let is_welcome = matches!(frame, ServerFrame::Welcome { .. });
            let agent_typing = matches!(
                frame,
                ServerFrame::Typing {
                    from: TypingParty::Agent,
                    typing: true,
                    ..
                }
            );
            let mut news = false;
            let mut reconnect = false;
            session.update(|session| {
                news = session.on_frame(frame);
                reconnect = std::mem::take(&mut session.reconnect_now);
            });
            if reconnect {
                // A gap in a conversation's seqs: resume to fill it (PROTOCOL.md, "Events").
                backend.reconnect();
                return;
            }
            if agent_typing {
                let count = session.with_untracked(|session| session.agent_typing_count);
                crate::typing::forget_later(move || {
                    session.try_update(|session| {
                        if session.agent_typing_count == count {
                            session.agent_typing = false;
                        }
                    });
                });
            }
            if is_welcome {
                let token = session.with_untracked(|session| session.visitor_token.clone());
                if let Some(token) = token.filter(|_| backend.remembers_visitor()) {
                    crate::storage::set_local(crate::storage::VISITOR_TOKEN, &token);
                }
                for frame in session.with_untracked(CustomerSession::resend) {
                    backend.send(&frame);
                }
            }
            if news {
                host::notify_new_message(session);
            }
        }
    };
    let on_close = move || session.update(CustomerSession::disconnected);
    backend.start(Listener {
        on_open: Box::new(on_open),
        on_frame: Box::new(on_frame),
        on_close: Box::new(on_close),
    });
}

/// A client message id: random enough that two tabs of one visitor never collide.
pub fn new_client_msg_id() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{:x}-{:x}", js_sys::Date::now() as u64, random)
}

/// The whole customer panel. `backend` defaults to the one the URL names (`?backend=local`
/// for the in-browser backend, else the Kefu server over WebSocket); tests pass their own.
#[component]
pub fn CustomerPanel(#[prop(optional)] backend: Option<Rc<dyn Backend>>) -> impl IntoView {
    let params = crate::page_params();
    let backend = backend.unwrap_or_else(|| backend::from_name(params.backend.as_deref()));
    let lang = RwSignal::new(Lang::from_tag(
        &params.lang.clone().unwrap_or_else(crate::browser_language),
    ));
    let session = RwSignal::new(CustomerSession {
        visitor_token: backend
            .remembers_visitor()
            .then(|| crate::storage::get_local(crate::storage::VISITOR_TOKEN))
            .flatten(),
        group: params.group.clone(),
        locale: lang.get_untracked().tag().to_owned(),
        ..CustomerSession::default()
    });
    connect(session, backend.clone());
    let backend = StoredValue::new_local(backend);
    // Unique per panel, so that several panels on one page (the component tests) keep their
    // own dialog label.
    let title_id = {
        static PANELS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        format!(
            "kefu-title-{}",
            PANELS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    };
    let draft = RwSignal::new(String::new());
    let composer = NodeRef::<leptos::html::Textarea>::new();
    // The transcript jumps to its bottom once the new lines are laid out (the next frame).
    // Only the transcript moves, never the host page around the frame (as `scrollIntoView`
    // would), and it jumps rather than glides, so a chip or a link is where it is drawn the
    // moment it is drawn. When its box shrinks (the 转人工 button coming back under it after
    // an end) it stays at the bottom too, so the last line is never hidden.
    let follow = Follow::new();
    let scroll_to_latest = move || follow.to_end();
    // Opening the panel puts the visitor in the composer, ready to type, with the latest
    // line in sight (lines that came while the panel was hidden had no height to scroll).
    let focus_composer = move || {
        scroll_to_latest();
        request_animation_frame(move || {
            if let Some(composer) = composer.get_untracked() {
                let _ = composer.focus();
            }
        })
    };
    host::listen(params.host.clone(), session, lang, backend, focus_composer);
    // The document's language follows the panel's, for screen readers and fonts.
    Effect::new(move |_| {
        let tag = lang.get().tag();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", tag);
        }
    });

    let send_text = move |text: String| {
        let frame = session
            .try_update(|session| session.type_message(new_client_msg_id(), &text))
            .flatten();
        if let Some(frame) = frame {
            backend.with_value(|backend| backend.send(&frame));
        }
    };
    // The agent sees "typing…" only while a person serves the chat; the text itself is never
    // sent before Enter.
    let typing = TypingSender::new(move |typing| {
        if typing && session.with_untracked(|session| session.phase()) != Phase::Human {
            return;
        }
        backend.with_value(|backend| backend.send(&CustomerFrame::Typing { typing }));
    });
    let submit = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        typing.stop();
        send_text(text);
    };
    let on_keydown = move |event: KeyboardEvent| {
        // While an IME is composing (Chinese input), Enter picks a candidate: never send then.
        if event.key() == "Enter"
            && !event.shift_key()
            && !event.is_composing()
            && event.key_code() != 229
        {
            event.prevent_default();
            submit();
        }
    };
    let transfer = move |_| {
        let frame = CustomerFrame::Transfer {
            client_msg_id: Some(new_client_msg_id()),
        };
        backend.with_value(|backend| backend.send(&frame));
    };
    // Escape anywhere in the panel closes it, as it would close any dialog.
    let on_panel_keydown = move |event: KeyboardEvent| {
        if event.key() == "Escape" {
            event.prevent_default();
            host::post_to_host(&HostMessage::Close);
        }
    };
    let texts = move || lang.get().texts();
    let title = move || {
        session.with(|session| {
            if session.group_display_name.is_empty() {
                texts().chat_title_fallback.to_owned()
            } else {
                session.group_display_name.clone()
            }
        })
    };
    let status = move || {
        let texts = texts();
        session.with(|session| {
            if !session.connected {
                return texts.state_connecting.to_owned();
            }
            match session.phase() {
                // In human_only the robot never answers: the visitor waits for a person.
                Phase::NotStarted | Phase::Robot
                    if session.service_mode == Some(ServiceMode::HumanOnly) =>
                {
                    texts.state_human_only.to_owned()
                }
                Phase::NotStarted | Phase::Robot => texts.state_robot.to_owned(),
                Phase::Queued => match session.queue_position {
                    Some(position) => fill(texts.state_position, "n", &position.to_string()),
                    None => texts.state_waiting.to_owned(),
                },
                Phase::Human => {
                    let name = session
                        .current()
                        .and_then(|log| log.state.agent.as_ref())
                        .map(|agent| agent.agent_name.clone());
                    fill(texts.state_with_agent, "name", &name.unwrap_or_default())
                }
                Phase::Ended => texts.state_ended.to_owned(),
            }
        })
    };
    let show_transfer = move || {
        session.with(|session| {
            session.transfer_button
                && matches!(
                    session.phase(),
                    Phase::NotStarted | Phase::Robot | Phase::Ended
                )
        })
    };
    // 结束会话 while waiting for or talking with a person, after a confirmation.
    let show_end =
        move || session.with(|session| matches!(session.phase(), Phase::Queued | Phase::Human));
    let confirming_end = RwSignal::new(false);
    let end_chat = move |_| {
        confirming_end.set(false);
        backend.with_value(|backend| backend.send(&CustomerFrame::End {}));
    };
    let transcript = move || {
        let texts = texts();
        let mut lines = session.with(|session| {
            session
                .conversations
                .iter()
                .flat_map(|log| lines(log, Viewer::Customer, texts))
                .collect::<Vec<_>>()
        });
        mark_days(&mut lines, js_sys::Date::now() as i64, lang.get());
        lines
    };
    // The visitor's 有用 / 没用 per answer (conversation id, seq), shown pressed; a second
    // vote on an answer replaces the first (kefu_core::feedback).
    let votes = RwSignal::new(std::collections::HashMap::<(String, u64), Verdict>::new());
    let vote = move |conversation_id: String, seq: u64, verdict: Verdict| {
        votes.update(|votes| {
            votes.insert((conversation_id.clone(), seq), verdict);
        });
        let frame = CustomerFrame::Vote {
            conversation_id,
            seq,
            verdict,
        };
        backend.with_value(|backend| backend.send(&frame));
        // The offer after 没用 grows the transcript: a reader at the bottom stays there.
        if follow.at_bottom() {
            follow.to_end();
        }
    };
    let pending = move || session.with(|session| session.pending.clone());
    // Every change of the session shows the latest line; while the visitor sees the panel,
    // the agent learns that their messages were read.
    Effect::new(move |_| {
        session.track();
        scroll_to_latest();
        if host::panel_seen()
            && let Some(frame) = session
                .try_update_untracked(CustomerSession::read_frame)
                .flatten()
        {
            backend.with_value(|backend| backend.send(&frame));
        }
    });

    let title_id_for_dialog = title_id.clone();
    view! {
        <section class="kefu-panel" role="dialog" aria-modal="false" aria-labelledby=title_id_for_dialog on:keydown=on_panel_keydown>
            <header class="kefu-header">
                <div>
                    <h1 id=title_id class="kefu-title">{title}</h1>
                    <p class="kefu-status" role="status">{status}</p>
                </div>
                <button type="button" class="kefu-icon-button" aria-label=move || texts().language_switch
                    on:click=move |_| host::switch_language(lang.get_untracked().other(), lang, session, backend)>{move || texts().language_switch}</button>
                <button type="button" class="kefu-icon-button" aria-label=move || texts().close_chat
                    on:click=move |_| host::post_to_host(&HostMessage::Close)>"×"</button>
            </header>
            <div class="kefu-transcript" role="log" aria-live="polite" aria-label=move || texts().transcript tabindex="0"
                node_ref=follow.node on:scroll=move |_| follow.on_scroll()>
                // The operator's greeting (widget settings), as text, above the conversation.
                {move || {
                    let greeting = session.with(|session| session.greeting.clone());
                    (!greeting.trim().is_empty()).then(|| view! { <p class="kefu-line theirs kefu-greeting"><span class="kefu-text">{greeting}</span></p> })
                }}
                <For each=transcript key=|line| line.key.clone() children=move |line| {
                    let class = match line.side { Side::Mine => "kefu-line mine", Side::Theirs => "kefu-line theirs", Side::Notice => "kefu-line notice" };
                    let suggestions = line.suggestions.clone();
                    let has_suggestions = !suggestions.is_empty();
                    let time = clock_time(line.at, lang.get_untracked());
                    let answer = (line.conversation_id.clone(), line.seq);
                    let verdict = {
                        let answer = answer.clone();
                        Memo::new(move |_| votes.with(|votes| votes.get(&answer).copied()))
                    };
                    // After 没用 the suggestions move into the offer below the buttons.
                    let offering = move || verdict.get() == Some(Verdict::NotHelpful);
                    let chips = move |suggestions: Vec<kefu_core::conversation::Suggestion>| {
                        suggestions.into_iter().map(|suggestion| {
                            let question = suggestion.question.clone();
                            view! { <button type="button" class="kefu-chip" on:click=move |_| send_text(question.clone())>{suggestion.question.clone()}</button> }
                        }).collect_view()
                    };
                    let offer_suggestions = suggestions.clone();
                    view! {
                        {line.day.clone().map(|day| view! { <p class="kefu-day">{day}</p> })}
                        <div class=class>
                            {(line.side != Side::Notice).then(|| view! { <span class="kefu-author">{line.author.clone()}" "<time class="kefu-time">{time}</time></span> })}
                            {if line.rich { rich_text(&line.text).into_any() } else { view! { <p class="kefu-text">{line.text.clone()}</p> }.into_any() }}
                            {line.opens_at.map(|at| view! {
                                <p class="kefu-text kefu-opens">{move || fill(texts().off_hours_next_opening, "when", &format_opening(at, js_sys::Date::now() as i64, lang.get()))}</p>
                            })}
                            {move || (has_suggestions && !offering()).then(|| view! {
                                <div class="kefu-suggestions">
                                    <span class="kefu-suggestions-label">{move || texts().did_you_mean}</span>
                                    {chips(suggestions.clone())}
                                </div>
                            })}
                            {line.votable.then(|| {
                                let (helpful_answer, unhelpful_answer) = (answer.clone(), answer.clone());
                                view! {
                                    <div class="kefu-vote" role="group" aria-label=move || texts().was_it_helpful>
                                        <button type="button" class="kefu-vote-button"
                                            aria-pressed=move || (verdict.get() == Some(Verdict::Helpful)).to_string()
                                            on:click=move |_| vote(helpful_answer.0.clone(), helpful_answer.1, Verdict::Helpful)>{move || texts().helpful}</button>
                                        <button type="button" class="kefu-vote-button"
                                            aria-pressed=move || (verdict.get() == Some(Verdict::NotHelpful)).to_string()
                                            on:click=move |_| vote(unhelpful_answer.0.clone(), unhelpful_answer.1, Verdict::NotHelpful)>{move || texts().not_helpful}</button>
                                    </div>
                                }
                            })}
                            {move || offering().then(|| {
                                let offers_person = show_transfer();
                                let nothing = offer_suggestions.is_empty() && !offers_person;
                                view! {
                                    <div class="kefu-suggestions kefu-offer" role="group" aria-label=move || texts().not_helpful_offer>
                                        <span class="kefu-suggestions-label">{move || if nothing { texts().not_helpful_rephrase } else { texts().not_helpful_offer }}</span>
                                        {chips(offer_suggestions.clone())}
                                        {offers_person.then(|| view! {
                                            <button type="button" class="kefu-chip" on:click=transfer>{move || texts().talk_to_person}</button>
                                        })}
                                    </div>
                                }
                            })}
                        </div>
                    }
                }/>
                <For each=pending key=|pending| (pending.client_msg_id.clone(), pending.error.is_some()) children=move |pending| {
                    let failed = pending.error.is_some();
                    view! {
                        <div class="kefu-line mine pending">
                            <span class="kefu-author">{move || texts().you}</span>
                            <p class="kefu-text">{pending.text.clone()}</p>
                            <span class="kefu-pending-state">{move || if failed { texts().not_sent } else { texts().sending }}</span>
                        </div>
                    }
                }/>
                <Show when=move || session.with(|session| session.agent_typing)>
                    <p class="kefu-typing">{move || texts().typing}</p>
                </Show>
            </div>
            <Show when=show_transfer>
                <button type="button" class="kefu-transfer" on:click=transfer>{move || texts().talk_to_person}</button>
            </Show>
            <Show when=move || show_end() && !confirming_end.get()>
                <button type="button" class="kefu-pill" on:click=move |_| confirming_end.set(true)>{move || texts().end_chat}</button>
            </Show>
            <Show when=move || show_end() && confirming_end.get()>
                <div class="kefu-confirm" role="group" aria-label=move || texts().end_chat_confirm>
                    <span>{move || texts().end_chat_confirm}</span>
                    <button type="button" class="kefu-confirm-yes" on:click=end_chat>{move || texts().end_chat_yes}</button>
                    <button type="button" class="kefu-pill" on:click=move |_| confirming_end.set(false)>{move || texts().end_chat_no}</button>
                </div>
            </Show>
            <form class="kefu-composer" on:submit=move |event| { event.prevent_default(); submit(); }>
                <textarea node_ref=composer class="kefu-input" rows="2" aria-label=move || texts().message_input
                    placeholder=move || texts().message_placeholder
                    prop:value=move || draft.get()
                    on:input:target=move |event| {
                        let text = event.target().value();
                        typing.input(&text);
                        draft.set(text);
                    }
                    on:keydown=on_keydown></textarea>
                <button type="submit" class="kefu-send">{move || texts().send}</button>
            </form>
        </section>
    }
}

/// A robot answer as DOM nodes: paragraphs with line breaks, lists, and links that open in a
/// new tab without giving the new page a handle on this one. Text goes into text nodes only.
fn rich_text(text: &str) -> impl IntoView + use<> {
    let inline_view = |inline: Inline| match inline {
        Inline::Text(text) => text.into_any(),
        Inline::Link { text, href } => {
            view! { <a href=href rel="noopener noreferrer" target="_blank">{text}</a> }.into_any()
        }
    };
    let blocks = richtext::parse(text)
        .into_iter()
        .map(|block| match block {
            Block::Paragraph(lines) => {
                let n_lines = lines.len();
                let children = lines
                    .into_iter()
                    .enumerate()
                    .map(|(index, line)| {
                        let line = line.into_iter().map(inline_view).collect_view();
                        view! { {line} {(index + 1 < n_lines).then(|| view! { <br/> })} }
                    })
                    .collect_view();
                view! { <p>{children}</p> }.into_any()
            }
            Block::List(items) => {
                let items = items
                    .into_iter()
                    .map(|item| view! { <li>{item.into_iter().map(inline_view).collect_view()}</li> })
                    .collect_view();
                view! { <ul>{items}</ul> }.into_any()
            }
        })
        .collect_view();
    view! { <div class="kefu-text kefu-rich">{blocks}</div> }
}
