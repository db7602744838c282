//! The agent workspace: login, presence and load, the conversation list, the conversation
//! with its composer. Components read the [`AgentSession`] signal; the socket lives in
//! [`connect`].

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use web_sys::KeyboardEvent;

use kefu_core::protocol::{self, AgentFrame, AgentStatus, ServerFrame};

use crate::agent::session::AgentSession;
use crate::customer::panel::new_client_msg_id;
use crate::i18n::Lang;
use crate::socket::{same_origin_url, Handlers, Socket};
use crate::storage;
use crate::transcript::{lines, Side, Viewer};

#[derive(Serialize)]
struct LoginRequest<'a> {
    login: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
struct LoginResponse {
    token: String,
}

/// The agent app: the login form until a session token exists, then the workspace.
#[component]
pub fn AgentApp() -> impl IntoView {
    let lang = RwSignal::new(Lang::from_tag(&crate::browser_language()));
    let token = RwSignal::new(storage::get_session(storage::AGENT_TOKEN));
    Effect::new(move |_| {
        let title = lang.get().texts().workspace_title;
        if let Some(document) = web_sys::window().and_then(|window| window.document()) {
            document.set_title(&format!("Kefu · {title}"));
        }
    });
    view! {
        <div class="kefu-agent">
            {move || match token.get() {
                None => view! { <LoginForm lang token/> }.into_any(),
                Some(session_token) => view! { <Workspace lang token session_token/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn LoginForm(lang: RwSignal<Lang>, token: RwSignal<Option<String>>) -> impl IntoView {
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let failed = RwSignal::new(false);
    let texts = move || lang.get().texts();
    let submit = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        let (login, password) = (login.get_untracked(), password.get_untracked());
        spawn_local(async move {
            let request = gloo_net::http::Request::post("/api/agent/login").json(&LoginRequest { login: &login, password: &password });
            let response = match request {
                Ok(request) => request.send().await.ok(),
                Err(_) => None,
            };
            match response {
                Some(response) if response.ok() => {
                    if let Ok(body) = response.json::<LoginResponse>().await {
                        storage::set_session(storage::AGENT_TOKEN, &body.token);
                        token.set(Some(body.token));
                    }
                }
                _ => failed.set(true),
            }
        });
    };
    view! {
        <main class="kefu-login">
            <form class="kefu-login-form" on:submit=submit aria-labelledby="kefu-login-heading">
                <h1 id="kefu-login-heading">{move || texts().login_heading}</h1>
                <label>{move || texts().login_name}
                    <input type="text" name="login" autocomplete="username" required
                        on:input:target=move |event| login.set(event.target().value())/>
                </label>
                <label>{move || texts().password}
                    <input type="password" name="password" autocomplete="current-password" required
                        on:input:target=move |event| password.set(event.target().value())/>
                </label>
                <Show when=move || failed.get()>
                    <p class="kefu-error" role="alert">{move || texts().login_failed}</p>
                </Show>
                <button type="submit">{move || texts().log_in}</button>
                <button type="button" class="kefu-link-button" on:click=move |_| lang.update(|lang| *lang = lang.other())>
                    {move || texts().language_switch}
                </button>
            </form>
        </main>
    }
}

/// Opens the agent socket and wires its frames into `session`.
fn connect(session: RwSignal<AgentSession>) -> Socket {
    let socket_cell: std::rc::Rc<std::cell::RefCell<Option<Socket>>> = Default::default();
    let on_open = {
        let socket_cell = socket_cell.clone();
        move || {
            let hello = session.with_untracked(AgentSession::hello);
            if let Some(socket) = socket_cell.borrow().as_ref() {
                socket.send(&protocol::encode_agent_frame(&hello));
            }
        }
    };
    let on_text = {
        let socket_cell = socket_cell.clone();
        move |text: String| {
            let Ok(frame) = protocol::decode_server_frame(&text) else { return };
            let is_welcome = matches!(frame, ServerFrame::AgentWelcome { .. });
            session.update(|session| {
                session.on_frame(frame);
            });
            if is_welcome {
                let frames = session.with_untracked(AgentSession::resend);
                if let Some(socket) = socket_cell.borrow().as_ref() {
                    for frame in frames {
                        socket.send(&protocol::encode_agent_frame(&frame));
                    }
                }
            }
        }
    };
    let on_close = move || session.update(AgentSession::disconnected);
    let socket = Socket::connect(
        same_origin_url("/ws/agent"),
        Handlers { on_open: Box::new(on_open), on_text: Box::new(on_text), on_close: Box::new(on_close) },
    );
    *socket_cell.borrow_mut() = Some(socket.clone());
    socket
}

#[component]
fn Workspace(lang: RwSignal<Lang>, token: RwSignal<Option<String>>, session_token: String) -> impl IntoView {
    let session = RwSignal::new(AgentSession::new(session_token.clone()));
    let socket = StoredValue::new_local(connect(session));
    on_cleanup(move || socket.with_value(Socket::stop));
    let texts = move || lang.get().texts();
    let send_frame = move |frame: AgentFrame| {
        socket.with_value(|socket| socket.send(&protocol::encode_agent_frame(&frame)));
    };
    let set_status = move |status: AgentStatus| send_frame(AgentFrame::SetStatus { status });
    Effect::new(move |_| {
        if session.with(|session| session.unauthorized) {
            storage::remove_session(storage::AGENT_TOKEN);
            token.set(None);
        }
    });
    let log_out = move |_| {
        let session_token = session.with_untracked(|session| session.session_token.clone());
        spawn_local(async move {
            let _ = gloo_net::http::Request::post("/api/agent/logout")
                .header("Authorization", &format!("Bearer {session_token}"))
                .send()
                .await;
        });
        socket.with_value(Socket::stop);
        storage::remove_session(storage::AGENT_TOKEN);
        token.set(None);
    };
    let status_text = move || {
        let texts = texts();
        match session.with(AgentSession::status) {
            AgentStatus::Online => texts.status_online,
            AgentStatus::Away => texts.status_away,
            AgentStatus::Offline => texts.status_offline,
        }
    };
    let load = move || {
        session.with(|session| {
            let max = session.profile.as_ref().map_or(0, |profile| profile.max_concurrent_chats);
            format!("{} / {}", session.active_count(), max)
        })
    };
    let name = move || session.with(|session| session.profile.as_ref().map(|profile| profile.display_name.clone()).unwrap_or_default());

    view! {
        <header class="kefu-agent-header">
            <h1>{move || texts().workspace_title}</h1>
            <span class="kefu-agent-name">{name}</span>
            <span role="status" aria-label=move || texts().status>{status_text}</span>
            <span aria-label=move || texts().load>{move || texts().load}" "{load}</span>
            <div role="group" aria-label=move || texts().status class="kefu-status-buttons">
                <button type="button" aria-pressed=move || (session.with(AgentSession::status) == AgentStatus::Online).to_string()
                    on:click=move |_| set_status(AgentStatus::Online)>{move || texts().go_online}</button>
                <button type="button" aria-pressed=move || (session.with(AgentSession::status) == AgentStatus::Away).to_string()
                    on:click=move |_| set_status(AgentStatus::Away)>{move || texts().go_away}</button>
                <button type="button" aria-pressed=move || (session.with(AgentSession::status) == AgentStatus::Offline).to_string()
                    on:click=move |_| set_status(AgentStatus::Offline)>{move || texts().go_offline}</button>
            </div>
            <button type="button" on:click=move |_| lang.update(|lang| *lang = lang.other())>{move || texts().language_switch}</button>
            <button type="button" on:click=log_out>{move || texts().log_out}</button>
        </header>
        <div class="kefu-agent-main">
            <ConversationList lang session/>
            <ConversationPane lang session socket/>
        </div>
    }
}

#[component]
fn ConversationList(lang: RwSignal<Lang>, session: RwSignal<AgentSession>) -> impl IntoView {
    let texts = move || lang.get().texts();
    let items = move || {
        session.with(|session| {
            session
                .conversations
                .iter()
                .map(|conversation| {
                    (
                        conversation.summary.conversation_id.clone(),
                        conversation.customer_name(),
                        conversation.last_message(),
                        conversation.unread,
                        session.selected.as_deref() == Some(conversation.summary.conversation_id.as_str()),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <nav class="kefu-conversation-list" aria-label=move || texts().conversation_list>
            <h2>{move || texts().conversation_list}</h2>
            <Show when=move || session.with(|session| session.conversations.is_empty())>
                <p class="kefu-empty">{move || texts().no_conversations}</p>
            </Show>
            <ul>
                {move || items().into_iter().map(|(id, customer, last, unread, selected)| {
                    let label = format!("{customer}: {last}");
                    view! {
                        <li>
                            <button type="button" class="kefu-conversation-item" aria-current=selected.then_some("true") aria-label=label
                                on:click=move |_| session.update(|session| session.select(&id))>
                                <span class="kefu-customer-name">{customer.clone()}</span>
                                <span class="kefu-last-message">{last.clone()}</span>
                                {(unread > 0).then(|| view! { <span class="kefu-unread">{unread}</span> })}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </nav>
    }
}

#[component]
fn ConversationPane(lang: RwSignal<Lang>, session: RwSignal<AgentSession>, socket: StoredValue<Socket, LocalStorage>) -> impl IntoView {
    let texts = move || lang.get().texts();
    let send_frame = move |frame: AgentFrame| {
        socket.with_value(|socket| socket.send(&protocol::encode_agent_frame(&frame)));
    };
    let draft = RwSignal::new(String::new());
    let selected_id = move || session.with(|session| session.selected.clone());
    let transcript = move || {
        let texts = texts();
        session.with(|session| session.selected().map(|conversation| lines(&conversation.log, Viewer::Agent, texts)).unwrap_or_default())
    };
    let active = move || session.with(|session| session.selected().is_some_and(|conversation| conversation.is_active(&session.agent_id())));
    let submit = move || {
        let Some(conversation_id) = selected_id() else { return };
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        let frame = session.try_update(|session| session.reply(&conversation_id, new_client_msg_id(), &text)).flatten();
        if let Some(frame) = frame {
            send_frame(frame);
        }
    };
    let on_keydown = move |event: KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() && event.key_code() != 229 {
            event.prevent_default();
            submit();
        }
    };
    let end = move |_| {
        if let Some(conversation_id) = selected_id() {
            send_frame(AgentFrame::End { conversation_id });
        }
    };
    let customer_typing = move || session.with(|session| session.selected().is_some_and(|conversation| conversation.customer_typing));
    view! {
        <section class="kefu-conversation" aria-label=move || texts().transcript>
            <Show when=move || selected_id().is_some() fallback=move || view! { <p class="kefu-empty">{move || texts().pick_conversation}</p> }>
                <div class="kefu-transcript" role="log" aria-live="polite" aria-label=move || texts().transcript>
                    <For each=transcript key=|line| line.key.clone() children=move |line| {
                        let class = match line.side { Side::Mine => "kefu-line mine", Side::Theirs => "kefu-line theirs", Side::Notice => "kefu-line notice" };
                        view! {
                            <div class=class>
                                {(line.side != Side::Notice).then(|| view! { <span class="kefu-author">{line.author.clone()}</span> })}
                                <p class="kefu-text">{line.text.clone()}</p>
                            </div>
                        }
                    }/>
                    <Show when=customer_typing>
                        <p class="kefu-typing">{move || texts().typing}</p>
                    </Show>
                </div>
                <form class="kefu-composer" on:submit=move |event| { event.prevent_default(); submit(); }>
                    <textarea class="kefu-input" rows="3" aria-label=move || texts().reply_input
                        prop:disabled=move || !active()
                        prop:value=move || draft.get()
                        on:input:target=move |event| draft.set(event.target().value())
                        on:keydown=on_keydown></textarea>
                    <button type="submit" prop:disabled=move || !active()>{move || texts().send}</button>
                    <button type="button" class="kefu-end" prop:disabled=move || !active() on:click=end>{move || texts().end_conversation}</button>
                </form>
            </Show>
        </section>
    }
}
