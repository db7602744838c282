//! Browser storage, used only once the visitor has opened the chat (the iframe does not
//! exist before): the visitor token in localStorage, the agent's session in sessionStorage.
//! Blocked storage (private modes, policies) degrades to a session that lasts one page.

/// localStorage key of the visitor token.
pub const VISITOR_TOKEN: &str = "kefu.visitor_token";
/// sessionStorage key of the agent's session token.
pub const AGENT_TOKEN: &str = "kefu.agent_token";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub fn get_local(key: &str) -> Option<String> {
    local()?.get_item(key).ok().flatten()
}

pub fn set_local(key: &str, value: &str) {
    if let Some(storage) = local() {
        let _ = storage.set_item(key, value);
    }
}

pub fn get_session(key: &str) -> Option<String> {
    session()?.get_item(key).ok().flatten()
}

pub fn set_session(key: &str, value: &str) {
    if let Some(storage) = session() {
        let _ = storage.set_item(key, value);
    }
}

pub fn remove_session(key: &str) {
    if let Some(storage) = session() {
        let _ = storage.remove_item(key);
    }
}
