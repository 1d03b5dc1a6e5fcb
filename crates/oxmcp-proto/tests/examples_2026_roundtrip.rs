//! The spec's own example messages of revision 2026-07-28 (testdata/spec/2026-07-28/examples)
//! decode into oxmcp's types and re-encode to the same JSON: nothing the spec writes is
//! lost or changed on its way through the model. Whole messages go through the JSON-RPC
//! codec (`jsonrpc::decode_one`, `encode_*`) with their params or result typed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oxmcp_proto::ErrorObject;
use oxmcp_proto::jsonrpc::{self, Message};
use oxmcp_proto::model::*;
use oxmcp_proto::modern::model::{
    DiscoverResult, EmbeddedRequest, InputRequiredResult, ModernParams, ModernResult,
    SubscriptionParams,
};
use oxmcp_testkit::spec_dir;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Decodes `v` as `T` and encodes it back.
fn via<T: DeserializeOwned + Serialize>(v: &Value) -> Value {
    let t: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("decode: {e}\n{v:#}"));
    serde_json::to_value(&t).unwrap()
}

/// A result: `input_required` ones as such, the rest as `ModernResult<T>`.
fn result<T: DeserializeOwned + Serialize>(v: &Value) -> Value {
    if v["resultType"] == "input_required" {
        via::<ModernResult<InputRequiredResult>>(v)
    } else {
        via::<ModernResult<T>>(v)
    }
}

/// The params of a request or notification.
type Typed = fn(&Value) -> Value;

/// Decodes a whole JSON-RPC message with the codec, types its params or result with `f`
/// and encodes it back with the codec.
fn message(v: &Value, f: Typed) -> Value {
    let bytes = serde_json::to_vec(v).unwrap();
    let m = jsonrpc::decode_one(&bytes).unwrap_or_else(|e| panic!("decode: {e:?}\n{v:#}"));
    let typed = |raw: Option<Box<serde_json::value::RawValue>>| {
        raw.map(|p| f(&serde_json::from_str::<Value>(p.get()).unwrap()))
    };
    let out = match m {
        Message::Request(r) => {
            let params = typed(r.params);
            jsonrpc::encode_request(&r.id, &r.method, params.as_ref())
        }
        Message::Notification(n) => {
            let params = typed(n.params);
            jsonrpc::encode_notification(&n.method, params.as_ref())
        }
        Message::Response(Some(r)) => match r.outcome {
            Ok(raw) => jsonrpc::encode_result(&r.id, &f(&serde_json::from_str(raw.get()).unwrap())),
            Err(e) => jsonrpc::encode_error(Some(&r.id), &e),
        },
        Message::Response(None) => panic!("a response without an id: {v}"),
    };
    serde_json::from_slice(&out).unwrap()
}

fn any(v: &Value) -> Value {
    v.clone()
}

/// What each definition's examples decode into. Elicitation field schemas
/// (`BooleanSchema`, `StringSchema`, …) are JSON Schemas, which the model keeps as JSON
/// objects on purpose (`JsonObject`).
fn roundtrip(def: &str, v: &Value) -> Option<Value> {
    Some(match def {
        // Content blocks carry their `type` tag in the enum that holds them.
        "AudioContent" | "EmbeddedResource" | "ImageContent" | "TextContent" | "ResourceLink" => {
            via::<ContentBlock>(v)
        }
        "BlobResourceContents" | "TextResourceContents" => via::<ResourceContents>(v),
        "ToolResultContent" | "ToolUseContent" => via::<SamplingContentBlock>(v),
        "BooleanSchema"
        | "NumberSchema"
        | "StringSchema"
        | "TitledMultiSelectEnumSchema"
        | "TitledSingleSelectEnumSchema"
        | "UntitledMultiSelectEnumSchema"
        | "UntitledSingleSelectEnumSchema" => via::<JsonObject>(v),
        "ClientCapabilities" => via::<ClientCapabilities>(v),
        "ServerCapabilities" => via::<ServerCapabilities>(v),
        "ModelPreferences" => via::<ModelPreferences>(v),
        "SamplingMessage" => via::<SamplingMessage>(v),
        "Resource" => via::<Resource>(v),
        "Root" => via::<Root>(v),
        "Tool" => via::<Tool>(v),
        "CallToolRequestParams" => via::<ModernParams<CallToolRequestParams>>(v),
        "GetPromptRequestParams" => via::<ModernParams<GetPromptRequestParams>>(v),
        "CompleteRequestParams" => via::<CompleteRequestParams>(v),
        "PaginatedRequestParams" => via::<PaginatedRequestParams>(v),
        "CreateMessageRequestParams" => via::<CreateMessageRequestParams>(v),
        // Form and URL params are told apart by `mode`, which the enum writes.
        "ElicitRequestFormParams" | "ElicitRequestURLParams" => via::<ElicitRequestParams>(v),
        "CancelledNotificationParams" => via::<CancelledNotificationParams>(v),
        "LoggingMessageNotificationParams" => via::<LoggingMessageNotificationParams>(v),
        "ProgressNotificationParams" => via::<ProgressNotificationParams>(v),
        "ResourceUpdatedNotificationParams" => via::<ResourceUpdatedNotificationParams>(v),
        "CallToolResult" => result::<CallToolResult>(v),
        "CompleteResult" => result::<CompleteResult>(v),
        "GetPromptResult" => result::<GetPromptResult>(v),
        "ListPromptsResult" => result::<ListPromptsResult>(v),
        "ListResourcesResult" => result::<ListResourcesResult>(v),
        "ListResourceTemplatesResult" => result::<ListResourceTemplatesResult>(v),
        "ListToolsResult" => result::<ListToolsResult>(v),
        "ReadResourceResult" => result::<ReadResourceResult>(v),
        "DiscoverResult" => via::<DiscoverResult>(v),
        "InputRequiredResult" => via::<ModernResult<InputRequiredResult>>(v),
        "SubscriptionsListenResult" => result::<NotificationParams>(v),
        "CreateMessageResult" => via::<CreateMessageResult>(v),
        "ElicitResult" => via::<ElicitResult>(v),
        "ListRootsResult" => via::<ListRootsResult>(v),
        "InputRequests" => via::<Map<String, Value>>(&Value::Object(
            v.as_object()
                .unwrap()
                .iter()
                .map(|(k, r)| (k.clone(), embedded(r)))
                .collect(),
        )),
        "InputResponses" => Value::Object(
            v.as_object()
                .unwrap()
                .iter()
                .map(|(k, r)| (k.clone(), input_response(r)))
                .collect(),
        ),
        "CreateMessageRequest" | "ElicitRequest" => embedded(v),
        // A quirk of the snapshot: this example carries an `id` (see examples_2026.rs).
        "ListRootsRequest" => {
            let mut out = embedded(v);
            out["id"] = v["id"].clone();
            out
        }
        "CallToolRequest" => message(v, via::<ModernParams<CallToolRequestParams>>),
        "GetPromptRequest" => message(v, via::<ModernParams<GetPromptRequestParams>>),
        "ReadResourceRequest" => message(v, via::<ModernParams<ReadResourceRequestParams>>),
        "CompleteRequest" => message(v, via::<CompleteRequestParams>),
        "DiscoverRequest"
        | "ListPromptsRequest"
        | "ListResourcesRequest"
        | "ListResourceTemplatesRequest"
        | "ListToolsRequest" => message(v, via::<PaginatedRequestParams>),
        "SubscriptionsListenRequest" => message(v, via::<SubscriptionParams>),
        "SubscriptionsAcknowledgedNotification" => message(v, via::<SubscriptionParams>),
        "CancelledNotification" => message(v, via::<CancelledNotificationParams>),
        "LoggingMessageNotification" => message(v, via::<LoggingMessageNotificationParams>),
        "ProgressNotification" => message(v, via::<ProgressNotificationParams>),
        "ResourceUpdatedNotification" => message(v, via::<ResourceUpdatedNotificationParams>),
        "PromptListChangedNotification"
        | "ResourceListChangedNotification"
        | "ToolListChangedNotification" => message(v, via::<NotificationParams>),
        "CallToolResultResponse" => message(v, result::<CallToolResult>),
        "CompleteResultResponse" => message(v, result::<CompleteResult>),
        "DiscoverResultResponse" => message(v, via::<DiscoverResult>),
        "GetPromptResultResponse" => message(v, result::<GetPromptResult>),
        "ListPromptsResultResponse" => message(v, result::<ListPromptsResult>),
        "ListResourcesResultResponse" => message(v, result::<ListResourcesResult>),
        "ListResourceTemplatesResultResponse" => message(v, result::<ListResourceTemplatesResult>),
        "ListToolsResultResponse" => message(v, result::<ListToolsResult>),
        "ReadResourceResultResponse" => message(v, result::<ReadResourceResult>),
        "SubscriptionsListenResultResponse" => message(v, result::<NotificationParams>),
        "HeaderMismatchError"
        | "MissingRequiredClientCapabilityError"
        | "UnsupportedProtocolVersionError" => message(v, any),
        "InternalError" | "InvalidParamsError" | "MethodNotFoundError" | "ParseError" => {
            via::<ErrorObject>(v)
        }
        _ => return None,
    })
}

/// An input request, typed by its method.
fn embedded(v: &Value) -> Value {
    match v["method"].as_str() {
        Some("elicitation/create") => via::<EmbeddedRequest<ElicitRequestParams>>(v),
        Some("sampling/createMessage") => via::<EmbeddedRequest<CreateMessageRequestParams>>(v),
        _ => via::<EmbeddedRequest<Map<String, Value>>>(v),
    }
}

/// An input response, typed by its shape.
fn input_response(v: &Value) -> Value {
    if v.get("action").is_some() {
        via::<ElicitResult>(v)
    } else if v.get("roots").is_some() {
        via::<ListRootsResult>(v)
    } else {
        via::<CreateMessageResult>(v)
    }
}

/// JSON equality, with numbers compared by value (`50` and `50.0` are one number; the
/// model keeps progress and priorities as `f64`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn every_spec_example_of_2026_07_28_decodes_and_re_encodes_without_loss() {
    let dir = spec_dir().join("2026-07-28/examples");
    let mut checked = 0;
    let mut failures = Vec::new();
    for def in std::fs::read_dir(&dir).unwrap() {
        let def = def.unwrap().path();
        let name = def.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&def).unwrap() {
            let file = file.unwrap().path();
            let original: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            let rel = format!("{name}/{}", file.file_name().unwrap().to_string_lossy());
            match std::panic::catch_unwind(|| roundtrip(&name, &original)) {
                Ok(Some(again)) if same(&again, &original) => {}
                Ok(Some(again)) => failures.push(format!(
                    "{rel}: changed on the way through\n  was: {original}\n  now: {again}"
                )),
                Ok(None) => failures.push(format!("{rel}: no type for definition {name}")),
                Err(_) => failures.push(format!("{rel}: does not decode")),
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 129, "only {checked} examples");
}
