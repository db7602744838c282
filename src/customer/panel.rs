//! The customer panel (inside the iframe): header, transcript, transfer button, composer.
//! It reads the [`CustomerSession`] signal and sends frames through the socket; the socket
//! lives in [`connect`], never in the view.

use leptos::prelude::*;
use web_sys::KeyboardEvent;

use kefu_core::conversation::Phase;
use kefu_core::protocol::{self, CustomerFrame, ServerFrame};

use crate::customer::host::{self, HostMessage};
use crate::customer::session::CustomerSession;
use crate::i18n::{fill, Lang};
use crate::socket::{same_origin_url, Handlers, Socket};
use crate::transcript::{lines, Side, Viewer};

/// Opens the customer socket and wires its frames into `session`.
fn connect(session: RwSignal<CustomerSession>) -> Socket {
    let socket_cell: std::rc::Rc<std::cell::RefCell<Option<Socket>>> = Default::default();
    let on_open = {
        let socket_cell = socket_cell.clone();
        move || {
            let hello = session.with_untracked(CustomerSession::hello);
            if let Some(socket) = socket_cell.borrow().as_ref() {
                socket.send(&protocol::encode_customer_frame(&hello));
            }
        }
    };
    let on_text = {
        let socket_cell = socket_cell.clone();
        move |text: String| {
            let Ok(frame) = protocol::decode_server_frame(&text) else { return };
            let is_welcome = matches!(frame, ServerFrame::Welcome { .. });
            let mut news = false;
            session.update(|session| news = session.on_frame(frame));
            if is_welcome {
                let token = session.with_untracked(|session| session.visitor_token.clone());
                if let Some(token) = token {
                    crate::storage::set_local(crate::storage::VISITOR_TOKEN, &token);
                }
                let frames = session.with_untracked(CustomerSession::resend);
                if let Some(socket) = socket_cell.borrow().as_ref() {
                    for frame in frames {
                        socket.send(&protocol::encode_customer_frame(&frame));
                    }
                }
            }
            if news {
                host::notify_new_message(session);
            }
        }
    };
    let on_close = move || session.update(CustomerSession::disconnected);
    let socket = Socket::connect(
        same_origin_url("/ws/customer"),
        Handlers { on_open: Box::new(on_open), on_text: Box::new(on_text), on_close: Box::new(on_close) },
    );
    *socket_cell.borrow_mut() = Some(socket.clone());
    socket
}

/// A client message id: random enough that two tabs of one visitor never collide.
pub fn new_client_msg_id() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{:x}-{:x}", js_sys::Date::now() as u64, random)
}

/// The whole customer panel.
#[component]
pub fn CustomerPanel() -> impl IntoView {
    let params = crate::page_params();
    let lang = RwSignal::new(Lang::from_tag(&params.lang.clone().unwrap_or_else(crate::browser_language)));
    let session = RwSignal::new(CustomerSession {
        visitor_token: crate::storage::get_local(crate::storage::VISITOR_TOKEN),
        group: params.group.clone(),
        locale: lang.get_untracked().tag().to_owned(),
        ..CustomerSession::default()
    });
    let socket = StoredValue::new_local(connect(session));
    host::listen(params.host.clone(), session, lang, socket);
    let draft = RwSignal::new(String::new());
    let composer = NodeRef::<leptos::html::Textarea>::new();

    let send_text = move |text: String| {
        let frame = session.try_update(|session| session.type_message(new_client_msg_id(), &text)).flatten();
        if let Some(frame) = frame {
            socket.with_value(|socket| socket.send(&protocol::encode_customer_frame(&frame)));
        }
    };
    let submit = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        send_text(text);
    };
    let on_keydown = move |event: KeyboardEvent| {
        // While an IME is composing (Chinese input), Enter picks a candidate: never send then.
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() && event.key_code() != 229 {
            event.prevent_default();
            submit();
        }
    };
    let transfer = move |_| {
        let frame = CustomerFrame::Transfer { client_msg_id: Some(new_client_msg_id()) };
        socket.with_value(|socket| socket.send(&protocol::encode_customer_frame(&frame)));
    };
    let texts = move || lang.get().texts();
    let title = move || {
        session.with(|session| {
            if session.group_display_name.is_empty() { texts().chat_title_fallback.to_owned() } else { session.group_display_name.clone() }
        })
    };
    let status = move || {
        let texts = texts();
        session.with(|session| {
            if !session.connected {
                return texts.state_connecting.to_owned();
            }
            match session.phase() {
                Phase::NotStarted | Phase::Robot => texts.state_robot.to_owned(),
                Phase::Queued => match session.queue_position {
                    Some(position) => fill(texts.state_position, "n", &position.to_string()),
                    None => texts.state_waiting.to_owned(),
                },
                Phase::Human => {
                    let name = session.current().and_then(|log| log.state.agent.as_ref()).map(|agent| agent.agent_name.clone());
                    fill(texts.state_with_agent, "name", &name.unwrap_or_default())
                }
                Phase::Ended => texts.state_ended.to_owned(),
            }
        })
    };
    let show_transfer = move || {
        session.with(|session| session.transfer_button && matches!(session.phase(), Phase::NotStarted | Phase::Robot | Phase::Ended))
    };
    let transcript = move || {
        let texts = texts();
        session.with(|session| session.conversations.iter().flat_map(|log| lines(log, Viewer::Customer, texts)).collect::<Vec<_>>())
    };
    let pending = move || session.with(|session| session.pending.clone());
    let transcript_end = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        session.track();
        if let Some(end) = transcript_end.get() {
            end.scroll_into_view();
        }
    });

    view! {
        <section class="kefu-panel" role="dialog" aria-modal="false" aria-labelledby="kefu-title">
            <header class="kefu-header">
                <div>
                    <h1 id="kefu-title" class="kefu-title">{title}</h1>
                    <p class="kefu-status" role="status">{status}</p>
                </div>
                <button type="button" class="kefu-icon-button" aria-label=move || texts().language_switch
                    on:click=move |_| lang.update(|lang| *lang = lang.other())>{move || texts().language_switch}</button>
                <button type="button" class="kefu-icon-button" aria-label=move || texts().close_chat
                    on:click=move |_| host::post_to_host(&HostMessage::Close)>"×"</button>
            </header>
            <div class="kefu-transcript" role="log" aria-live="polite" aria-label=move || texts().transcript>
                <For each=transcript key=|line| line.key.clone() children=move |line| {
                    let class = match line.side { Side::Mine => "kefu-line mine", Side::Theirs => "kefu-line theirs", Side::Notice => "kefu-line notice" };
                    let suggestions = line.suggestions.clone();
                    let has_suggestions = !suggestions.is_empty();
                    view! {
                        <div class=class>
                            {(line.side != Side::Notice).then(|| view! { <span class="kefu-author">{line.author.clone()}</span> })}
                            <p class="kefu-text">{line.text.clone()}</p>
                            {has_suggestions.then(|| view! {
                                <div class="kefu-suggestions">
                                    <span class="kefu-suggestions-label">{move || texts().did_you_mean}</span>
                                    {suggestions.into_iter().map(|suggestion| {
                                        let question = suggestion.question.clone();
                                        view! { <button type="button" class="kefu-chip" on:click=move |_| send_text(question.clone())>{suggestion.question.clone()}</button> }
                                    }).collect_view()}
                                </div>
                            })}
                        </div>
                    }
                }/>
                <For each=pending key=|pending| pending.client_msg_id.clone() children=move |pending| {
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
                <div node_ref=transcript_end></div>
            </div>
            <Show when=show_transfer>
                <button type="button" class="kefu-transfer" on:click=transfer>{move || texts().talk_to_person}</button>
            </Show>
            <form class="kefu-composer" on:submit=move |event| { event.prevent_default(); submit(); }>
                <textarea node_ref=composer class="kefu-input" rows="2" aria-label=move || texts().message_input
                    placeholder=move || texts().message_placeholder
                    prop:value=move || draft.get()
                    on:input:target=move |event| draft.set(event.target().value())
                    on:keydown=on_keydown></textarea>
                <button type="submit" class="kefu-send">{move || texts().send}</button>
            </form>
        </section>
    }
}
