//! Tools: definitions (`tools/list`) and calls (`tools/call`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ContentBlock, Icon, JsonObject, Meta, TaskMetadata};

/// Hints about a tool's behaviour (2025-03-26). Hints only: a client must not rely on them
/// for safety when the server is not trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy data, when not read-only (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling it again with the same arguments has no further effect (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool reaches an open world of external entities (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// How a tool may be executed (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// Whether `tools/call` may or must be task-augmented: `"forbidden"` (the default),
    /// `"optional"` or `"required"` (see the `TASK_SUPPORT_*` constants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<String>,
}

impl ToolExecution {
    /// `taskSupport`: the tool cannot be called as a task.
    pub const TASK_SUPPORT_FORBIDDEN: &'static str = "forbidden";
    /// `taskSupport`: the tool may be called as a task or not.
    pub const TASK_SUPPORT_OPTIONAL: &'static str = "optional";
    /// `taskSupport`: the tool must be called as a task.
    pub const TASK_SUPPORT_REQUIRED: &'static str = "required";
}

/// The definition of a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The programmatic name, unique within the server.
    pub name: String,
    /// A human-readable name (2025-06-18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the arguments; its `type` is `"object"`.
    pub input_schema: JsonObject,
    /// The JSON Schema of `structuredContent` in the result (2025-06-18); `type: "object"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
    /// Behaviour hints (2025-03-26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// How the tool may be executed (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Icons for the tool (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Metadata (2025-06-18).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl Default for Tool {
    /// A nameless tool that takes an object with no declared properties
    /// (`inputSchema: {"type": "object"}`).
    fn default() -> Self {
        Tool {
            name: String::new(),
            title: None,
            description: None,
            input_schema: object_schema(),
            output_schema: None,
            annotations: None,
            execution: None,
            icons: None,
            meta: None,
        }
    }
}

/// `{"type": "object"}`.
fn object_schema() -> JsonObject {
    let mut schema = JsonObject::new();
    schema.insert("type".into(), Value::String("object".into()));
    schema
}

impl Tool {
    /// A tool with a name, a description and the JSON Schema of its arguments.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: JsonObject,
    ) -> Self {
        Tool {
            name: name.into(),
            description: Some(description.into()),
            input_schema,
            ..Default::default()
        }
    }
}

/// The parameters of `tools/call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// The tool's name.
    pub name: String,
    /// The arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// Asks for the call to run as a task (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Metadata (`progressToken`, …).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The result of `tools/call`. A failure of the tool itself is a result with
/// `isError: true` (so the model can see it), not a JSON-RPC error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// The unstructured result.
    pub content: Vec<ContentBlock>,
    /// The structured result, matching the tool's `outputSchema` (2025-06-18: an object;
    /// 2026-07-28: any JSON value; a non-object is dropped for older clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the call failed (absent: it did not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CallToolResult {
    /// A successful result with these blocks.
    pub fn success(content: Vec<ContentBlock>) -> Self {
        CallToolResult {
            content,
            ..Default::default()
        }
    }

    /// A failed result (`isError: true`) with these blocks.
    pub fn error(content: Vec<ContentBlock>) -> Self {
        CallToolResult {
            content,
            is_error: Some(true),
            ..Default::default()
        }
    }

    /// A successful result of one text block.
    pub fn text(text: impl Into<String>) -> Self {
        CallToolResult::success(vec![ContentBlock::text(text)])
    }

    /// A failed result (`isError: true`) of one text block saying what went wrong.
    pub fn error_text(text: impl Into<String>) -> Self {
        CallToolResult::error(vec![ContentBlock::text(text)])
    }

    /// A structured result: `value` as `structuredContent`, plus the same JSON serialised as
    /// a text block for clients that do not read structured content (the spec asks for
    /// both). `structuredContent` must be an object: any other value is sent as the text
    /// block only.
    pub fn structured(value: Value) -> Self {
        let text = value.to_string();
        let structured_content = value.is_object().then_some(value);
        CallToolResult {
            content: vec![ContentBlock::text(text)],
            structured_content,
            ..Default::default()
        }
    }
}

/// The result of `tools/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// The tools on this page.
    pub tools: Vec<Tool>,
    /// The cursor of the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
