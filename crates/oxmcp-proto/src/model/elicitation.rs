//! Elicitation: the server asks the user for input through the client
//! (`elicitation/create`, 2025-06-18; URL mode 2025-11-25).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{JsonObject, Meta, TaskMetadata};

/// Form mode: the client shows a form built from `requestedSchema`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// What is asked, for the user.
    pub message: String,
    /// A flat JSON Schema object (`type: "object"`, `properties` of primitive types only).
    pub requested_schema: JsonObject,
    /// Asks for the request to run as a task (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// URL mode (2025-11-25): the client sends the user to a URL, for input that must not pass
/// through the client (credentials, payments, OAuth).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestUrlParams {
    /// Why the user should open the URL.
    pub message: String,
    /// The URL.
    pub url: String,
    /// The id that `notifications/elicitation/complete` names when the user is done
    /// (2025-11-25; 2026-07-28 has none: left empty, it is not sent).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub elicitation_id: String,
    /// Asks for the request to run as a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The parameters of `elicitation/create`, told apart by `mode` (absent means form).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ElicitRequestParams {
    /// `"mode": "form"` (or no mode).
    Form(ElicitRequestFormParams),
    /// `"mode": "url"`.
    Url(ElicitRequestUrlParams),
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let mode = match v.get("mode") {
            None | Some(Value::Null) => "form",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(D::Error::custom("`mode` must be a string")),
        };
        match mode {
            "form" => ElicitRequestFormParams::deserialize(v)
                .map(ElicitRequestParams::Form)
                .map_err(D::Error::custom),
            "url" => ElicitRequestUrlParams::deserialize(v)
                .map(ElicitRequestParams::Url)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "unknown elicitation mode {other:?}: expected \"form\" or \"url\""
            ))),
        }
    }
}

impl ElicitRequestParams {
    /// A form: `message` for the user, `requested_schema` the flat object schema to fill.
    pub fn form(message: impl Into<String>, requested_schema: JsonObject) -> Self {
        ElicitRequestParams::Form(ElicitRequestFormParams {
            message: message.into(),
            requested_schema,
            ..Default::default()
        })
    }

    /// A URL the user should open; `elicitation_id` identifies it in
    /// `notifications/elicitation/complete`.
    pub fn url(
        message: impl Into<String>,
        url: impl Into<String>,
        elicitation_id: impl Into<String>,
    ) -> Self {
        ElicitRequestParams::Url(ElicitRequestUrlParams {
            message: message.into(),
            url: url.into(),
            elicitation_id: elicitation_id.into(),
            ..Default::default()
        })
    }

    /// The message for the user.
    pub fn message(&self) -> &str {
        match self {
            ElicitRequestParams::Form(f) => &f.message,
            ElicitRequestParams::Url(u) => &u.message,
        }
    }
}

/// What the user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted the form (or agreed to open the URL).
    Accept,
    /// Explicitly declined.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// The result of `elicitation/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values (form mode, `accept` only): strings, numbers, booleans, and
    /// arrays of strings (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The parameters of `notifications/elicitation/complete` (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The id of the URL elicitation that completed.
    pub elicitation_id: String,
}
