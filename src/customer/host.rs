//! The bridge between the panel (inside the iframe) and `embed.js` on the host page.
//!
//! Only `postMessage`, and only with the host page's origin (passed by the loader in the
//! iframe's URL and enforced by the server's `frame-ancestors`): a message from any other
//! origin or window is ignored, and messages to the host are addressed to that origin only.

use std::cell::Cell;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use kefu_core::protocol::{PageInfo, UserIdentity};

use crate::customer::backend::Backend;
use crate::customer::session::CustomerSession;
use crate::i18n::Lang;

thread_local! {
    static HOST_ORIGIN: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    static PANEL_OPEN: Cell<bool> = const { Cell::new(false) };
}

/// What the panel tells the loader.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostMessage {
    Ready,
    Close,
    Unread { count: u32 },
}

/// What the loader tells the panel.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum HostCommand {
    Open {
        #[serde(default)]
        page: Option<PageInfo>,
    },
    Close,
    SetUser { user: UserFromHost },
    SetLocale { locale: String },
}

/// `Kefu.setUser({...})` as the loader passes it (camelCase, as in the JS API).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserFromHost {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    user_hash: Option<String>,
}

/// Sends a message to the host page, if there is one (the panel may also run standalone).
pub fn post_to_host(message: &HostMessage) {
    let Some(origin) = HOST_ORIGIN.with(|host| host.borrow().clone()) else { return };
    let Some(window) = web_sys::window() else { return };
    let Ok(Some(parent)) = window.parent() else { return };
    let Ok(json) = serde_json::to_string(message) else { return };
    if let Ok(value) = js_sys::JSON::parse(&json) {
        let _ = js_sys::Reflect::set(&value, &"kefu".into(), &1.into());
        let _ = parent.post_message(&value, &origin);
    }
}

/// Counts a new message from the robot or an agent for the launcher's badge while closed.
pub fn notify_new_message(session: RwSignal<CustomerSession>) {
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

/// Listens to the loader and announces that the panel is ready. `on_open` runs each time
/// the visitor opens the panel (it moves the focus into the composer).
pub fn listen(
    host: Option<String>,
    session: RwSignal<CustomerSession>,
    lang: RwSignal<Lang>,
    backend: StoredValue<std::rc::Rc<dyn Backend>, LocalStorage>,
    on_open: impl Fn() + 'static,
) {
    let Some(host) = host.filter(|host| host.starts_with("http://") || host.starts_with("https://")) else {
        // Opened directly, not through embed.js: behave as an open panel.
        PANEL_OPEN.with(|open| open.set(true));
        on_open();
        return;
    };
    HOST_ORIGIN.with(|origin| *origin.borrow_mut() = Some(host.clone()));
    let Some(window) = web_sys::window() else { return };
    let parent = window.parent().ok().flatten();
    let handler = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        let from_parent = match (&parent, event.source()) {
            (Some(parent), Some(source)) => js_sys::Object::is(parent.as_ref(), source.as_ref()),
            _ => false,
        };
        if event.origin() != host || !from_parent {
            return;
        }
        let Some(json) = js_sys::JSON::stringify(&event.data()).ok().and_then(|json| json.as_string()) else { return };
        let Ok(command) = serde_json::from_str::<HostCommand>(&json) else { return };
        match command {
            HostCommand::Open { page } => {
                PANEL_OPEN.with(|open| open.set(true));
                session.update(|session| {
                    session.unread = 0;
                    if page.is_some() {
                        session.page = page;
                    }
                });
                on_open();
            }
            HostCommand::Close => PANEL_OPEN.with(|open| open.set(false)),
            HostCommand::SetUser { user } => {
                let attributes = user
                    .attributes
                    .into_iter()
                    .map(|(key, value)| (key, value.as_str().map_or_else(|| value.to_string(), str::to_owned)))
                    .collect();
                session.update(|session| {
                    session.user = Some(UserIdentity {
                        id: user.id,
                        name: user.name,
                        email: user.email,
                        phone: user.phone,
                        attributes,
                        user_hash: user.user_hash,
                    })
                });
                // The identity travels in `hello`: reconnect so the server learns it now.
                backend.with_value(|backend| backend.reconnect());
            }
            HostCommand::SetLocale { locale } => {
                let new_lang = Lang::from_tag(&locale);
                lang.set(new_lang);
                session.update(|session| session.locale = new_lang.tag().to_owned());
            }
        }
    });
    let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    handler.forget();
    post_to_host(&HostMessage::Ready);
}
