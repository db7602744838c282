//! The bridge between the panel (inside the iframe) and `embed.js` on the host page.
//!
//! Only `postMessage`, and only with the host page's origin (passed by the loader in the
//! iframe's URL and enforced by the server's `frame-ancestors`): a message from any other
//! origin or window is ignored, and messages to the host are addressed to that origin only.

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use kefu_core::conversation::EventBody;
use kefu_core::protocol::{PageInfo, UserIdentity};

use crate::customer::backend::Backend;
use crate::customer::session::CustomerSession;
use crate::i18n::Lang;

thread_local! {
    static HOST_ORIGIN: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    static PANEL_OPEN: Cell<bool> = const { Cell::new(false) };
}

/// What the panel tells the loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMessage {
    Ready,
    Close,
    Unread {
        count: u32,
    },
    /// A message from the robot or an agent, for `Kefu.on('message', fn)`: `from` is
    /// `robot` or `agent`.
    Message {
        from: &'static str,
        text: String,
    },
    /// The panel's language changed (its own language button): the launcher follows.
    Locale {
        locale: &'static str,
    },
}

/// What the loader tells the panel.
#[derive(Debug, Clone, PartialEq)]
enum HostCommand {
    Open { page: Option<PageInfo> },
    Close,
    SetUser { user: UserIdentity },
    SetLocale { locale: String },
}

// The messages are read and written as JS objects with `Reflect`, not through serde: they
// are a handful of flat fields, and serde's tagged-enum machinery for them cost the bundle
// more than the rest of this module.

fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// Reads a message of `embed.js` (see its `post`); `None` for anything else.
fn read_command(data: &JsValue) -> Option<HostCommand> {
    if get(data, "kefu").as_f64() != Some(1.0) {
        return None;
    }
    match get_string(data, "type")?.as_str() {
        "open" => {
            let page = get(data, "page");
            let page = page.is_object().then(|| PageInfo {
                url: get_string(&page, "url").unwrap_or_default(),
                title: get_string(&page, "title").unwrap_or_default(),
                referrer: get_string(&page, "referrer").unwrap_or_default(),
            });
            Some(HostCommand::Open { page })
        }
        "close" => Some(HostCommand::Close),
        "setUser" => read_user(&get(data, "user")).map(|user| HostCommand::SetUser { user }),
        "setLocale" => get_string(data, "locale").map(|locale| HostCommand::SetLocale { locale }),
        _ => None,
    }
}

/// `Kefu.setUser({id, name, email, phone, attributes, userHash})`: `id` is required; an
/// attribute that is not a string is kept as its JSON text.
fn read_user(user: &JsValue) -> Option<UserIdentity> {
    let id = get(user, "id");
    let id = id
        .as_string()
        .or_else(|| id.as_f64().map(|number| number.to_string()))?;
    let attributes = get(user, "attributes");
    let attributes = if attributes.is_object() {
        js_sys::Object::entries(attributes.unchecked_ref())
            .iter()
            .filter_map(|entry| {
                let entry: js_sys::Array = entry.unchecked_into();
                let key = entry.get(0).as_string()?;
                let value = entry.get(1);
                let value = value
                    .as_string()
                    .or_else(|| js_sys::JSON::stringify(&value).ok()?.as_string())?;
                Some((key, value))
            })
            .collect()
    } else {
        Default::default()
    };
    Some(UserIdentity {
        id,
        name: get_string(user, "name"),
        email: get_string(user, "email"),
        phone: get_string(user, "phone"),
        attributes,
        user_hash: get_string(user, "userHash"),
    })
}

/// Sends a message to the host page, if there is one (the panel may also run standalone).
pub fn post_to_host(message: &HostMessage) {
    let Some(origin) = HOST_ORIGIN.with(|host| host.borrow().clone()) else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    let object = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
    };
    set("kefu", 1.into());
    match message {
        HostMessage::Ready => set("type", "ready".into()),
        HostMessage::Close => set("type", "close".into()),
        HostMessage::Locale { locale } => {
            set("type", "setLocale".into());
            set("locale", (*locale).into());
        }
        HostMessage::Unread { count } => {
            set("type", "unread".into());
            set("count", (*count).into());
        }
        HostMessage::Message { from, text } => {
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"from".into(), &JsValue::from_str(from));
            let _ = js_sys::Reflect::set(&message, &"text".into(), &JsValue::from_str(text));
            set("type", "message".into());
            set("message", message.into());
        }
    }
    let _ = parent.post_message(&object, &origin);
}

/// Counts a new message from the robot or an agent for the launcher's badge while closed.
/// Also tells the page about the message (`Kefu.on('message', fn)`).
pub fn notify_new_message(session: RwSignal<CustomerSession>) {
    let last = session.with_untracked(|session| {
        session
            .current()
            .and_then(|log| log.events.last())
            .and_then(|event| match &event.body {
                EventBody::RobotAnswer { text, .. } | EventBody::RobotMiss { text, .. } => {
                    Some(("robot", text.clone()))
                }
                EventBody::AgentMessage { text, .. } => Some(("agent", text.clone())),
                _ => None,
            })
    });
    if let Some((from, text)) = last {
        post_to_host(&HostMessage::Message { from, text });
    }
    if PANEL_OPEN.with(Cell::get) {
        return;
    }
    let mut count = 0;
    session.update(|session| {
        session.unread += 1;
        count = session.unread;
    });
    post_to_host(&HostMessage::Unread { count });
}

/// Whether the visitor sees the panel now: opened (or opened directly, without the loader)
/// on a visible page.
pub fn panel_seen() -> bool {
    PANEL_OPEN.with(Cell::get)
        && web_sys::window()
            .and_then(|window| window.document())
            .is_some_and(|document| {
                document.visibility_state() == web_sys::VisibilityState::Visible
            })
}

/// Switches the panel to `new_lang`. The language travels in `hello`, so the panel
/// reconnects: the server then words what it sends (title, greeting, the operator's notices)
/// for that language and shows it to the agent. The loader's launcher follows too.
pub fn switch_language(
    new_lang: Lang,
    lang: RwSignal<Lang>,
    session: RwSignal<CustomerSession>,
    backend: StoredValue<std::rc::Rc<dyn Backend>, LocalStorage>,
) {
    if lang.get_untracked() == new_lang {
        return;
    }
    lang.set(new_lang);
    session.update(|session| session.locale = new_lang.tag().to_owned());
    backend.with_value(|backend| backend.reconnect());
    post_to_host(&HostMessage::Locale {
        locale: new_lang.tag(),
    });
}

/// Listens to the loader and announces that the panel is ready. `on_open` runs each time
/// the visitor opens the panel (it moves the focus into the composer).
pub fn listen(
    host: Option<String>,
    session: RwSignal<CustomerSession>,
    lang: RwSignal<Lang>,
    backend: StoredValue<std::rc::Rc<dyn Backend>, LocalStorage>,
    on_open: impl Fn() + 'static,
) {
    let Some(host) =
        host.filter(|host| host.starts_with("http://") || host.starts_with("https://"))
    else {
        // Opened directly, not through embed.js: behave as an open panel.
        PANEL_OPEN.with(|open| open.set(true));
        on_open();
        return;
    };
    HOST_ORIGIN.with(|origin| *origin.borrow_mut() = Some(host.clone()));
    let Some(window) = web_sys::window() else {
        return;
    };
    let parent = window.parent().ok().flatten();
    let handler =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let from_parent = match (&parent, event.source()) {
                (Some(parent), Some(source)) => {
                    js_sys::Object::is(parent.as_ref(), source.as_ref())
                }
                _ => false,
            };
            if event.origin() != host || !from_parent {
                return;
            }
            let Some(command) = read_command(&event.data()) else {
                return;
            };
            match command {
                HostCommand::Open { page } => {
                    PANEL_OPEN.with(|open| open.set(true));
                    let mut tell_server = false;
                    session.update(|session| {
                        session.unread = 0;
                        tell_server = session.set_page(page);
                    });
                    if tell_server {
                        // The page travels in `hello`, which went before the loader's message.
                        backend.with_value(|backend| backend.reconnect());
                    }
                    on_open();
                }
                HostCommand::Close => PANEL_OPEN.with(|open| open.set(false)),
                HostCommand::SetUser { user } => {
                    session.update(|session| session.user = Some(user));
                    // The identity travels in `hello`: reconnect so the server learns it now.
                    backend.with_value(|backend| backend.reconnect());
                }
                HostCommand::SetLocale { locale } => {
                    switch_language(Lang::from_tag(&locale), lang, session, backend);
                }
            }
        });
    let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    handler.forget();
    post_to_host(&HostMessage::Ready);
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn command(json: &str) -> Option<HostCommand> {
        read_command(&js_sys::JSON::parse(json).expect("test JSON"))
    }

    #[test]
    fn reads_the_loaders_messages_and_nothing_else() {
        assert_eq!(
            command(r#"{"kefu":1,"type":"close"}"#),
            Some(HostCommand::Close)
        );
        assert_eq!(
            command(r#"{"kefu":1,"type":"setLocale","locale":"en"}"#),
            Some(HostCommand::SetLocale {
                locale: "en".into()
            })
        );
        let open = command(
            r#"{"kefu":1,"type":"open","page":{"url":"https://shop.example/a","title":"商品"}}"#,
        );
        assert_eq!(
            open,
            Some(HostCommand::Open {
                page: Some(PageInfo {
                    url: "https://shop.example/a".into(),
                    title: "商品".into(),
                    referrer: String::new()
                })
            })
        );
        assert_eq!(command(r#"{"type":"close"}"#), None, "not from embed.js");
        assert_eq!(command(r#"{"kefu":1,"type":"eval"}"#), None);
        assert_eq!(
            command(r#"{"kefu":1,"type":"setUser","user":{"name":"no id"}}"#),
            None
        );
    }

    #[test]
    fn reads_a_user_with_attributes_as_text() {
        let Some(HostCommand::SetUser { user }) = command(
            r#"{"kefu":1,"type":"setUser","user":{"id":42,"name":"王小明","userHash":"ab","attributes":{"plan":"gold","orders":3}}}"#,
        ) else {
            panic!("a setUser command");
        };
        assert_eq!(user.id, "42");
        assert_eq!(user.name.as_deref(), Some("王小明"));
        assert_eq!(user.user_hash.as_deref(), Some("ab"));
        assert_eq!(
            user.attributes.get("plan").map(String::as_str),
            Some("gold")
        );
        assert_eq!(user.attributes.get("orders").map(String::as_str), Some("3"));
    }
}
