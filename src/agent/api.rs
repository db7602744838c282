//! The agents' HTTP API (PROTOCOL.md, "HTTP API (agents)"): knowledge search, recommended
//! knowledge and canned phrases, each call with the session's bearer token.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A knowledge item as search or the recommended list returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KnowledgeItem {
    pub id: String,
    pub question: String,
    pub answer: String,
}

#[derive(Deserialize)]
struct SearchAnswer {
    results: Vec<KnowledgeItem>,
}

#[derive(Deserialize)]
struct RecommendedAnswer {
    items: Vec<KnowledgeItem>,
}

/// A canned phrase (常用语): shared by all agents, or the caller's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct CannedPhrase {
    pub id: String,
    pub category: String,
    pub content: String,
    pub shared: bool,
}

#[derive(Deserialize)]
struct PhrasesAnswer {
    phrases: Vec<CannedPhrase>,
}

/// What a new or edited phrase says.
#[derive(Debug, Clone, Serialize)]
pub struct PhraseInput {
    pub category: String,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
}

/// Why a call failed, for the agent to read.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(pub String);

fn authorized(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

async fn answer<T: DeserializeOwned>(
    response: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = response.map_err(|error| ApiError(error.to_string()))?;
    if !response.ok() {
        let message = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|body| body["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {}", response.status()));
        return Err(ApiError(message));
    }
    response
        .json::<T>()
        .await
        .map_err(|error| ApiError(error.to_string()))
}

fn query_escape(text: &str) -> String {
    js_sys::encode_uri_component(text)
        .as_string()
        .unwrap_or_default()
}

/// The robot's best items for `question`, best first.
pub async fn search(token: &str, question: &str) -> Result<Vec<KnowledgeItem>, ApiError> {
    let url = format!("/api/agent/knowledge/search?q={}", query_escape(question));
    answer::<SearchAnswer>(authorized(Request::get(&url), token).send().await)
        .await
        .map(|answer| answer.results)
}

/// The items the robot answered with most.
pub async fn recommended(token: &str) -> Result<Vec<KnowledgeItem>, ApiError> {
    answer::<RecommendedAnswer>(
        authorized(
            Request::get("/api/agent/knowledge/recommended?limit=10"),
            token,
        )
        .send()
        .await,
    )
    .await
    .map(|answer| answer.items)
}

pub async fn phrases(token: &str) -> Result<Vec<CannedPhrase>, ApiError> {
    answer::<PhrasesAnswer>(
        authorized(Request::get("/api/agent/canned-phrases"), token)
            .send()
            .await,
    )
    .await
    .map(|answer| answer.phrases)
}

pub async fn create_phrase(token: &str, input: &PhraseInput) -> Result<CannedPhrase, ApiError> {
    let request = authorized(Request::post("/api/agent/canned-phrases"), token)
        .json(input)
        .map_err(|error| ApiError(error.to_string()))?;
    answer(request.send().await).await
}

pub async fn update_phrase(
    token: &str,
    id: &str,
    input: &PhraseInput,
) -> Result<CannedPhrase, ApiError> {
    let url = format!("/api/agent/canned-phrases/{}", query_escape(id));
    let request = authorized(Request::put(&url), token)
        .json(input)
        .map_err(|error| ApiError(error.to_string()))?;
    answer(request.send().await).await
}

pub async fn delete_phrase(token: &str, id: &str) -> Result<(), ApiError> {
    let url = format!("/api/agent/canned-phrases/{}", query_escape(id));
    let response = authorized(Request::delete(&url), token)
        .send()
        .await
        .map_err(|error| ApiError(error.to_string()))?;
    if response.ok() {
        Ok(())
    } else {
        Err(ApiError(format!("HTTP {}", response.status())))
    }
}

/// The phrases matching what follows `/` in the composer (category or content, folded like
/// every comparison in kefu-core), for the `/` shortcut.
pub fn phrases_matching<'a>(phrases: &'a [CannedPhrase], typed: &str) -> Vec<&'a CannedPhrase> {
    let wanted = kefu_core::text::normalize(typed).to_lowercase();
    phrases
        .iter()
        .filter(|phrase| {
            wanted.is_empty()
                || kefu_core::text::normalize(&phrase.content)
                    .to_lowercase()
                    .contains(&wanted)
                || kefu_core::text::normalize(&phrase.category)
                    .to_lowercase()
                    .contains(&wanted)
        })
        .take(8)
        .collect()
}

/// What follows a leading `/` in the composer, if the agent is asking for a phrase.
pub fn slash_query(draft: &str) -> Option<&str> {
    draft
        .strip_prefix('/')
        .filter(|rest| !rest.contains('\n') && rest.chars().count() <= 20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn phrase(category: &str, content: &str) -> CannedPhrase {
        CannedPhrase {
            id: content.into(),
            category: category.into(),
            content: content.into(),
            shared: true,
        }
    }

    #[test]
    fn a_slash_opens_the_phrase_search_and_filters_by_category_or_content() {
        assert_eq!(slash_query("/问候"), Some("问候"));
        assert_eq!(slash_query("/"), Some(""));
        assert_eq!(slash_query("好的 /x"), None);
        assert_eq!(slash_query("/a\nb"), None);
        let phrases = [
            phrase("问候", "您好，很高兴为您服务"),
            phrase("结束", "请问还有其他问题吗？"),
            phrase("Greeting", "Hello!"),
        ];
        assert_eq!(phrases_matching(&phrases, "问候").len(), 1);
        assert_eq!(phrases_matching(&phrases, "其他").len(), 1);
        assert_eq!(
            phrases_matching(&phrases, "ＨＥＬＬＯ").len(),
            1,
            "full-width and case fold"
        );
        assert_eq!(phrases_matching(&phrases, "").len(), 3);
    }
}
