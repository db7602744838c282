//! The agent workspace: login, presence and load, the conversation list, the conversation
//! with its composer. Components read the [`AgentSession`] signal; the socket lives in
//! [`connect`].

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use web_sys::KeyboardEvent;

use kefu_core::conversation::{EventBody, RequeueReason};
use kefu_core::protocol::{self, AgentFrame, AgentStatus, ErrorCode, ServerFrame, TypingParty};

use crate::agent::alerts;
use crate::agent::assist::{
    KnowledgePanel, PhrasePicker, PhraseSettings, Phrases, SlashSuggestions, first_slash_match,
};
use crate::agent::session::{AgentConversation, AgentSession};
use crate::customer::panel::new_client_msg_id;
use crate::follow::Follow;
use crate::i18n::{Lang, fill, format_datetime};
use crate::socket::{Handlers, Socket, same_origin_url};
use crate::storage;
use crate::transcript::{Side, Viewer, clock_time, lines, mark_days};
use crate::typing::TypingSender;

#[derive(Serialize)]
struct LoginRequest<'a> {
    login: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
struct LoginResponse {
    token: String,
    /// `admin` or `agent` (admins also get the settings, see `crate::admin`).
    #[serde(default)]
    role: String,
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
            let request = gloo_net::http::Request::post("/api/agent/login").json(&LoginRequest {
                login: &login,
                password: &password,
            });
            let response = match request {
                Ok(request) => request.send().await.ok(),
                Err(_) => None,
            };
            match response {
                Some(response) if response.ok() => {
                    if let Ok(body) = response.json::<LoginResponse>().await {
                        storage::set_session(storage::AGENT_TOKEN, &body.token);
                        storage::set_session(crate::admin::ROLE_KEY, &body.role);
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

/// A chat was assigned: tone always, notification when the agent looks elsewhere (the title
/// flash follows `unseen_assignments`, see [`Workspace`]).
fn announce_assignment(session: RwSignal<AgentSession>) {
    alerts::play_tone();
    if alerts::page_visible() {
        session.update(|session| session.unseen_assignments = 0);
        return;
    }
    let name = session.with_untracked(|session| {
        session
            .conversations
            .first()
            .map(|c| c.customer_name())
            .unwrap_or_default()
    });
    let lang = Lang::from_tag(&crate::browser_language());
    alerts::notify(
        &fill(lang.texts().new_conversation_notification, "name", &name),
        "",
    );
}

/// Hides the customer's "typing…" unless they repeat it in time (a lost `typing: false` must
/// not leave it on).
fn forget_customer_typing(session: RwSignal<AgentSession>, conversation_id: String) {
    let find = |session: &AgentSession, id: &str| {
        session
            .conversations
            .iter()
            .position(|c| c.summary.conversation_id == id)
    };
    let Some(count) = session.with_untracked(|session| {
        find(session, &conversation_id).map(|i| session.conversations[i].customer_typing_count)
    }) else {
        return;
    };
    crate::typing::forget_later(move || {
        session.try_update(|session| {
            if let Some(index) = find(session, &conversation_id) {
                let conversation = &mut session.conversations[index];
                if conversation.customer_typing_count == count {
                    conversation.customer_typing = false;
                }
            }
        });
    });
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
            let Ok(frame) = protocol::decode_server_frame(&text) else {
                return;
            };
            let is_welcome = matches!(frame, ServerFrame::AgentWelcome { .. });
            let typing_in = match &frame {
                ServerFrame::Typing {
                    conversation_id,
                    from: TypingParty::Customer,
                    typing: true,
                } => Some(conversation_id.clone()),
                _ => None,
            };
            let mut newly_assigned = false;
            session.update(|session| newly_assigned = session.on_frame(frame, js_sys::Date::now()));
            if let Some(conversation_id) = typing_in {
                forget_customer_typing(session, conversation_id);
            }
            if newly_assigned && !is_welcome {
                announce_assignment(session);
            }
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
        Handlers {
            on_open: Box::new(on_open),
            on_text: Box::new(on_text),
            on_close: Box::new(on_close),
        },
    );
    socket.keep_alive(
        protocol::encode_agent_frame(&AgentFrame::Ping {}),
        protocol::PING_EVERY_SECONDS * 1000,
    );
    *socket_cell.borrow_mut() = Some(socket.clone());
    socket
}

#[component]
fn Workspace(
    lang: RwSignal<Lang>,
    token: RwSignal<Option<String>>,
    session_token: String,
) -> impl IntoView {
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
            let max = session
                .profile
                .as_ref()
                .map_or(0, |profile| profile.max_concurrent_chats);
            format!("{} / {}", session.active_count(), max)
        })
    };
    let name = move || {
        session.with(|session| {
            session
                .profile
                .as_ref()
                .map(|profile| profile.display_name.clone())
                .unwrap_or_default()
        })
    };

    // The tab title flashes while chats assigned in the agent's absence are unseen.
    let flash_on = RwSignal::new(false);
    let flasher = set_interval_with_handle(
        move || {
            if session.with_untracked(|session| session.unseen_assignments) > 0 {
                flash_on.update(|on| *on = !*on);
            } else if flash_on.get_untracked() {
                flash_on.set(false);
            }
        },
        std::time::Duration::from_secs(1),
    );
    on_cleanup(move || {
        if let Ok(flasher) = flasher {
            flasher.clear();
        }
    });
    Effect::new(move |_| {
        let texts = texts();
        let prefix = if flash_on.get() {
            texts.new_conversation_title
        } else {
            ""
        };
        alerts::set_title(&format!("{prefix}Kefu · {}", texts.workspace_title));
    });
    alerts::on_return(move || {
        if alerts::page_visible() {
            let _ = session.try_update(|session| session.unseen_assignments = 0);
        }
    });

    let can_enable_notifications = RwSignal::new(alerts::can_ask_for_notifications());
    let draft = RwSignal::new(String::new());
    let phrases = Phrases::load(session_token.clone());
    let settings_open = RwSignal::new(false);
    let admin_open = RwSignal::new(false);

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
            <Show when=move || can_enable_notifications.get()>
                <button type="button" on:click=move |_| {
                    alerts::request_notification_permission();
                    can_enable_notifications.set(false);
                }>{move || texts().enable_notifications}</button>
            </Show>
            <button type="button" aria-label=move || texts().phrase_settings on:click=move |_| settings_open.update(|open| *open = !*open)>
                "⚙ "{move || texts().settings}
            </button>
            <crate::admin::AdminToggle lang open=admin_open/>
            <button type="button" on:click=move |_| lang.update(|lang| *lang = lang.other())>{move || texts().language_switch}</button>
            <button type="button" on:click=log_out>{move || texts().log_out}</button>
        </header>
        <Show when=move || admin_open.get()>
            <crate::admin::AdminArea lang token=session_token.clone()/>
        </Show>
        <Show when=move || settings_open.get()>
            <PhraseSettings lang session phrases open=settings_open/>
        </Show>
        // The landmarks: the header (banner), the list (navigation), the chat (main) and the
        // customer info (complementary), all at the top level.
        <div class="kefu-agent-main" hidden=move || admin_open.get()>
            <ConversationList lang session/>
            <ConversationPane lang session socket draft phrases/>
            <div class="kefu-side">
                <CustomerInfo lang session/>
                <KnowledgePanel lang session draft/>
            </div>
        </div>
    }
}

/// One row of the conversation list.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ListRow {
    /// The language drawn in (part of the key, so a language switch redraws the row).
    lang: &'static str,
    id: String,
    customer: String,
    last: String,
    unread: u32,
    waiting_minutes: Option<i64>,
    selected: bool,
    /// The visitor closed the panel (no connection): the chat may end by the idle timeout.
    offline: bool,
}

fn list_row(
    conversation: &AgentConversation,
    selected: Option<&str>,
    now: f64,
    lang: &'static str,
) -> ListRow {
    ListRow {
        lang,
        id: conversation.summary.conversation_id.clone(),
        customer: conversation.customer_name(),
        last: conversation.last_message(),
        unread: conversation.unread,
        // A chat that has waited less than a minute is not late: nothing to show yet.
        waiting_minutes: conversation
            .waiting_since()
            .map(|since| (now as i64 - since) / 60_000)
            .filter(|minutes| *minutes >= 1),
        selected: selected == Some(conversation.summary.conversation_id.as_str()),
        offline: !conversation.summary.visitor.online
            && conversation.log.state.phase == kefu_core::conversation::Phase::Human,
    }
}

/// 会话列表 and 已结束: the agent's current chats, and the ended ones with a search.
#[component]
pub fn ConversationList(lang: RwSignal<Lang>, session: RwSignal<AgentSession>) -> impl IntoView {
    let texts = move || lang.get().texts();
    let showing_ended = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    // Waiting times advance without any frame arriving.
    let now = RwSignal::new(js_sys::Date::now());
    let ticker = set_interval_with_handle(
        move || now.set(js_sys::Date::now()),
        std::time::Duration::from_secs(30),
    );
    on_cleanup(move || {
        if let Ok(ticker) = ticker {
            ticker.clear();
        }
    });
    let rows = move || {
        let now = now.get();
        let query = query.get();
        let ended = showing_ended.get();
        let lang = texts().tag;
        session.with(|session| {
            let selected = session.selected.as_deref();
            let conversations = if ended {
                session.ended(&query)
            } else {
                session.active()
            };
            conversations
                .into_iter()
                .map(|conversation| list_row(conversation, selected, now, lang))
                .collect::<Vec<_>>()
        })
    };
    let empty_text = move || {
        if showing_ended.get() && !query.get().trim().is_empty() {
            texts().no_match
        } else if showing_ended.get() {
            texts().no_ended
        } else {
            texts().no_conversations
        }
    };
    // Alt+ArrowDown / Alt+ArrowUp: next / previous chat, from anywhere in the workspace
    // (the list is always on screen, so it owns the shortcut).
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if event.alt_key() && (event.key() == "ArrowDown" || event.key() == "ArrowUp") {
            event.prevent_default();
            let step = if event.key() == "ArrowDown" { 1 } else { -1 };
            session.update(|session| session.select_step(step));
        }
    });
    on_cleanup(move || keys.remove());

    view! {
        <nav class="kefu-conversation-list" aria-label=move || texts().conversation_list>
            <div class="kefu-list-tabs" role="group" aria-label=move || texts().conversation_list>
                <button type="button" aria-pressed=move || (!showing_ended.get()).to_string()
                    on:click=move |_| showing_ended.set(false)>{move || texts().current_chats}</button>
                <button type="button" aria-pressed=move || showing_ended.get().to_string()
                    on:click=move |_| showing_ended.set(true)>{move || texts().ended_chats}</button>
            </div>
            <Show when=move || showing_ended.get()>
                <input type="search" class="kefu-search" aria-label=move || texts().search_ended placeholder=move || texts().search_ended
                    prop:value=move || query.get() on:input:target=move |event| query.set(event.target().value())/>
            </Show>
            <Show when=move || rows().is_empty()>
                <p class="kefu-empty">{empty_text}</p>
            </Show>
            <ul>
                <For each=rows key=|row| row.clone() children=move |row| {
                    let id = row.id.clone();
                    let offline = row.offline.then(|| texts().visitor_offline);
                    let label = match offline {
                        Some(offline) => format!("{}: {} · {offline}", row.customer, row.last),
                        None => format!("{}: {}", row.customer, row.last),
                    };
                    let waiting = row.waiting_minutes.map(|minutes| fill(texts().waiting_minutes, "n", &minutes.to_string()));
                    view! {
                        <li>
                            <button type="button" class="kefu-conversation-item" aria-current=row.selected.then_some("true") aria-label=label
                                on:click=move |_| session.update(|session| session.select(&id))>
                                <span class="kefu-customer-name">{row.customer.clone()}</span>
                                <span class="kefu-last-message">{row.last.clone()}</span>
                                {waiting.map(|waiting| view! { <span class="kefu-waiting">{waiting}</span> })}
                                {offline.map(|offline| view! { <span class="kefu-offline">{offline}</span> })}
                                {(row.unread > 0).then(|| view! { <span class="kefu-unread">{row.unread}</span> })}
                            </button>
                        </li>
                    }
                }/>
            </ul>
            <p class="kefu-hint">{move || texts().shortcuts_hint}</p>
        </nav>
    }
}

/// Text a visitor or a site chose, set in Unicode's first-strong isolate (FSI … PDI) where it
/// shares a line with our own words: a bidi override inside it (U+202E) then cannot reorder
/// what follows, e.g. turn the "(unverified)" after a user id around.
fn isolate(text: &str) -> String {
    format!("\u{2068}{text}\u{2069}")
}

/// 会员信息: who the customer is, as the site told (setUser) and as the browser showed.
#[component]
pub fn CustomerInfo(lang: RwSignal<Lang>, session: RwSignal<AgentSession>) -> impl IntoView {
    let texts = move || lang.get().texts();
    let rows = move || {
        let texts = texts();
        session.with(|session| {
            let Some(conversation) = session.selected() else {
                return Vec::new();
            };
            let visitor = &conversation.summary.visitor;
            let mut rows: Vec<(String, String)> = Vec::new();
            match &visitor.user {
                Some(user) => {
                    rows.push((
                        texts.info_name.to_owned(),
                        user.name.clone().unwrap_or_default(),
                    ));
                    let verdict = if visitor.verified {
                        texts.info_verified
                    } else {
                        texts.info_unverified
                    };
                    rows.push((
                        texts.info_user_id.to_owned(),
                        format!("{} ({verdict})", isolate(&user.id)),
                    ));
                    rows.push((
                        texts.info_email.to_owned(),
                        user.email.clone().unwrap_or_default(),
                    ));
                    rows.push((
                        texts.info_phone.to_owned(),
                        user.phone.clone().unwrap_or_default(),
                    ));
                    for (key, value) in &user.attributes {
                        rows.push((
                            format!("{} · {}", texts.info_attributes, isolate(key)),
                            value.clone(),
                        ));
                    }
                }
                None => rows.push((texts.info_name.to_owned(), texts.info_anonymous.to_owned())),
            }
            if let Some(page) = &visitor.page {
                let page_text = if page.title.is_empty() {
                    page.url.clone()
                } else {
                    format!("{} — {}", isolate(&page.title), page.url)
                };
                rows.push((texts.info_page.to_owned(), page_text));
                rows.push((texts.info_referrer.to_owned(), page.referrer.clone()));
            }
            rows.push((
                texts.info_language.to_owned(),
                visitor.locale.clone().unwrap_or_default(),
            ));
            rows.push((
                texts.info_browser.to_owned(),
                visitor.browser.clone().unwrap_or_default(),
            ));
            if let Some(first_seen) = visitor.first_seen {
                rows.push((
                    texts.info_first_seen.to_owned(),
                    format_datetime(first_seen, lang.get()),
                ));
            }
            if visitor.visits > 0 {
                rows.push((texts.info_visits.to_owned(), visitor.visits.to_string()));
            }
            rows.retain(|(_, value)| !value.is_empty());
            rows
        })
    };
    // 历史会话: when each earlier conversation was and what the customer asked first.
    let previous = move || {
        let lang = lang.get();
        session.with(|session| {
            let Some(conversation) = session.selected() else {
                return Vec::new();
            };
            conversation
                .summary
                .visitor
                .previous_conversations
                .iter()
                .map(|past| {
                    let question = if past.first_message.is_empty() {
                        "—".to_owned()
                    } else {
                        past.first_message.clone()
                    };
                    (
                        past.conversation_id.clone(),
                        format_datetime(past.started_at, lang),
                        question,
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <aside class="kefu-customer-info" aria-label=move || texts().customer_info>
            <h2>{move || texts().customer_info}</h2>
            <dl>
                {move || rows().into_iter().map(|(label, value)| view! {
                    <dt>{label}</dt>
                    <dd>{value}</dd>
                }).collect_view()}
            </dl>
            <section aria-label=move || texts().info_previous>
                <h3>{move || texts().info_previous}</h3>
                <Show when=move || !previous().is_empty() fallback=move || view! { <p class="kefu-empty">{move || texts().info_no_previous}</p> }>
                    <ul class="kefu-previous">
                        {move || previous().into_iter().map(|(_, when, question)| view! {
                            <li><time>{when}</time>" "<span>{question}</span></li>
                        }).collect_view()}
                    </ul>
                </Show>
            </section>
        </aside>
    }
}

#[component]
fn ConversationPane(
    lang: RwSignal<Lang>,
    session: RwSignal<AgentSession>,
    socket: StoredValue<Socket, LocalStorage>,
    draft: RwSignal<String>,
    phrases: Phrases,
) -> impl IntoView {
    let texts = move || lang.get().texts();
    let send_frame = move |frame: AgentFrame| {
        socket.with_value(|socket| socket.send(&protocol::encode_agent_frame(&frame)));
    };
    // A memo, so what watches the selection (the end confirmation, "typing…") reacts to the
    // agent picking another chat, not to every message or read mark in the session.
    let selected_id = Memo::new(move |_| session.with(|session| session.selected.clone()));
    let transcript = move || {
        let texts = texts();
        let mut lines = session.with(|session| {
            session
                .selected()
                .map(|conversation| lines(&conversation.log, Viewer::Agent, texts))
                .unwrap_or_default()
        });
        mark_days(&mut lines, js_sys::Date::now() as i64, lang.get());
        lines
    };
    // "typing…" goes to the conversation the agent started typing in, even if they switch.
    let typing_in: StoredValue<Option<String>> = StoredValue::new(None);
    let typing = TypingSender::new(move |typing| {
        let conversation_id = if typing {
            let selected = session.with_untracked(|session| session.selected.clone());
            typing_in.set_value(selected.clone());
            selected
        } else {
            typing_in.try_update_value(Option::take).flatten()
        };
        if let Some(conversation_id) = conversation_id {
            send_frame(AgentFrame::Typing {
                conversation_id,
                typing,
            });
        }
    });
    Effect::new(move |_| {
        selected_id.track();
        typing.stop();
    });
    let active = move || {
        session.with(|session| {
            session
                .selected()
                .is_some_and(|conversation| conversation.is_active(&session.agent_id()))
        })
    };
    let submit = move || {
        let Some(conversation_id) = selected_id.get() else {
            return;
        };
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        typing.stop();
        let frame = session
            .try_update(|session| session.reply(&conversation_id, new_client_msg_id(), &text))
            .flatten();
        if let Some(frame) = frame {
            send_frame(frame);
        }
    };
    let on_keydown = move |event: KeyboardEvent| {
        if event.key() == "Enter"
            && !event.shift_key()
            && !event.is_composing()
            && event.key_code() != 229
        {
            event.prevent_default();
            // While `/` offers phrases, Enter takes the first one instead of sending "/…".
            match first_slash_match(phrases, &draft.get_untracked()) {
                Some(phrase) => draft.set(phrase),
                None => submit(),
            }
        }
    };
    // Ending is asked twice: a slip would cut a customer off mid-chat.
    let confirming_end = RwSignal::new(false);
    Effect::new(move |_| {
        selected_id.track();
        confirming_end.set(false);
    });
    let end = move |_| {
        confirming_end.set(false);
        if let Some(conversation_id) = selected_id.get() {
            send_frame(AgentFrame::End { conversation_id });
        }
    };
    // A chat that is no longer this agent's says so above its log: ended, transferred, or
    // back in the queue.
    let banner = move || {
        let texts = texts();
        session.with(|session| {
            let conversation = session.selected()?;
            if conversation.is_active(&session.agent_id()) {
                return None;
            }
            conversation
                .log
                .events
                .iter()
                .rev()
                .find_map(|event| match &event.body {
                    EventBody::Ended { .. } => Some(texts.banner_ended.to_owned()),
                    EventBody::Requeued {
                        reason:
                            RequeueReason::TransferredToGroup {
                                group,
                                group_display_name,
                                ..
                            },
                    } => {
                        let group = if group_display_name.is_empty() {
                            group
                        } else {
                            group_display_name
                        };
                        Some(fill(texts.banner_transferred, "group", group))
                    }
                    EventBody::Requeued { .. } => Some(texts.banner_requeued.to_owned()),
                    _ => None,
                })
        })
    };
    let customer_typing = move || {
        session.with(|session| {
            session
                .selected()
                .is_some_and(|conversation| conversation.customer_typing)
        })
    };
    let read_seq = move || {
        session.with(|session| {
            session
                .selected()
                .map_or(0, |conversation| conversation.summary.read_seq)
        })
    };
    // A chat opens at its newest line; new lines are followed while the agent is at the
    // bottom (always their own replies), and counted under a "N new messages ↓" button when
    // they scrolled up to read.
    let follow = Follow::new();
    Effect::new(move |previous: Option<(Option<String>, usize)>| {
        let selected = selected_id.get();
        let (count, last_is_mine) = {
            let lines = transcript();
            let last_is_mine = lines.last().is_some_and(|line| line.side == Side::Mine);
            (lines.len(), last_is_mine)
        };
        match previous {
            Some((was_selected, was_count)) if was_selected == selected && count >= was_count => {
                if count > was_count {
                    follow.arrived(count - was_count, last_is_mine);
                }
            }
            _ => follow.to_end(),
        }
        (selected, count)
    });
    // What grows the log without a new line (typing…, a "Read" mark) is followed too.
    Effect::new(move |_| {
        let (typing, read) = (customer_typing(), read_seq());
        if (typing || read > 0) && follow.at_bottom() {
            follow.to_end();
        }
    });
    let unseen_text = move || {
        let unseen = follow.unseen.get();
        (unseen > 0).then(|| fill(texts().new_messages_below, "n", &unseen.to_string()))
    };
    view! {
        <main class="kefu-conversation" aria-label=move || texts().transcript>
            <Show when=move || selected_id.get().is_some() fallback=move || view! { <p class="kefu-empty">{move || texts().pick_conversation}</p> }>
                {move || banner().map(|text| view! { <p class="kefu-agent-banner" role="status">{text}</p> })}
                <div class="kefu-transcript" role="log" aria-live="polite" aria-label=move || texts().transcript tabindex="0"
                    node_ref=follow.node on:scroll=move |_| follow.on_scroll()>
                    <For each=transcript key=|line| line.key.clone() children=move |line| {
                        let class = match line.side { Side::Mine => "kefu-line mine", Side::Theirs => "kefu-line theirs", Side::Notice => "kefu-line notice" };
                        let time = clock_time(line.at, lang.get_untracked());
                        // "已读" under the agent's messages the customer's panel has shown.
                        let (seq, mine) = (line.seq, line.side == Side::Mine);
                        let read = move || mine && read_seq() >= seq;
                        view! {
                            {line.day.clone().map(|day| view! { <p class="kefu-day">{day}</p> })}
                            <div class=class>
                                {(line.side != Side::Notice).then(|| view! { <span class="kefu-author">{line.author.clone()}" "<time class="kefu-time">{time}</time></span> })}
                                <p class="kefu-text">{line.text.clone()}</p>
                                <Show when=read>
                                    <span class="kefu-read">{move || texts().read_receipt}</span>
                                </Show>
                            </div>
                        }
                    }/>
                    <Show when=customer_typing>
                        <p class="kefu-typing">{move || texts().typing}</p>
                    </Show>
                </div>
                {move || unseen_text().map(|text| view! {
                    <button type="button" class="kefu-agent-unseen" on:click=move |_| follow.to_end()>{text}</button>
                })}
                <SlashSuggestions lang phrases draft/>
                <form class="kefu-composer" on:submit=move |event| { event.prevent_default(); submit(); }>
                    <PhrasePicker lang phrases draft/>
                    <textarea class="kefu-input" rows="3" aria-label=move || texts().reply_input
                        prop:disabled=move || !active()
                        prop:value=move || draft.get()
                        on:input:target=move |event| {
                            let text = event.target().value();
                            typing.input(&text);
                            draft.set(text);
                        }
                        on:keydown=on_keydown></textarea>
                    <button type="submit" prop:disabled=move || !active()>{move || texts().send}</button>
                    <Show when=move || !confirming_end.get() fallback=move || view! {
                        <span class="kefu-agent-confirm" role="group" aria-label=move || texts().end_chat_confirm>
                            <span>{move || texts().end_chat_confirm}</span>
                            <button type="button" class="kefu-end" on:click=end>{move || texts().end_chat_yes}</button>
                            <button type="button" on:click=move |_| confirming_end.set(false)>{move || texts().end_chat_no}</button>
                        </span>
                    }>
                        <button type="button" class="kefu-end" prop:disabled=move || !active() on:click=move |_| confirming_end.set(true)>{move || texts().end_conversation}</button>
                    </Show>
                </form>
                <TransferControl lang session socket active/>
            </Show>
        </main>
    }
}

/// 转接: moves the selected chat to another skill group, whose agents take it from the queue
/// with the whole log. A refusal (group closed, nobody online) is said next to the control.
#[component]
fn TransferControl(
    lang: RwSignal<Lang>,
    session: RwSignal<AgentSession>,
    socket: StoredValue<Socket, LocalStorage>,
    active: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let texts = move || lang.get().texts();
    let send_frame = move |frame: AgentFrame| {
        socket.with_value(|socket| socket.send(&protocol::encode_agent_frame(&frame)));
    };
    let choice = RwSignal::new(String::new());
    let targets = move || session.with(AgentSession::transfer_targets);
    // The first other group is preselected; a stale choice (another chat's group) is replaced.
    Effect::new(move |_| {
        let targets = targets();
        if !targets
            .iter()
            .any(|group| group.name == choice.get_untracked())
        {
            choice.set(
                targets
                    .first()
                    .map(|group| group.name.clone())
                    .unwrap_or_default(),
            );
        }
    });
    let transfer = move |_| {
        let Some(conversation_id) = session.with_untracked(|session| session.selected.clone())
        else {
            return;
        };
        let group = choice.get_untracked();
        if let Some(frame) = session
            .try_update(|session| session.transfer(&conversation_id, &group))
            .flatten()
        {
            send_frame(frame);
        }
    };
    // A refusal belongs to the chat it was tried on, while it is still this agent's.
    let refusal = move || {
        session
            .with(|session| session.transfer_refused)
            .filter(|_| active())
            .map(|code| match code {
                ErrorCode::InvalidState => texts().transfer_refused_unavailable,
                _ => texts().transfer_refused_other,
            })
    };
    view! {
        <Show when=move || !targets().is_empty()>
            <div class="kefu-agent-transfer" role="group" aria-label=move || texts().transfer_group_label>
                <label>
                    <span>{move || texts().transfer_group_label}</span>
                    <select prop:disabled=move || !active() on:change:target=move |event| choice.set(event.target().value())>
                        {move || targets().into_iter().map(|group| {
                            let selected = group.name == choice.get();
                            let label = format!("{} ({})", group.display_name, group.name);
                            view! { <option value=group.name.clone() selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="button" prop:disabled=move || !active() || session.with(|session| session.transfer_pending.is_some())
                    on:click=transfer>{move || texts().transfer_submit}</button>
                {move || refusal().map(|text| view! { <p role="alert" class="kefu-error">{text}</p> })}
            </div>
        </Show>
    }
}
