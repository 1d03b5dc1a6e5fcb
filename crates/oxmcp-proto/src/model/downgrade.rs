//! Shaping 2025-11-25 values for a peer that negotiated an older revision.
//!
//! The model is that of 2025-11-25. What goes to a peer on an older revision is serialised
//! from it and then passed through [`downgrade_result`], [`downgrade_request`] or
//! [`downgrade_notification`], which remove what that revision's schema does not define
//! and rewrite what it cannot express, so that no meaning is lost silently:
//!
//! | what | before | becomes |
//! |---|---|---|
//! | audio content | 2025-03-26 | a text block saying audio was omitted, naming its type |
//! | tool `annotations`, `completions` capability | 2025-03-26 | removed |
//! | `notifications/progress` `message` | 2025-03-26 | removed |
//! | resource-link content | 2025-06-18 | a text block naming the URI (and name, type, description) |
//! | `structuredContent` | 2025-06-18 | removed; its JSON becomes a text block if there is no text block |
//! | `title` (tools, resources, templates, prompts, arguments, implementations, references) | 2025-06-18 | removed; a tool's `title` moves to `annotations.title` if that is empty |
//! | `outputSchema`, `_meta` of tools, resources, templates, prompts, roots, content, resource contents | 2025-06-18 | removed |
//! | `annotations.lastModified` | 2025-06-18 | removed |
//! | `completion/complete` `context`, elicitation capability | 2025-06-18 | removed |
//! | `icons`, `websiteUrl`, `description` of implementations, `execution`, `tasks`, `task` | 2025-11-25 | removed |
//! | sampling `tools`, `toolChoice`, sampling/elicitation sub-capabilities | 2025-11-25 | removed |
//! | sampling content arrays | 2025-11-25 | one message per block (requests); one block (results) |
//! | `tool_use` / `tool_result` sampling blocks | 2025-11-25 | a text block describing the call or its result |
//! | `_meta` of sampling messages | 2025-11-25 | removed |
//! | elicitation `mode`, URL mode | 2025-11-25 | removed; a URL elicitation becomes a form with the URL in its message |
//! | titled or multi-select enums, `default` of string and number fields in elicitation forms | 2025-11-25 | `enum` + `enumNames`; a string field listing the choices; removed |
//! | `structuredContent` that is not an object (tool results, sampling `tool_result` blocks) | 2026-07-28 | removed; its JSON becomes a text block if there is no text block |
//!
//! Methods and notifications an older revision does not have at all (tasks, elicitation
//! before 2025-06-18, …) are left as they are: the session refuses to send them (see
//! [`methods::exists_in`]). For 2025-11-25 every function returns at once but for the
//! last rule of the table; for 2026-07-28 every function returns at once.

use serde_json::{Map, Value};

use super::methods;
use crate::version::ProtocolVersion;
use crate::version::ProtocolVersion::{V2025_03_26, V2025_06_18, V2025_11_25, V2026_07_28};

type Object = Map<String, Value>;

/// Fields of one type, by the revision that added them.
type Added = &'static [(ProtocolVersion, &'static [&'static str])];

const IMPLEMENTATION: Added = &[
    (V2025_06_18, &["title"]),
    (V2025_11_25, &["description", "icons", "websiteUrl"]),
];
const SERVER_CAPABILITIES: Added = &[(V2025_03_26, &["completions"]), (V2025_11_25, &["tasks"])];
const CLIENT_CAPABILITIES: Added = &[(V2025_06_18, &["elicitation"]), (V2025_11_25, &["tasks"])];
const SAMPLING_CAPABILITY: Added = &[(V2025_11_25, &["context", "tools"])];
const ELICITATION_CAPABILITY: Added = &[(V2025_11_25, &["form", "url"])];
const TOOL: Added = &[
    (V2025_03_26, &["annotations"]),
    (V2025_06_18, &["title", "outputSchema", "_meta"]),
    (V2025_11_25, &["icons", "execution"]),
];
/// Resources, resource templates and prompts.
const LISTED: Added = &[
    (V2025_06_18, &["title", "_meta"]),
    (V2025_11_25, &["icons"]),
];
const TITLED: Added = &[(V2025_06_18, &["title"])];
const ANNOTATIONS: Added = &[(V2025_06_18, &["lastModified"])];
/// Content blocks and resource contents.
const CONTENT: Added = &[(V2025_06_18, &["_meta"])];
const RESOURCE_LINK: Added = &[(V2025_11_25, &["icons"])];
const ROOT: Added = &[(V2025_06_18, &["_meta"])];
const SAMPLING_MESSAGE: Added = &[(V2025_11_25, &["_meta"])];
const CREATE_MESSAGE_PARAMS: Added = &[(V2025_11_25, &["tools", "toolChoice", "task"])];
const CALL_TOOL_PARAMS: Added = &[(V2025_11_25, &["task"])];
const COMPLETE_PARAMS: Added = &[(V2025_06_18, &["context"])];
const ELICIT_PARAMS: Added = &[(V2025_11_25, &["mode", "task"])];
const REQUESTED_SCHEMA: Added = &[(V2025_11_25, &["$schema"])];
const PROGRESS_PARAMS: Added = &[(V2025_03_26, &["message"])];

/// Shapes the result of `method` for `version`. `result` is a 2025-11-25 result of a
/// request of either side (`initialize`, `tools/list`, `tools/call`, …, and the client's
/// `sampling/createMessage`, `elicitation/create`, `roots/list`).
pub fn downgrade_result(method: &str, version: ProtocolVersion, result: &mut Value) {
    if version >= V2026_07_28 {
        return;
    }
    let Some(r) = result.as_object_mut() else {
        return;
    };
    if method == methods::TOOLS_CALL {
        object_structured_content(r);
    }
    if version >= V2025_11_25 {
        return;
    }
    match method {
        methods::INITIALIZE => {
            if let Some(caps) = r.get_mut("capabilities") {
                server_capabilities(version, caps);
            }
            if let Some(info) = r.get_mut("serverInfo") {
                strip(version, info, IMPLEMENTATION);
            }
        }
        methods::TOOLS_LIST => each(r.get_mut("tools"), |t| tool(version, t)),
        methods::TOOLS_CALL => call_tool_result(version, r),
        methods::RESOURCES_LIST => each(r.get_mut("resources"), |x| listed(version, x)),
        methods::RESOURCES_TEMPLATES_LIST => {
            each(r.get_mut("resourceTemplates"), |x| listed(version, x))
        }
        methods::RESOURCES_READ => each(r.get_mut("contents"), |c| strip(version, c, CONTENT)),
        methods::PROMPTS_LIST => each(r.get_mut("prompts"), |p| prompt(version, p)),
        methods::PROMPTS_GET => each(r.get_mut("messages"), |m| {
            if let Some(c) = m.get_mut("content") {
                content_block(version, c);
            }
        }),
        methods::ROOTS_LIST => each(r.get_mut("roots"), |root| strip(version, root, ROOT)),
        methods::SAMPLING_CREATE_MESSAGE => create_message_result(version, r),
        methods::ELICITATION_CREATE => elicit_result(version, r),
        _ => {}
    }
}

/// Shapes the parameters of request `method` for `version`: the server's requests
/// (`sampling/createMessage`, `elicitation/create`, `roots/list`) and the client's
/// (`initialize`, `tools/call`, `completion/complete`, …).
pub fn downgrade_request(method: &str, version: ProtocolVersion, params: &mut Value) {
    if version >= V2026_07_28 {
        return;
    }
    let Some(p) = params.as_object_mut() else {
        return;
    };
    if method == methods::SAMPLING_CREATE_MESSAGE {
        each(p.get_mut("messages"), |m| match m.get_mut("content") {
            Some(Value::Array(blocks)) => blocks.iter_mut().for_each(tool_result_block),
            Some(block) => tool_result_block(block),
            None => {}
        });
    }
    if version >= V2025_11_25 {
        return;
    }
    match method {
        methods::SAMPLING_CREATE_MESSAGE => create_message_params(version, p),
        methods::ELICITATION_CREATE => elicit_params(version, p),
        methods::INITIALIZE => {
            if let Some(caps) = p.get_mut("capabilities") {
                client_capabilities(version, caps);
            }
            if let Some(info) = p.get_mut("clientInfo") {
                strip(version, info, IMPLEMENTATION);
            }
        }
        methods::TOOLS_CALL => strip_object(version, p, CALL_TOOL_PARAMS),
        methods::COMPLETION_COMPLETE => {
            strip_object(version, p, COMPLETE_PARAMS);
            if let Some(r) = p.get_mut("ref") {
                strip(version, r, TITLED);
            }
        }
        _ => {}
    }
}

/// Shapes the parameters of notification `method` for `version`.
pub fn downgrade_notification(method: &str, version: ProtocolVersion, params: &mut Value) {
    if version >= V2025_11_25 {
        return;
    }
    let Some(p) = params.as_object_mut() else {
        return;
    };
    if method == methods::NOTIFICATION_PROGRESS {
        strip_object(version, p, PROGRESS_PARAMS);
    }
}

// ---------------------------------------------------------------------------------------
// The table machinery.

/// Removes the fields of `value` (an object) that `version` predates.
fn strip(version: ProtocolVersion, value: &mut Value, added: Added) {
    if let Some(obj) = value.as_object_mut() {
        strip_object(version, obj, added);
    }
}

fn strip_object(version: ProtocolVersion, obj: &mut Object, added: Added) {
    for (since, fields) in added {
        if version < *since {
            for field in *fields {
                obj.remove(*field);
            }
        }
    }
}

/// Runs `f` on each element of `value`, if it is an array.
fn each(value: Option<&mut Value>, f: impl FnMut(&mut Value)) {
    if let Some(Value::Array(items)) = value {
        items.iter_mut().for_each(f);
    }
}

fn str_field<'a>(obj: &'a Object, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// A text block, carrying over the annotations of the block it replaces.
fn text_block(text: String, annotations: Option<Value>) -> Value {
    let mut obj = Object::new();
    obj.insert("type".into(), "text".into());
    obj.insert("text".into(), text.into());
    if let Some(a) = annotations {
        obj.insert("annotations".into(), a);
    }
    Value::Object(obj)
}

// ---------------------------------------------------------------------------------------
// One function per kind.

fn server_capabilities(version: ProtocolVersion, caps: &mut Value) {
    strip(version, caps, SERVER_CAPABILITIES);
}

fn client_capabilities(version: ProtocolVersion, caps: &mut Value) {
    let Some(c) = caps.as_object_mut() else {
        return;
    };
    strip_object(version, c, CLIENT_CAPABILITIES);
    if let Some(s) = c.get_mut("sampling") {
        strip(version, s, SAMPLING_CAPABILITY);
    }
    if version < V2025_11_25 {
        // `{"url": {}}` alone means "no form mode"; before URL mode, `{}` means form mode.
        let url_only = c
            .get("elicitation")
            .and_then(Value::as_object)
            .is_some_and(|e| e.contains_key("url") && !e.contains_key("form"));
        if url_only {
            c.remove("elicitation");
        } else if let Some(e) = c.get_mut("elicitation") {
            strip(version, e, ELICITATION_CAPABILITY);
        }
    }
}

fn tool(version: ProtocolVersion, tool: &mut Value) {
    let Some(t) = tool.as_object_mut() else {
        return;
    };
    // Display-name precedence is title, annotations.title, name: keep the title where a
    // revision with annotations but without titles can show it.
    if version >= V2025_03_26
        && version < V2025_06_18
        && let Some(title) = t.get("title").cloned()
    {
        let annotations = t
            .entry("annotations")
            .or_insert_with(|| Value::Object(Object::new()));
        if let Some(a) = annotations.as_object_mut() {
            a.entry("title").or_insert(title);
        }
    }
    strip_object(version, t, TOOL);
}

/// A resource, resource template or prompt's common fields.
fn listed(version: ProtocolVersion, item: &mut Value) {
    strip(version, item, LISTED);
    if let Some(a) = item.get_mut("annotations") {
        strip(version, a, ANNOTATIONS);
    }
}

fn prompt(version: ProtocolVersion, p: &mut Value) {
    listed(version, p);
    each(p.get_mut("arguments"), |a| strip(version, a, TITLED));
}

fn call_tool_result(version: ProtocolVersion, r: &mut Object) {
    each(r.get_mut("content"), |c| content_block(version, c));
    if version < V2025_06_18
        && let Some(structured) = r.remove("structuredContent")
    {
        structured_as_text(r, &structured);
    }
}

/// Keeps structured output readable by a client that cannot see `structuredContent`: the
/// spec asks servers to send its JSON as a text block too, so add one only if missing.
fn structured_as_text(r: &mut Object, structured: &Value) {
    let content = r
        .entry("content")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(blocks) = content {
        let has_text = blocks
            .iter()
            .any(|b| b.get("type").and_then(Value::as_str) == Some("text"));
        if !has_text {
            blocks.push(text_block(structured.to_string(), None));
        }
    }
}

/// Structured content that is not an object (2026-07-28 allows any JSON value) is removed
/// for the handshake revisions, which require an object; its JSON stays as a text block.
fn object_structured_content(r: &mut Object) {
    if r.get("structuredContent").is_some_and(|s| !s.is_object())
        && let Some(structured) = r.remove("structuredContent")
    {
        structured_as_text(r, &structured);
    }
}

/// A sampling block: a `tool_result` block's structured content must be an object.
fn tool_result_block(block: &mut Value) {
    if let Some(b) = block.as_object_mut()
        && str_field(b, "type") == Some("tool_result")
    {
        object_structured_content(b);
    }
}

/// A content block of a tool result or prompt message (text, image, audio, resource link,
/// embedded resource).
fn content_block(version: ProtocolVersion, block: &mut Value) {
    let Some(b) = block.as_object_mut() else {
        return;
    };
    let kind = str_field(b, "type").map(str::to_owned);
    match kind.as_deref() {
        Some("audio") if version < V2025_03_26 => {
            let text = format!(
                "[audio content omitted: protocol revision {version} cannot carry audio ({})]",
                str_field(b, "mimeType").unwrap_or("unknown type")
            );
            *block = text_block(text, b.remove("annotations"));
        }
        Some("resource_link") if version < V2025_06_18 => {
            let text = resource_link_text(b);
            *block = text_block(text, b.remove("annotations"));
        }
        Some("resource_link") => strip_object(version, b, RESOURCE_LINK),
        Some("resource") => {
            if let Some(r) = b.get_mut("resource") {
                strip(version, r, CONTENT);
            }
        }
        _ => {}
    }
    strip(version, block, CONTENT);
    if let Some(a) = block.get_mut("annotations") {
        strip(version, a, ANNOTATIONS);
    }
}

/// What a resource link says, as text: `Resource link: <uri> "title" (mime): description`.
fn resource_link_text(link: &Object) -> String {
    let mut text = format!(
        "Resource link: {}",
        str_field(link, "uri").unwrap_or_default()
    );
    if let Some(name) = str_field(link, "title").or_else(|| str_field(link, "name")) {
        text.push_str(&format!(" \"{name}\""));
    }
    if let Some(mime) = str_field(link, "mimeType") {
        text.push_str(&format!(" ({mime})"));
    }
    if let Some(description) = str_field(link, "description") {
        text.push_str(&format!(": {description}"));
    }
    text
}

// Sampling ------------------------------------------------------------------------------

fn create_message_params(version: ProtocolVersion, p: &mut Object) {
    strip_object(version, p, CREATE_MESSAGE_PARAMS);
    let Some(Value::Array(messages)) = p.get_mut("messages") else {
        return;
    };
    let mut out = Vec::with_capacity(messages.len());
    for mut message in messages.drain(..) {
        strip(version, &mut message, SAMPLING_MESSAGE);
        match message.get_mut("content") {
            // One message per block: the older revisions have one block per message.
            Some(Value::Array(blocks)) if version < V2025_11_25 => {
                let mut blocks = std::mem::take(blocks);
                if blocks.is_empty() {
                    blocks.push(text_block(String::new(), None));
                }
                for mut block in blocks {
                    sampling_block(version, &mut block);
                    let mut m = message.clone();
                    if let Some(obj) = m.as_object_mut() {
                        obj.insert("content".into(), block);
                    }
                    out.push(m);
                }
            }
            Some(block) => {
                sampling_block(version, block);
                out.push(message);
            }
            None => out.push(message),
        }
    }
    *messages = out;
}

fn create_message_result(version: ProtocolVersion, r: &mut Object) {
    let Some(content) = r.get_mut("content") else {
        return;
    };
    if let Value::Array(blocks) = content {
        let mut blocks = std::mem::take(blocks);
        blocks.iter_mut().for_each(|b| sampling_block(version, b));
        // One block only: a lone block stays as it is, several become one text block.
        *content = if blocks.len() == 1 {
            blocks.remove(0)
        } else {
            let texts: Vec<String> = blocks.iter().map(block_as_text).collect();
            text_block(texts.join("\n"), None)
        };
    } else {
        sampling_block(version, content);
    }
}

/// A sampling content block (text, image, audio, tool use, tool result).
fn sampling_block(version: ProtocolVersion, block: &mut Value) {
    let Some(b) = block.as_object_mut() else {
        return;
    };
    let kind = str_field(b, "type").map(str::to_owned);
    match kind.as_deref() {
        Some("tool_use") if version < V2025_11_25 => {
            let text = format!(
                "[tool call {} (id {}) with input {}]",
                str_field(b, "name").unwrap_or_default(),
                str_field(b, "id").unwrap_or_default(),
                b.get("input")
                    .map(Value::to_string)
                    .unwrap_or_else(|| "{}".into())
            );
            *block = text_block(text, None);
        }
        Some("tool_result") if version < V2025_11_25 => {
            let texts: Vec<String> = match b.get("content") {
                Some(Value::Array(blocks)) => blocks.iter().map(block_as_text).collect(),
                _ => Vec::new(),
            };
            let mut text = format!(
                "[tool result for call {}",
                str_field(b, "toolUseId").unwrap_or_default()
            );
            if b.get("isError").and_then(Value::as_bool) == Some(true) {
                text.push_str(" (error)");
            }
            text.push_str("]\n");
            text.push_str(&texts.join("\n"));
            if let (Some(structured), true) = (b.get("structuredContent"), texts.is_empty()) {
                text.push_str(&structured.to_string());
            }
            *block = text_block(text, None);
        }
        _ => content_block(version, block),
    }
}

/// A block as plain text: its text, or a note saying what kind of block it was.
fn block_as_text(block: &Value) -> String {
    let kind = block
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    match kind {
        "text" => block
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        "resource_link" => block
            .as_object()
            .map(resource_link_text)
            .unwrap_or_default(),
        "resource" => match block.get("resource") {
            Some(r) => match r.get("text").and_then(Value::as_str) {
                Some(t) => t.to_owned(),
                None => format!(
                    "[binary resource {}]",
                    r.get("uri").and_then(Value::as_str).unwrap_or_default()
                ),
            },
            None => "[resource]".to_owned(),
        },
        other => format!(
            "[{other} content omitted ({})]",
            block
                .get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or("no text form")
        ),
    }
}

// Elicitation ---------------------------------------------------------------------------

fn elicit_params(version: ProtocolVersion, p: &mut Object) {
    if version >= V2025_11_25 {
        return;
    }
    if str_field(p, "mode") == Some("url") {
        // URL mode cannot be expressed: ask with a form that has no fields and shows the URL.
        let message = format!(
            "{}\n\nOpen this URL to continue: {}",
            str_field(p, "message").unwrap_or_default(),
            str_field(p, "url").unwrap_or_default()
        );
        p.insert("message".into(), message.into());
        p.remove("url");
        p.remove("elicitationId");
        p.insert(
            "requestedSchema".into(),
            serde_json::json!({ "type": "object", "properties": {} }),
        );
    }
    strip_object(version, p, ELICIT_PARAMS);
    let Some(schema) = p.get_mut("requestedSchema") else {
        return;
    };
    strip(version, schema, REQUESTED_SCHEMA);
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props
            .values_mut()
            .for_each(|s| primitive_schema(version, s));
    }
}

/// A field of an elicitation form. Before 2025-11-25: no `default` on string and number
/// fields, titled enums as `enum` + `enumNames`, no multi-select.
fn primitive_schema(version: ProtocolVersion, schema: &mut Value) {
    if version >= V2025_11_25 {
        return;
    }
    let Some(s) = schema.as_object_mut() else {
        return;
    };
    let kind = str_field(s, "type").map(str::to_owned);
    match kind.as_deref() {
        Some("boolean") => return,
        Some("array") => {
            let choices = multi_select_choices(s);
            let mut description = str_field(s, "description")
                .map(|d| format!("{d} "))
                .unwrap_or_default();
            description.push_str(&format!(
                "(one or more of {}, separated by commas)",
                choices.join(", ")
            ));
            let title = s.remove("title");
            s.clear();
            s.insert("type".into(), "string".into());
            if let Some(t) = title {
                s.insert("title".into(), t);
            }
            s.insert("description".into(), description.into());
            return;
        }
        _ => {}
    }
    s.remove("default");
    if let Some(Value::Array(options)) = s.remove("oneOf") {
        let consts: Vec<Value> = options
            .iter()
            .filter_map(|o| o.get("const").cloned())
            .collect();
        let titles: Vec<Value> = options
            .iter()
            .map(|o| o.get("title").cloned().unwrap_or(Value::Null))
            .collect();
        s.insert("enum".into(), Value::Array(consts));
        if titles.iter().all(Value::is_string) {
            s.insert("enumNames".into(), Value::Array(titles));
        }
    }
}

/// The choices of a multi-select enum field (`items.enum` or `items.anyOf[].const`).
fn multi_select_choices(s: &Object) -> Vec<String> {
    let Some(items) = s.get("items") else {
        return Vec::new();
    };
    let quoted = |v: &Value| v.as_str().map(|c| format!("\"{c}\""));
    if let Some(Value::Array(values)) = items.get("enum") {
        return values.iter().filter_map(quoted).collect();
    }
    match items.get("anyOf") {
        Some(Value::Array(options)) => options
            .iter()
            .filter_map(|o| o.get("const"))
            .filter_map(quoted)
            .collect(),
        _ => Vec::new(),
    }
}

/// Before 2025-11-25 a form value is a string, number or boolean: lists become one string.
fn elicit_result(version: ProtocolVersion, r: &mut Object) {
    if version >= V2025_11_25 {
        return;
    }
    let Some(Value::Object(content)) = r.get_mut("content") else {
        return;
    };
    for value in content.values_mut() {
        if let Value::Array(items) = value {
            let joined: Vec<String> = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect();
            *value = Value::String(joined.join(","));
        }
    }
}
