//! The legacy wire model against the JSON Schemas of the spec: rich examples of every type,
//! downgraded for each legacy revision, must validate against that revision's definition —
//! strictly, i.e. using no property the revision does not define.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};

use oxmcp_proto::ProtocolVersion;
use oxmcp_proto::RequestId;
use oxmcp_proto::model::downgrade::{downgrade_notification, downgrade_request, downgrade_result};
use oxmcp_proto::model::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use oxmcp_testkit::schemas;

const LEGACY: [ProtocolVersion; 4] = ProtocolVersion::LEGACY;

/// What to downgrade: a result, a request's params or a notification's params.
#[derive(Clone, Copy)]
enum Kind {
    Result,
    Request,
    Notification,
}

/// Serialises `value`, downgrades it for every legacy revision that defines `def`, and
/// checks it (strictly) against the definition `pointer`. Returns the downgraded values.
fn check_all<T: Serialize>(
    kind: Kind,
    method: &str,
    def: &str,
    pointer: &str,
    value: &T,
) -> Vec<(ProtocolVersion, Value)> {
    let original = serde_json::to_value(value).unwrap();
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for version in LEGACY {
        let rev = version.as_str();
        if !schemas().has(rev, def) {
            continue;
        }
        let mut v = original.clone();
        match kind {
            Kind::Result => downgrade_result(method, version, &mut v),
            Kind::Request => downgrade_request(method, version, &mut v),
            Kind::Notification => downgrade_notification(method, version, &mut v),
        }
        if let Err(e) = schemas().check(rev, pointer, true, &v) {
            failures.push(e);
        }
        out.push((version, v));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    out
}

fn check_result<T: Serialize>(method: &str, def: &str, value: &T) -> Vec<(ProtocolVersion, Value)> {
    check_all(Kind::Result, method, def, def, value)
}

fn check_request<T: Serialize>(
    method: &str,
    def: &str,
    params: &T,
) -> Vec<(ProtocolVersion, Value)> {
    check_all(
        Kind::Request,
        method,
        def,
        &format!("{def}/properties/params"),
        params,
    )
}

fn check_notification<T: Serialize>(
    method: &str,
    def: &str,
    params: &T,
) -> Vec<(ProtocolVersion, Value)> {
    check_all(
        Kind::Notification,
        method,
        def,
        &format!("{def}/properties/params"),
        params,
    )
}

fn at(results: &[(ProtocolVersion, Value)], version: ProtocolVersion) -> &Value {
    &results.iter().find(|(v, _)| *v == version).unwrap().1
}

/// Serialises and deserialises `value` and checks that nothing changed.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_value(value).unwrap();
    let back: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, value, "round trip of {json}");
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

// ---------------------------------------------------------------------------------------
// Rich examples.

fn meta() -> Meta {
    json!({ "example.com/trace": "abc", "progressToken": 7 })
        .as_object()
        .unwrap()
        .clone()
}

fn obj(v: Value) -> JsonObject {
    v.as_object().unwrap().clone()
}

fn icon() -> Icon {
    Icon {
        src: "https://example.com/icon.png".into(),
        mime_type: Some("image/png".into()),
        sizes: Some(vec!["48x48".into(), "any".into()]),
        theme: Some(IconTheme::Dark),
    }
}

fn annotations() -> Annotations {
    Annotations {
        audience: Some(vec![Role::User, Role::Assistant]),
        priority: Some(0.5),
        last_modified: Some("2025-01-12T15:00:58Z".into()),
    }
}

fn every_content_block() -> Vec<ContentBlock> {
    vec![
        ContentBlock::Text(TextContent {
            text: "hello".into(),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        ContentBlock::Image(ImageContent {
            data: "aGVsbG8=".into(),
            mime_type: "image/png".into(),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        ContentBlock::Audio(AudioContent {
            data: "aGVsbG8=".into(),
            mime_type: "audio/wav".into(),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        ContentBlock::ResourceLink(ResourceLink {
            uri: "file:///project/README.md".into(),
            name: "readme".into(),
            title: Some("The README".into()),
            description: Some("What the project is".into()),
            mime_type: Some("text/markdown".into()),
            size: Some(1234),
            icons: Some(vec![icon()]),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        ContentBlock::Resource(EmbeddedResource {
            resource: ResourceContents::Text(TextResourceContents {
                uri: "file:///a.txt".into(),
                mime_type: Some("text/plain".into()),
                text: "a".into(),
                meta: Some(meta()),
            }),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        ContentBlock::Resource(EmbeddedResource {
            resource: ResourceContents::Blob(BlobResourceContents {
                uri: "file:///a.bin".into(),
                mime_type: Some("application/octet-stream".into()),
                blob: "AAEC".into(),
                meta: Some(meta()),
            }),
            annotations: None,
            meta: None,
        }),
    ]
}

fn full_implementation() -> Implementation {
    Implementation {
        name: "oxmcp-test".into(),
        title: Some("oxmcp test".into()),
        version: "1.2.3".into(),
        description: Some("A test implementation".into()),
        icons: Some(vec![icon()]),
        website_url: Some("https://example.com".into()),
    }
}

fn full_server_capabilities() -> ServerCapabilities {
    ServerCapabilities {
        experimental: Some(BTreeMap::from([(
            "x-feature".to_owned(),
            obj(json!({ "on": true })),
        )])),
        logging: Some(JsonObject::new()),
        completions: Some(JsonObject::new()),
        prompts: Some(PromptsCapability {
            list_changed: Some(true),
        }),
        resources: Some(ResourcesCapability {
            subscribe: Some(true),
            list_changed: Some(true),
        }),
        tools: Some(ToolsCapability {
            list_changed: Some(true),
        }),
        tasks: Some(ServerTasksCapability {
            list: Some(JsonObject::new()),
            cancel: Some(JsonObject::new()),
            requests: Some(ServerTaskRequests {
                tools: Some(ToolsTaskRequests {
                    call: Some(JsonObject::new()),
                }),
            }),
        }),
        // 2026-07-28 only: not part of the legacy schemas checked here.
        extensions: None,
    }
}

fn full_client_capabilities() -> ClientCapabilities {
    ClientCapabilities {
        experimental: Some(BTreeMap::from([(
            "x-feature".to_owned(),
            JsonObject::new(),
        )])),
        roots: Some(RootsCapability {
            list_changed: Some(true),
        }),
        sampling: Some(SamplingCapability {
            context: Some(JsonObject::new()),
            tools: Some(JsonObject::new()),
        }),
        elicitation: Some(ElicitationCapability {
            form: Some(JsonObject::new()),
            url: Some(JsonObject::new()),
        }),
        tasks: Some(ClientTasksCapability {
            list: Some(JsonObject::new()),
            cancel: Some(JsonObject::new()),
            requests: Some(ClientTaskRequests {
                sampling: Some(SamplingTaskRequests {
                    create_message: Some(JsonObject::new()),
                }),
                elicitation: Some(ElicitationTaskRequests {
                    create: Some(JsonObject::new()),
                }),
            }),
        }),
        // 2026-07-28 only: not part of the legacy schemas checked here.
        extensions: None,
    }
}

fn full_tool() -> Tool {
    Tool {
        name: "search".into(),
        title: Some("Search".into()),
        description: Some("Searches the index.".into()),
        input_schema: obj(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": { "q": { "type": "string", "description": "The query" } },
            "required": ["q"],
            "additionalProperties": false
        })),
        output_schema: Some(obj(json!({
            "type": "object",
            "properties": { "hits": { "type": "integer" } },
            "required": ["hits"]
        }))),
        annotations: Some(ToolAnnotations {
            title: None,
            read_only_hint: Some(true),
            destructive_hint: Some(false),
            idempotent_hint: Some(true),
            open_world_hint: Some(false),
        }),
        execution: Some(ToolExecution {
            task_support: Some(ToolExecution::TASK_SUPPORT_OPTIONAL.into()),
        }),
        icons: Some(vec![icon()]),
        meta: Some(meta()),
    }
}

fn full_resource() -> Resource {
    Resource {
        uri: "file:///project/src/main.rs".into(),
        name: "main.rs".into(),
        title: Some("Main".into()),
        description: Some("The entry point".into()),
        mime_type: Some("text/x-rust".into()),
        size: Some(42),
        annotations: Some(annotations()),
        icons: Some(vec![icon()]),
        meta: Some(meta()),
    }
}

fn full_template() -> ResourceTemplate {
    ResourceTemplate {
        uri_template: "file:///project/{path}".into(),
        name: "project-file".into(),
        title: Some("Project file".into()),
        description: Some("Any file of the project".into()),
        mime_type: Some("text/plain".into()),
        annotations: Some(annotations()),
        icons: Some(vec![icon()]),
        meta: Some(meta()),
    }
}

fn full_prompt() -> Prompt {
    Prompt {
        name: "review".into(),
        title: Some("Code review".into()),
        description: Some("Reviews code".into()),
        arguments: Some(vec![PromptArgument {
            name: "code".into(),
            title: Some("Code".into()),
            description: Some("The code to review".into()),
            required: Some(true),
        }]),
        icons: Some(vec![icon()]),
        meta: Some(meta()),
    }
}

fn full_call_tool_result() -> CallToolResult {
    CallToolResult {
        content: every_content_block(),
        structured_content: Some(json!({ "hits": 3 })),
        is_error: Some(false),
        meta: Some(meta()),
    }
}

fn tool_use() -> SamplingContentBlock {
    SamplingContentBlock::ToolUse(ToolUseContent {
        id: "call-1".into(),
        name: "search".into(),
        input: obj(json!({ "q": "rust" })),
        meta: Some(meta()),
    })
}

fn tool_result() -> SamplingContentBlock {
    SamplingContentBlock::ToolResult(ToolResultContent {
        tool_use_id: "call-1".into(),
        content: vec![
            ContentBlock::text("3 hits"),
            ContentBlock::resource_link("file:///hit/1", "hit"),
        ],
        structured_content: Some(json!({ "hits": 3 })),
        is_error: Some(false),
        meta: Some(meta()),
    })
}

fn full_create_message_params() -> CreateMessageRequestParams {
    CreateMessageRequestParams {
        messages: vec![
            SamplingMessage::user_text("Find rust things"),
            SamplingMessage {
                role: Role::Assistant,
                content: SamplingMessageContent::Multiple(vec![
                    SamplingContentBlock::text("Searching."),
                    tool_use(),
                ]),
                meta: Some(meta()),
            },
            SamplingMessage {
                role: Role::User,
                content: SamplingMessageContent::Multiple(vec![tool_result()]),
                meta: None,
            },
            SamplingMessage {
                role: Role::User,
                content: SamplingMessageContent::Single(SamplingContentBlock::Audio(
                    AudioContent {
                        data: "aGVsbG8=".into(),
                        mime_type: "audio/wav".into(),
                        ..Default::default()
                    },
                )),
                meta: None,
            },
            SamplingMessage {
                role: Role::User,
                content: SamplingMessageContent::Single(SamplingContentBlock::Image(
                    ImageContent {
                        data: "aGVsbG8=".into(),
                        mime_type: "image/png".into(),
                        annotations: Some(annotations()),
                        meta: Some(meta()),
                    },
                )),
                meta: None,
            },
        ],
        model_preferences: Some(ModelPreferences {
            hints: Some(vec![ModelHint {
                name: Some("claude".into()),
            }]),
            cost_priority: Some(0.2),
            speed_priority: Some(0.5),
            intelligence_priority: Some(0.9),
        }),
        system_prompt: Some("Be brief.".into()),
        include_context: Some(IncludeContext::ThisServer),
        temperature: Some(0.7),
        max_tokens: 256,
        stop_sequences: Some(vec!["STOP".into()]),
        metadata: Some(obj(json!({ "provider": "x" }))),
        tools: Some(vec![full_tool()]),
        tool_choice: Some(ToolChoice {
            mode: Some(ToolChoiceMode::Auto),
        }),
        task: Some(TaskMetadata { ttl: Some(60_000) }),
        meta: Some(meta()),
    }
}

fn full_elicit_form() -> ElicitRequestParams {
    ElicitRequestParams::Form(ElicitRequestFormParams {
        message: "Tell us about you".into(),
        requested_schema: obj(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "name": { "type": "string", "title": "Name", "minLength": 1, "maxLength": 50, "default": "Ann" },
                "email": { "type": "string", "format": "email", "description": "Where to reach you" },
                "age": { "type": "integer", "minimum": 0, "maximum": 150, "default": 30 },
                "ok": { "type": "boolean", "default": true },
                "color": { "type": "string", "enum": ["red", "green"], "default": "red" },
                "size": { "type": "string", "oneOf": [
                    { "const": "s", "title": "Small" }, { "const": "l", "title": "Large" }
                ], "default": "s" },
                "legacy": { "type": "string", "enum": ["a", "b"], "enumNames": ["A", "B"] },
                "tags": { "type": "array", "items": { "type": "string", "enum": ["x", "y"] }, "minItems": 1, "default": ["x"] },
                "flavours": { "type": "array", "title": "Flavours", "items": { "anyOf": [
                    { "const": "v", "title": "Vanilla" }, { "const": "c", "title": "Chocolate" }
                ] } }
            },
            "required": ["name"]
        })),
        task: Some(TaskMetadata { ttl: None }),
        meta: Some(meta()),
    })
}

// ---------------------------------------------------------------------------------------
// (1) Every rich example, downgraded for every revision, validates strictly.

#[test]
fn initialize_result_validates_on_every_revision() {
    let result = InitializeResult {
        protocol_version: "2025-11-25".into(),
        capabilities: full_server_capabilities(),
        server_info: full_implementation(),
        instructions: Some("Use search first.".into()),
        meta: Some(meta()),
    };
    round_trip(&result);
    let out = check_result("initialize", "InitializeResult", &result);
    let old = at(&out, ProtocolVersion::V2024_11_05);
    assert!(old["capabilities"].get("completions").is_none());
    assert!(old["capabilities"].get("tasks").is_none());
    assert_eq!(
        old["capabilities"]["experimental"],
        json!({ "x-feature": { "on": true } })
    );
    assert_eq!(
        old["serverInfo"],
        json!({ "name": "oxmcp-test", "version": "1.2.3" })
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_03_26)["capabilities"]["completions"],
        json!({})
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_06_18)["serverInfo"]["title"],
        "oxmcp test"
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_11_25),
        &serde_json::to_value(&result).unwrap()
    );
}

#[test]
fn initialize_request_validates_on_every_revision() {
    let params = InitializeRequestParams {
        protocol_version: "2025-11-25".into(),
        capabilities: full_client_capabilities(),
        client_info: full_implementation(),
        meta: Some(meta()),
    };
    round_trip(&params);
    let out = check_request("initialize", "InitializeRequest", &params);
    assert_eq!(
        at(&out, ProtocolVersion::V2025_06_18)["capabilities"]["elicitation"],
        json!({})
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_06_18)["capabilities"]["sampling"],
        json!({})
    );
    assert!(
        at(&out, ProtocolVersion::V2025_03_26)["capabilities"]
            .get("elicitation")
            .is_none()
    );

    // URL-only elicitation means "no form mode": before URL mode existed, no elicitation.
    let mut url_only = serde_json::to_value(&params).unwrap();
    url_only["capabilities"]["elicitation"] = json!({ "url": {} });
    downgrade_request("initialize", ProtocolVersion::V2025_06_18, &mut url_only);
    assert!(url_only["capabilities"].get("elicitation").is_none());
}

#[test]
fn list_tools_result_validates_on_every_revision() {
    let result = ListToolsResult {
        tools: vec![
            full_tool(),
            Tool::new("echo", "Echoes", obj(json!({ "type": "object" }))),
        ],
        next_cursor: Some("abc".into()),
        meta: Some(meta()),
    };
    round_trip(&result);
    let out = check_result("tools/list", "ListToolsResult", &result);
    let old = at(&out, ProtocolVersion::V2024_11_05);
    assert_eq!(
        old["tools"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["description", "inputSchema", "name"]
    );
    // 2025-03-26 has annotations but no titles: the title moves into annotations.title.
    let v0326 = at(&out, ProtocolVersion::V2025_03_26);
    assert_eq!(v0326["tools"][0]["annotations"]["title"], "Search");
    assert_eq!(v0326["tools"][0]["annotations"]["readOnlyHint"], true);
    assert!(v0326["tools"][0].get("title").is_none());
    let v0618 = at(&out, ProtocolVersion::V2025_06_18);
    assert_eq!(v0618["tools"][0]["title"], "Search");
    assert!(v0618["tools"][0].get("outputSchema").is_some());
    assert!(v0618["tools"][0].get("execution").is_none());
    assert!(v0618["tools"][0].get("icons").is_none());
    assert_eq!(old["nextCursor"], "abc");
}

#[test]
fn call_tool_result_with_every_content_kind_validates_on_every_revision() {
    let result = full_call_tool_result();
    round_trip(&result);
    let out = check_result("tools/call", "CallToolResult", &result);

    let old = at(&out, ProtocolVersion::V2024_11_05);
    let kinds: Vec<&str> = old["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["text", "image", "text", "text", "resource", "resource"]
    );
    let audio = old["content"][2]["text"].as_str().unwrap();
    assert!(
        audio.contains("audio") && audio.contains("audio/wav") && audio.contains("2024-11-05"),
        "{audio}"
    );
    let link = old["content"][3]["text"].as_str().unwrap();
    assert!(
        link.contains("file:///project/README.md") && link.contains("The README"),
        "{link}"
    );
    assert!(old.get("structuredContent").is_none());
    assert_eq!(
        old["content"][0]["annotations"],
        json!({ "audience": ["user", "assistant"], "priority": 0.5 })
    );
    assert_eq!(
        old["_meta"],
        Value::Object(meta()),
        "a result's own _meta is in every revision"
    );

    let v0326 = at(&out, ProtocolVersion::V2025_03_26);
    assert_eq!(v0326["content"][2]["type"], "audio");
    assert_eq!(v0326["content"][3]["type"], "text");

    let v0618 = at(&out, ProtocolVersion::V2025_06_18);
    assert_eq!(v0618["content"][3]["type"], "resource_link");
    assert!(v0618["content"][3].get("icons").is_none());
    assert_eq!(v0618["structuredContent"], json!({ "hits": 3 }));
}

#[test]
fn structured_content_survives_as_text_for_older_clients() {
    // Built without a text block: the downgrade adds one so the output is not lost.
    let result = CallToolResult {
        structured_content: Some(json!({ "hits": 3 })),
        ..Default::default()
    };
    let out = check_result("tools/call", "CallToolResult", &result);
    for version in [ProtocolVersion::V2024_11_05, ProtocolVersion::V2025_03_26] {
        assert_eq!(
            at(&out, version)["content"],
            json!([{ "type": "text", "text": "{\"hits\":3}" }])
        );
    }
    assert_eq!(at(&out, ProtocolVersion::V2025_06_18)["content"], json!([]));

    // The constructor sends both forms already: nothing is added.
    let out = check_result(
        "tools/call",
        "CallToolResult",
        &CallToolResult::structured(json!({ "hits": 3 })),
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2024_11_05)["content"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn structured_content_that_is_not_an_object_is_for_2026_07_28_only() {
    // 2026-07-28 takes any JSON value; the handshake revisions require an object, so the
    // value goes, and its JSON stays as text unless the result has a text block already.
    let result = CallToolResult {
        structured_content: Some(json!([1, 2])),
        ..Default::default()
    };
    let out = check_result("tools/call", "CallToolResult", &result);
    for (version, v) in &out {
        assert!(v.get("structuredContent").is_none(), "{version}: {v}");
        assert_eq!(
            v["content"],
            json!([{ "type": "text", "text": "[1,2]" }]),
            "{version}"
        );
    }
    let with_text = CallToolResult {
        structured_content: Some(json!("done")),
        ..CallToolResult::text("done")
    };
    let out = check_result("tools/call", "CallToolResult", &with_text);
    assert_eq!(
        at(&out, ProtocolVersion::V2025_11_25),
        &json!({ "content": [{ "type": "text", "text": "done" }] })
    );
    let mut modern = serde_json::to_value(&with_text).unwrap();
    downgrade_result("tools/call", ProtocolVersion::V2026_07_28, &mut modern);
    assert_eq!(modern["structuredContent"], "done");

    // The same for the tool results a server passes to the client's model.
    let params = CreateMessageRequestParams {
        messages: vec![SamplingMessage {
            role: Role::User,
            content: SamplingMessageContent::Multiple(vec![
                SamplingContentBlock::ToolResult(ToolResultContent {
                    tool_use_id: "call-1".into(),
                    structured_content: Some(json!([1, 2])),
                    ..Default::default()
                }),
                SamplingContentBlock::text("and so?"),
            ]),
            meta: None,
        }],
        max_tokens: 10,
        ..Default::default()
    };
    let out = check_request("sampling/createMessage", "CreateMessageRequest", &params);
    let block = &at(&out, ProtocolVersion::V2025_11_25)["messages"][0]["content"][0];
    assert_eq!(
        block,
        &json!({ "type": "tool_result", "toolUseId": "call-1",
                 "content": [{ "type": "text", "text": "[1,2]" }] })
    );
    let old = &at(&out, ProtocolVersion::V2025_06_18)["messages"][0]["content"]["text"];
    assert!(old.as_str().unwrap().contains("[1,2]"), "{old}");
}

#[test]
fn resource_results_validate_on_every_revision() {
    let list = ListResourcesResult {
        resources: vec![full_resource()],
        next_cursor: None,
        meta: Some(meta()),
    };
    round_trip(&list);
    let out = check_result("resources/list", "ListResourcesResult", &list);
    let old = &at(&out, ProtocolVersion::V2024_11_05)["resources"][0];
    assert!(old.get("title").is_none() && old.get("_meta").is_none() && old.get("icons").is_none());
    assert!(old["annotations"].get("lastModified").is_none());
    assert_eq!(old["size"], 42);
    assert_eq!(
        at(&out, ProtocolVersion::V2025_06_18)["resources"][0]["annotations"]["lastModified"],
        "2025-01-12T15:00:58Z"
    );

    let templates = ListResourceTemplatesResult {
        resource_templates: vec![full_template()],
        next_cursor: Some("n".into()),
        meta: None,
    };
    round_trip(&templates);
    check_result(
        "resources/templates/list",
        "ListResourceTemplatesResult",
        &templates,
    );

    let read = ReadResourceResult {
        contents: vec![
            ResourceContents::Text(TextResourceContents {
                uri: "file:///a".into(),
                mime_type: Some("text/plain".into()),
                text: "a".into(),
                meta: Some(meta()),
            }),
            ResourceContents::blob("file:///b", None, "AAEC"),
        ],
        meta: Some(meta()),
    };
    round_trip(&read);
    let out = check_result("resources/read", "ReadResourceResult", &read);
    assert!(
        at(&out, ProtocolVersion::V2025_03_26)["contents"][0]
            .get("_meta")
            .is_none()
    );
    assert!(
        at(&out, ProtocolVersion::V2025_06_18)["contents"][0]
            .get("_meta")
            .is_some()
    );
}

#[test]
fn prompt_results_validate_on_every_revision() {
    let list = ListPromptsResult {
        prompts: vec![full_prompt()],
        next_cursor: None,
        meta: None,
    };
    round_trip(&list);
    let out = check_result("prompts/list", "ListPromptsResult", &list);
    assert_eq!(
        at(&out, ProtocolVersion::V2025_03_26)["prompts"][0]["arguments"][0],
        json!({ "name": "code", "description": "The code to review", "required": true })
    );

    let get = GetPromptResult {
        description: Some("A review".into()),
        messages: every_content_block()
            .into_iter()
            .map(|c| PromptMessage::new(Role::User, c))
            .chain([PromptMessage::assistant_text("Sure.")])
            .collect(),
        meta: Some(meta()),
    };
    round_trip(&get);
    let out = check_result("prompts/get", "GetPromptResult", &get);
    assert_eq!(
        at(&out, ProtocolVersion::V2024_11_05)["messages"][2]["content"]["type"],
        "text"
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_03_26)["messages"][2]["content"]["type"],
        "audio"
    );
}

#[test]
fn completion_validates_on_every_revision() {
    let params = CompleteRequestParams {
        reference: Reference::Prompt(PromptReference {
            name: "review".into(),
            title: Some("Review".into()),
        }),
        argument: CompletionArgument {
            name: "code".into(),
            value: "fn".into(),
        },
        context: Some(CompletionContext {
            arguments: Some(BTreeMap::from([("lang".to_owned(), "rust".to_owned())])),
        }),
        meta: Some(meta()),
    };
    round_trip(&params);
    let out = check_request("completion/complete", "CompleteRequest", &params);
    assert!(
        at(&out, ProtocolVersion::V2025_03_26)
            .get("context")
            .is_none()
    );
    assert!(
        at(&out, ProtocolVersion::V2025_03_26)["ref"]
            .get("title")
            .is_none()
    );

    let resource_ref = CompleteRequestParams {
        reference: Reference::Resource(ResourceTemplateReference {
            uri: "file:///{path}".into(),
        }),
        argument: CompletionArgument {
            name: "path".into(),
            value: "sr".into(),
        },
        context: None,
        meta: None,
    };
    round_trip(&resource_ref);
    check_request("completion/complete", "CompleteRequest", &resource_ref);

    let result = CompleteResult::new((0..150).map(|i| i.to_string()).collect());
    assert_eq!(result.completion.values.len(), 100);
    assert_eq!(result.completion.total, Some(150));
    assert_eq!(result.completion.has_more, Some(true));
    round_trip(&result);
    check_result("completion/complete", "CompleteResult", &result);
}

#[test]
fn logging_validates_on_every_revision() {
    let set = SetLevelRequestParams {
        level: LoggingLevel::Warning,
        meta: Some(meta()),
    };
    round_trip(&set);
    check_request("logging/setLevel", "SetLevelRequest", &set);
    let msg = LoggingMessageNotificationParams {
        level: LoggingLevel::Emergency,
        logger: Some("db".into()),
        data: json!({ "error": "down" }),
        meta: Some(meta()),
    };
    round_trip(&msg);
    check_notification("notifications/message", "LoggingMessageNotification", &msg);
}

#[test]
fn sampling_validates_on_every_revision() {
    let params = full_create_message_params();
    round_trip(&params);
    let out = check_request("sampling/createMessage", "CreateMessageRequest", &params);
    let old = at(&out, ProtocolVersion::V2024_11_05);
    assert!(
        old.get("tools").is_none() && old.get("toolChoice").is_none() && old.get("task").is_none()
    );
    // The two-block message became two messages; the tool call and result became text.
    let messages = old["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6);
    assert_eq!(messages[1]["content"]["text"], "Searching.");
    let call = messages[2]["content"]["text"].as_str().unwrap();
    assert!(
        call.contains("search") && call.contains("call-1") && call.contains("rust"),
        "{call}"
    );
    let result = messages[3]["content"]["text"].as_str().unwrap();
    assert!(
        result.contains("call-1") && result.contains("3 hits") && result.contains("file:///hit/1"),
        "{result}"
    );
    assert!(
        messages[4]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("audio")
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_03_26)["messages"][4]["content"]["type"],
        "audio"
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_11_25),
        &serde_json::to_value(&params).unwrap()
    );

    let result = CreateMessageResult {
        role: Role::Assistant,
        content: SamplingMessageContent::Multiple(vec![
            SamplingContentBlock::text("Let me look."),
            tool_use(),
        ]),
        model: "claude".into(),
        stop_reason: Some("toolUse".into()),
        meta: Some(meta()),
    };
    round_trip(&result);
    let out = check_result("sampling/createMessage", "CreateMessageResult", &result);
    let text = at(&out, ProtocolVersion::V2025_06_18)["content"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.starts_with("Let me look.\n[tool call search"),
        "{text}"
    );

    let single = CreateMessageResult {
        role: Role::Assistant,
        content: SamplingContentBlock::text("hi").into(),
        model: "m".into(),
        stop_reason: None,
        meta: None,
    };
    round_trip(&single);
    let out = check_result("sampling/createMessage", "CreateMessageResult", &single);
    assert_eq!(
        at(&out, ProtocolVersion::V2024_11_05)["content"],
        json!({ "type": "text", "text": "hi" })
    );
}

#[test]
fn elicitation_validates_on_every_revision_that_has_it() {
    let form = full_elicit_form();
    round_trip(&form);
    let out = check_request("elicitation/create", "ElicitRequest", &form);
    assert_eq!(out.len(), 2, "elicitation exists from 2025-06-18");
    let old = at(&out, ProtocolVersion::V2025_06_18);
    assert!(old.get("mode").is_none() && old.get("task").is_none());
    let props = &old["requestedSchema"]["properties"];
    assert_eq!(
        props["size"],
        json!({ "type": "string", "enum": ["s", "l"], "enumNames": ["Small", "Large"] })
    );
    assert_eq!(
        props["ok"]["default"], true,
        "booleans had defaults already"
    );
    assert!(props["name"].get("default").is_none());
    assert_eq!(props["tags"]["type"], "string");
    assert!(
        props["tags"]["description"]
            .as_str()
            .unwrap()
            .contains("\"x\", \"y\"")
    );
    assert!(
        props["flavours"]["description"]
            .as_str()
            .unwrap()
            .contains("\"v\", \"c\"")
    );
    assert_eq!(props["flavours"]["title"], "Flavours");

    let url = ElicitRequestParams::url("Sign in please", "https://example.com/login", "el-1");
    round_trip(&url);
    let out = check_request("elicitation/create", "ElicitRequest", &url);
    let old = at(&out, ProtocolVersion::V2025_06_18);
    assert!(
        old["message"]
            .as_str()
            .unwrap()
            .contains("https://example.com/login")
    );
    assert_eq!(
        old["requestedSchema"],
        json!({ "type": "object", "properties": {} })
    );

    let result = ElicitResult {
        action: ElicitAction::Accept,
        content: Some(obj(
            json!({ "name": "Ann", "age": 30, "ok": true, "tags": ["x", "y"] }),
        )),
        meta: Some(meta()),
    };
    round_trip(&result);
    let out = check_result("elicitation/create", "ElicitResult", &result);
    assert_eq!(
        at(&out, ProtocolVersion::V2025_06_18)["content"]["tags"],
        "x,y"
    );

    let done = ElicitationCompleteNotificationParams {
        elicitation_id: "el-1".into(),
    };
    round_trip(&done);
    check_notification(
        "notifications/elicitation/complete",
        "ElicitationCompleteNotification",
        &done,
    );
}

#[test]
fn roots_validate_on_every_revision() {
    let result = ListRootsResult {
        roots: vec![Root {
            uri: "file:///project".into(),
            name: Some("project".into()),
            meta: Some(meta()),
        }],
        meta: Some(meta()),
    };
    round_trip(&result);
    let out = check_result("roots/list", "ListRootsResult", &result);
    assert!(
        at(&out, ProtocolVersion::V2025_03_26)["roots"][0]
            .get("_meta")
            .is_none()
    );
}

#[test]
fn tool_call_request_validates_on_every_revision() {
    let params = CallToolRequestParams {
        name: "search".into(),
        arguments: Some(obj(json!({ "q": "rust" }))),
        task: Some(TaskMetadata { ttl: Some(1000) }),
        meta: Some(meta()),
    };
    round_trip(&params);
    let out = check_request("tools/call", "CallToolRequest", &params);
    assert!(at(&out, ProtocolVersion::V2025_06_18).get("task").is_none());
}

#[test]
fn notifications_validate_on_every_revision() {
    let progress = ProgressNotificationParams {
        progress_token: ProgressToken::String("t".into()),
        progress: 0.5,
        total: Some(1.0),
        message: Some("half way".into()),
        meta: Some(meta()),
    };
    round_trip(&progress);
    let out = check_notification("notifications/progress", "ProgressNotification", &progress);
    assert!(
        at(&out, ProtocolVersion::V2024_11_05)
            .get("message")
            .is_none()
    );
    assert_eq!(
        at(&out, ProtocolVersion::V2025_03_26)["message"],
        "half way"
    );

    let cancelled = CancelledNotificationParams {
        request_id: Some(RequestId::Number(3)),
        reason: Some("user".into()),
        meta: Some(meta()),
    };
    round_trip(&cancelled);
    check_notification(
        "notifications/cancelled",
        "CancelledNotification",
        &cancelled,
    );

    let updated = ResourceUpdatedNotificationParams {
        uri: "file:///a".into(),
        meta: Some(meta()),
    };
    round_trip(&updated);
    check_notification(
        "notifications/resources/updated",
        "ResourceUpdatedNotification",
        &updated,
    );
}

#[test]
fn tasks_validate_on_2025_11_25() {
    let task = Task {
        task_id: "t-1".into(),
        status: TaskStatus::InputRequired,
        status_message: Some("waiting".into()),
        created_at: "2025-11-25T10:00:00Z".into(),
        last_updated_at: "2025-11-25T10:00:01Z".into(),
        ttl: None,
        poll_interval: Some(500),
    };
    assert_eq!(
        serde_json::to_value(&task).unwrap()["ttl"],
        Value::Null,
        "ttl is sent as null when unlimited"
    );
    let created = CreateTaskResult {
        task: task.clone(),
        meta: Some(meta()),
    };
    round_trip(&created);
    check_result("tools/call", "CreateTaskResult", &created);
    let get = GetTaskResult {
        task: task.clone(),
        meta: Some(meta()),
    };
    round_trip(&get);
    schemas()
        .check(
            "2025-11-25",
            "GetTaskResult",
            false,
            &serde_json::to_value(&get).unwrap(),
        )
        .unwrap();
    let list = ListTasksResult {
        tasks: vec![task.clone()],
        next_cursor: Some("c".into()),
        meta: None,
    };
    round_trip(&list);
    check_result("tasks/list", "ListTasksResult", &list);
    let status: TaskStatusNotificationParams = GetTaskResult { task, meta: None };
    schemas()
        .check(
            "2025-11-25",
            "TaskStatusNotification/properties/params",
            false,
            &serde_json::to_value(&status).unwrap(),
        )
        .unwrap();
    let id = TaskIdParams {
        task_id: "t-1".into(),
    };
    check_request("tasks/get", "GetTaskRequest", &id);
    check_request("tasks/cancel", "CancelTaskRequest", &id);
    check_request("tasks/result", "GetTaskPayloadRequest", &id);
    check_request(
        "tasks/list",
        "ListTasksRequest",
        &PaginatedRequestParams {
            cursor: Some("c".into()),
            meta: None,
        },
    );
    assert!(TaskStatus::Cancelled.is_terminal() && !TaskStatus::Working.is_terminal());
}

#[test]
fn the_minimal_shapes_validate_too() {
    check_result("tools/call", "CallToolResult", &CallToolResult::text("ok"));
    check_result(
        "tools/call",
        "CallToolResult",
        &CallToolResult::error_text("boom"),
    );
    check_result(
        "tools/list",
        "ListToolsResult",
        &ListToolsResult {
            tools: vec![Tool::default()],
            ..Default::default()
        },
    );
    check_result(
        "initialize",
        "InitializeResult",
        &InitializeResult {
            protocol_version: "2024-11-05".into(),
            server_info: Implementation::new("s", "1"),
            ..Default::default()
        },
    );
    check_result(
        "prompts/get",
        "GetPromptResult",
        &GetPromptResult {
            messages: vec![PromptMessage::user_text("hi")],
            ..Default::default()
        },
    );
    check_request(
        "resources/subscribe",
        "SubscribeRequest",
        &SubscribeRequestParams {
            uri: "file:///a".into(),
            meta: None,
        },
    );
    check_request(
        "resources/unsubscribe",
        "UnsubscribeRequest",
        &UnsubscribeRequestParams {
            uri: "file:///a".into(),
            meta: None,
        },
    );
    check_request(
        "resources/read",
        "ReadResourceRequest",
        &ReadResourceRequestParams {
            uri: "file:///a".into(),
            meta: None,
        },
    );
    check_request(
        "prompts/get",
        "GetPromptRequest",
        &GetPromptRequestParams {
            name: "p".into(),
            arguments: Some(BTreeMap::from([("a".to_owned(), "b".to_owned())])),
            meta: Some(meta()),
        },
    );
    check_request(
        "tools/list",
        "ListToolsRequest",
        &PaginatedRequestParams {
            cursor: Some("c".into()),
            meta: Some(meta()),
        },
    );
    check_request("roots/list", "ListRootsRequest", &RequestParams::default());
    check_notification(
        "notifications/tools/list_changed",
        "ToolListChangedNotification",
        &NotificationParams { meta: Some(meta()) },
    );
}

#[test]
fn strict_checks_catch_what_a_revision_lacks() {
    // The helper itself: an undowngraded 2025-11-25 tool list passes the loose 2024-11-05
    // schema (extra properties are allowed there) but not the strict one.
    let list = serde_json::to_value(ListToolsResult {
        tools: vec![full_tool()],
        ..Default::default()
    })
    .unwrap();
    schemas()
        .check("2024-11-05", "ListToolsResult", false, &list)
        .unwrap();
    let err = schemas()
        .check("2024-11-05", "ListToolsResult", true, &list)
        .unwrap_err();
    assert!(
        err.contains("outputSchema") && err.contains("icons"),
        "{err}"
    );
    // Content kinds a revision lacks fail even the loose check.
    let call = serde_json::to_value(CallToolResult::success(vec![ContentBlock::audio(
        "AA==",
        "audio/wav",
    )]))
    .unwrap();
    assert!(
        schemas()
            .check("2024-11-05", "CallToolResult", false, &call)
            .is_err()
    );
}

#[test]
fn method_names_match_the_schemas() {
    for version in LEGACY {
        let rev = version.as_str();
        let path = format!(
            "{}/../../testdata/spec/{rev}/schema.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let defs = doc
            .get("$defs")
            .or_else(|| doc.get("definitions"))
            .unwrap()
            .as_object()
            .unwrap();
        let in_schema: HashSet<&str> = defs
            .values()
            .filter_map(|d| {
                d.pointer("/properties/method/const")
                    .and_then(Value::as_str)
            })
            .collect();
        let ours: HashSet<&str> = methods::REQUESTS
            .iter()
            .chain(methods::NOTIFICATIONS.iter())
            .copied()
            .filter(|m| methods::exists_in(m, version))
            .collect();
        assert_eq!(ours, in_schema, "methods of {rev}");
    }
    assert_eq!(
        methods::introduced_in("tools/call"),
        Some(ProtocolVersion::V2024_11_05)
    );
    assert_eq!(
        methods::introduced_in("tasks/get"),
        Some(ProtocolVersion::V2025_11_25)
    );
    assert_eq!(methods::introduced_in("nope"), None);
}

// ---------------------------------------------------------------------------------------
// (3) Decoding: unknown fields are ignored, `_meta` survives.

#[test]
fn unknown_fields_are_ignored_and_meta_survives() {
    let wire = json!({
        "name": "t",
        "inputSchema": { "type": "object", "x-custom": 1 },
        "futureField": { "a": 1 },
        "annotations": { "readOnlyHint": true, "futureHint": true },
        "_meta": { "vendor/key": [1, 2, 3] }
    });
    let tool: Tool = serde_json::from_value(wire).unwrap();
    assert_eq!(
        tool.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
    assert_eq!(tool.input_schema["x-custom"], 1, "schemas are kept whole");
    let back = serde_json::to_value(&tool).unwrap();
    assert!(back.get("futureField").is_none());
    assert_eq!(back["_meta"], json!({ "vendor/key": [1, 2, 3] }));

    let wire = json!({
        "content": [
            { "type": "text", "text": "a", "future": 1, "_meta": { "k": "v" } },
            { "type": "resource", "resource": { "uri": "u", "blob": "AA==", "future": 2 } }
        ],
        "isError": false,
        "future": true,
        "_meta": { "io.modelcontextprotocol/related-task": { "taskId": "t" } }
    });
    let result: CallToolResult = serde_json::from_value(wire).unwrap();
    assert!(
        matches!(&result.content[1], ContentBlock::Resource(r) if matches!(r.resource, ResourceContents::Blob(_)))
    );
    let back = serde_json::to_value(&result).unwrap();
    assert_eq!(back["content"][0]["_meta"], json!({ "k": "v" }));
    assert_eq!(back["_meta"][RELATED_TASK_META_KEY]["taskId"], "t");

    let wire = json!({
        "protocolVersion": "2025-11-25",
        "capabilities": { "tools": { "listChanged": true, "future": {} }, "futureCap": {} },
        "serverInfo": { "name": "s", "version": "1", "future": 1 },
        "_meta": { "m": 1 }
    });
    let init: InitializeResult = serde_json::from_value(wire).unwrap();
    assert_eq!(
        init.capabilities.tools,
        Some(ToolsCapability {
            list_changed: Some(true)
        })
    );
    assert_eq!(
        serde_json::to_value(&init).unwrap()["_meta"],
        json!({ "m": 1 })
    );
}

#[test]
fn tagged_and_untagged_shapes_decode() {
    let form: ElicitRequestParams = serde_json::from_value(
        json!({ "message": "m", "requestedSchema": { "type": "object", "properties": {} } }),
    )
    .unwrap();
    assert!(matches!(form, ElicitRequestParams::Form(_)));
    assert_eq!(serde_json::to_value(&form).unwrap()["mode"], "form");
    let url: ElicitRequestParams = serde_json::from_value(
        json!({ "mode": "url", "message": "m", "url": "https://x", "elicitationId": "e" }),
    )
    .unwrap();
    assert!(matches!(url, ElicitRequestParams::Url { .. }));
    assert_eq!(url.message(), "m");
    let bad = serde_json::from_value::<ElicitRequestParams>(
        json!({ "mode": "telepathy", "message": "m" }),
    );
    assert!(bad.unwrap_err().to_string().contains("telepathy"));

    let single: SamplingMessage = serde_json::from_value(
        json!({ "role": "user", "content": { "type": "text", "text": "a" } }),
    )
    .unwrap();
    assert_eq!(single.content.blocks().len(), 1);
    let many: SamplingMessage = serde_json::from_value(
        json!({ "role": "assistant", "content": [{ "type": "text", "text": "a" }, { "type": "tool_use", "id": "1", "name": "n", "input": {} }] }),
    )
    .unwrap();
    assert!(matches!(
        many.content.blocks()[1],
        SamplingContentBlock::ToolUse(_)
    ));

    let text: ResourceContents =
        serde_json::from_value(json!({ "uri": "u", "text": "t" })).unwrap();
    let blob: ResourceContents =
        serde_json::from_value(json!({ "uri": "u", "blob": "AA==", "mimeType": "x/y" })).unwrap();
    assert!(matches!(text, ResourceContents::Text(_)));
    assert_eq!(blob.mime_type(), Some("x/y"));
    assert_eq!(blob.uri(), "u");

    let r: Reference =
        serde_json::from_value(json!({ "type": "ref/resource", "uri": "file:///{x}" })).unwrap();
    assert_eq!(
        r,
        Reference::Resource(ResourceTemplateReference {
            uri: "file:///{x}".into()
        })
    );

    let token: ProgressToken = serde_json::from_value(json!(5)).unwrap();
    assert_eq!(token, ProgressToken::Number(5));
    assert_eq!(
        ProgressToken::from_meta(&meta()),
        Some(ProgressToken::Number(7))
    );
    let cancelled: CancelledNotificationParams =
        serde_json::from_value(json!({ "reason": "r" })).unwrap();
    assert_eq!(
        cancelled.request_id, None,
        "requestId is optional in 2025-11-25"
    );
}

#[test]
fn constructors_build_the_wire_shapes() {
    assert_eq!(
        serde_json::to_value(ContentBlock::text("a")).unwrap(),
        json!({ "type": "text", "text": "a" })
    );
    assert_eq!(
        serde_json::to_value(ContentBlock::image("AA==", "image/png")).unwrap(),
        json!({ "type": "image", "data": "AA==", "mimeType": "image/png" })
    );
    assert_eq!(
        serde_json::to_value(ContentBlock::audio("AA==", "audio/wav")).unwrap(),
        json!({ "type": "audio", "data": "AA==", "mimeType": "audio/wav" })
    );
    assert_eq!(
        serde_json::to_value(ContentBlock::resource_link("file:///a", "a")).unwrap(),
        json!({ "type": "resource_link", "uri": "file:///a", "name": "a" })
    );
    assert_eq!(
        serde_json::to_value(ResourceContents::text("u", Some("text/plain".into()), "t")).unwrap(),
        json!({ "uri": "u", "mimeType": "text/plain", "text": "t" })
    );
    assert_eq!(
        serde_json::to_value(ResourceContents::blob("u", None, "AA==")).unwrap(),
        json!({ "uri": "u", "blob": "AA==" })
    );
    assert_eq!(
        serde_json::to_value(CallToolResult::text("ok")).unwrap(),
        json!({ "content": [{ "type": "text", "text": "ok" }] })
    );
    assert_eq!(
        serde_json::to_value(CallToolResult::error_text("no")).unwrap(),
        json!({ "content": [{ "type": "text", "text": "no" }], "isError": true })
    );
    assert_eq!(
        serde_json::to_value(CallToolResult::structured(json!({ "a": 1 }))).unwrap(),
        json!({ "content": [{ "type": "text", "text": "{\"a\":1}" }], "structuredContent": { "a": 1 } })
    );
    assert_eq!(
        serde_json::to_value(CallToolResult::structured(json!([1]))).unwrap(),
        json!({ "content": [{ "type": "text", "text": "[1]" }] }),
        "structuredContent must be an object"
    );
    assert_eq!(
        serde_json::to_value(PromptMessage::user_text("hi")).unwrap(),
        json!({ "role": "user", "content": { "type": "text", "text": "hi" } })
    );
    assert_eq!(
        serde_json::to_value(Tool::new("t", "d", obj(json!({ "type": "object" })))).unwrap(),
        json!({ "name": "t", "description": "d", "inputSchema": { "type": "object" } })
    );
    assert_eq!(
        serde_json::to_value(Tool::default()).unwrap()["inputSchema"],
        json!({ "type": "object" })
    );
}

#[test]
fn logging_levels_are_ordered_and_named() {
    assert!(LoggingLevel::Debug < LoggingLevel::Info);
    assert!(LoggingLevel::Error < LoggingLevel::Critical);
    assert!(LoggingLevel::Alert < LoggingLevel::Emergency);
    let mut sorted = LoggingLevel::ALL;
    sorted.sort();
    assert_eq!(sorted, LoggingLevel::ALL);
    for level in LoggingLevel::ALL {
        assert_eq!(serde_json::to_value(level).unwrap(), json!(level.as_str()));
        assert_eq!(level.as_str().parse::<LoggingLevel>().unwrap(), level);
        schemas()
            .check("2025-11-25", "LoggingLevel", true, &json!(level.as_str()))
            .unwrap();
    }
    assert!("verbose".parse::<LoggingLevel>().is_err());
}

#[test]
fn newest_revision_is_untouched() {
    let mut v = serde_json::to_value(full_call_tool_result()).unwrap();
    let before = v.clone();
    downgrade_result("tools/call", ProtocolVersion::V2025_11_25, &mut v);
    downgrade_result("tools/call", ProtocolVersion::V2026_07_28, &mut v);
    assert_eq!(v, before);
    let mut p = serde_json::to_value(full_create_message_params()).unwrap();
    let before = p.clone();
    downgrade_request(
        "sampling/createMessage",
        ProtocolVersion::V2025_11_25,
        &mut p,
    );
    assert_eq!(p, before);
    // Unknown methods and non-objects are left alone.
    let mut odd = json!([1, 2]);
    downgrade_result("tools/call", ProtocolVersion::V2024_11_05, &mut odd);
    downgrade_result("vendor/thing", ProtocolVersion::V2024_11_05, &mut v);
    assert_eq!(odd, json!([1, 2]));
    assert_eq!(v, before_call());
}

fn before_call() -> Value {
    serde_json::to_value(full_call_tool_result()).unwrap()
}
