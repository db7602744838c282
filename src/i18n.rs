//! Every string a customer or an agent sees, in zh-CN and en.
//!
//! One struct of `&'static str` per language: a string missing in one language is a compile
//! error, not a blank in production.

/// The two languages of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the language from a BCP 47 tag (`zh`, `zh-CN`, `zh-Hans` → Chinese; anything
    /// else → English).
    pub fn from_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("zh") { Lang::Zh } else { Lang::En }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The other language, for the language switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// The interface strings of one language.
pub struct Texts {
    // Customer panel.
    pub chat_title_fallback: &'static str,
    pub close_chat: &'static str,
    pub transcript: &'static str,
    pub message_input: &'static str,
    pub message_placeholder: &'static str,
    pub send: &'static str,
    pub talk_to_person: &'static str,
    pub state_robot: &'static str,
    pub state_waiting: &'static str,
    pub state_position: &'static str,
    pub state_with_agent: &'static str,
    pub state_ended: &'static str,
    pub state_connecting: &'static str,
    pub you: &'static str,
    pub robot: &'static str,
    pub system: &'static str,
    pub sending: &'static str,
    pub not_sent: &'static str,
    pub did_you_mean: &'static str,
    pub transfer_requested: &'static str,
    pub queued: &'static str,
    pub agent_joined: &'static str,
    pub ended_by_customer: &'static str,
    pub ended_by_agent: &'static str,
    pub ended_idle: &'static str,
    pub requeued: &'static str,
    pub typing: &'static str,
    // Transcript lines as an agent reads them (the customer's wording addresses the customer).
    pub agent_view_transfer_requested: &'static str,
    pub agent_view_queued: &'static str,
    pub agent_view_assigned: &'static str,
    pub agent_view_requeued: &'static str,
    pub offline_banner: &'static str,
    pub language_switch: &'static str,
    // Agent workspace.
    pub workspace_title: &'static str,
    pub login_heading: &'static str,
    pub login_name: &'static str,
    pub password: &'static str,
    pub log_in: &'static str,
    pub log_out: &'static str,
    pub login_failed: &'static str,
    pub status: &'static str,
    pub go_online: &'static str,
    pub go_away: &'static str,
    pub go_offline: &'static str,
    pub status_online: &'static str,
    pub status_away: &'static str,
    pub status_offline: &'static str,
    pub load: &'static str,
    pub conversation_list: &'static str,
    pub no_conversations: &'static str,
    pub pick_conversation: &'static str,
    pub customer: &'static str,
    pub reply_input: &'static str,
    pub end_conversation: &'static str,
    pub session_expired: &'static str,
}

pub static ZH: Texts = Texts {
    chat_title_fallback: "在线客服",
    close_chat: "关闭对话窗口",
    transcript: "对话记录",
    message_input: "输入消息",
    message_placeholder: "请输入您的问题，按 Enter 发送",
    send: "发送",
    talk_to_person: "转人工",
    state_robot: "智能助手为您服务",
    state_waiting: "正在为您转接人工客服",
    state_position: "排队中，您排在第 {n} 位",
    state_with_agent: "客服 {name} 为您服务",
    state_ended: "会话已结束",
    state_connecting: "正在连接…",
    you: "我",
    robot: "智能助手",
    system: "系统消息",
    sending: "发送中",
    not_sent: "未发送",
    did_you_mean: "您是不是想问：",
    transfer_requested: "正在为您转接人工客服…",
    queued: "已进入排队，请稍候。",
    agent_joined: "客服 {name} 已接入，为您服务。",
    ended_by_customer: "您已结束本次人工会话。",
    ended_by_agent: "客服已结束本次会话。",
    ended_idle: "由于长时间未回复，会话已结束。",
    requeued: "客服暂时离开，正在为您重新排队。",
    typing: "对方正在输入…",
    agent_view_transfer_requested: "访客请求转人工",
    agent_view_queued: "会话进入排队",
    agent_view_assigned: "{name} 接入会话",
    agent_view_requeued: "会话已重新排队",
    offline_banner: "网络已断开，正在重新连接…",
    language_switch: "English",
    workspace_title: "客服工作台",
    login_heading: "客服登录",
    login_name: "账号",
    password: "密码",
    log_in: "登录",
    log_out: "退出登录",
    login_failed: "账号或密码错误",
    status: "状态",
    go_online: "上线接线",
    go_away: "离开",
    go_offline: "下线",
    status_online: "在线",
    status_away: "离开",
    status_offline: "离线",
    load: "当前接待",
    conversation_list: "会话列表",
    no_conversations: "暂无会话，上线后新会话会自动分配给您。",
    pick_conversation: "从左侧选择一个会话",
    customer: "访客",
    reply_input: "回复内容",
    end_conversation: "结束会话",
    session_expired: "登录已失效，请重新登录。",
};

pub static EN: Texts = Texts {
    chat_title_fallback: "Customer service",
    close_chat: "Close chat window",
    transcript: "Conversation",
    message_input: "Type a message",
    message_placeholder: "Ask a question, press Enter to send",
    send: "Send",
    talk_to_person: "Talk to a person",
    state_robot: "Assistant",
    state_waiting: "Connecting you to an agent",
    state_position: "In line, position {n}",
    state_with_agent: "Chatting with {name}",
    state_ended: "Conversation ended",
    state_connecting: "Connecting…",
    you: "You",
    robot: "Assistant",
    system: "System",
    sending: "Sending",
    not_sent: "Not sent",
    did_you_mean: "Did you mean:",
    transfer_requested: "Connecting you to an agent…",
    queued: "You are in line, please wait.",
    agent_joined: "{name} joined the conversation.",
    ended_by_customer: "You ended the conversation with the agent.",
    ended_by_agent: "The agent ended the conversation.",
    ended_idle: "The conversation ended after a long silence.",
    requeued: "The agent had to leave; you are back in line.",
    typing: "Typing…",
    agent_view_transfer_requested: "The visitor asked for a person",
    agent_view_queued: "Queued for an agent",
    agent_view_assigned: "{name} took the conversation",
    agent_view_requeued: "Back in the queue",
    offline_banner: "Offline, reconnecting…",
    language_switch: "中文",
    workspace_title: "Agent workspace",
    login_heading: "Agent login",
    login_name: "Login",
    password: "Password",
    log_in: "Log in",
    log_out: "Log out",
    login_failed: "Wrong login or password",
    status: "Status",
    go_online: "Go online",
    go_away: "Away",
    go_offline: "Go offline",
    status_online: "Online",
    status_away: "Away",
    status_offline: "Offline",
    load: "Chats",
    conversation_list: "Conversations",
    no_conversations: "No conversations yet. Go online and new chats are assigned to you.",
    pick_conversation: "Pick a conversation on the left",
    customer: "Visitor",
    reply_input: "Reply",
    end_conversation: "End conversation",
    session_expired: "Your session expired; please log in again.",
};

/// Fills `{name}`-style placeholders.
pub fn fill(template: &str, key: &str, value: &str) -> String {
    template.replace(&format!("{{{key}}}"), value)
}
