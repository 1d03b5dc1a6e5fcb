//! Test support for oxmcp.
//!
//! - [`Schemas`]: the JSON Schemas of every MCP revision (the project's `testdata/spec/`),
//!   compiled on demand, and [`WireCheck`], which validates every message a server sends
//!   against the negotiated revision: the envelope, the result type of the request it
//!   answers, the notification or request type.
//! - [`LineClient`]: a newline-delimited JSON client over any async reader/writer (an
//!   in-memory duplex in tests, a child's stdio), checking every message it receives.
//!
//! - [`fuzz`] (feature `fuzz`, on by default): the entries of the fuzz targets in `fuzz/`,
//!   which the corpus replay test (`tests/fuzz_corpus.rs`) runs on stable.
//!
//! Without its `fuzz` feature it does not depend on `oxmcp`, so tests of every crate can
//! use it cheaply (the workspace depends on it without the feature).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod alloc;
#[cfg(feature = "fuzz")]
pub mod fuzz;
#[cfg(feature = "pki")]
pub mod pki;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, Lines};

/// The revisions with a schema in testdata.
pub const REVISIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// The project's copy of the spec schemas.
pub fn spec_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/spec")
}

/// The schema files of the spec, compiled on demand and cached per
/// (revision, pointer, strict).
#[derive(Default)]
pub struct Schemas {
    docs: Mutex<HashMap<String, Arc<Value>>>,
    validators: Mutex<HashMap<(String, String, bool), Arc<jsonschema::Validator>>>,
}

pub fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(Schemas::default)
}

fn read(rev: &str) -> String {
    let path = spec_dir().join(rev).join("schema.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where a schema file keeps its definitions: `$defs` (2025-11-25) or `definitions`.
fn defs_key(doc: &Value) -> &'static str {
    if doc.get("$defs").is_some() {
        "$defs"
    } else {
        "definitions"
    }
}

/// Property names whose values are JSON Schemas or free-form objects (`_meta` is open by
/// the spec's prose even where an old schema lists only `progressToken`), never made
/// strict.
const OPEN: [&str; 4] = ["inputSchema", "outputSchema", "requestedSchema", "_meta"];

/// Adds `additionalProperties: false` to every object schema that lists `properties`
/// and says nothing about others: a value then validates only if it uses no property
/// the revision does not define. Definitions used in `allOf` are left open (a strict
/// member would reject the other members' properties).
fn strictify(doc: &mut Value) {
    let key = defs_key(doc);
    let mut in_all_of = HashSet::new();
    collect_all_of_refs(doc, &mut in_all_of);
    let Some(Value::Object(defs)) = doc.get_mut(key) else {
        return;
    };
    for (name, def) in defs.iter_mut() {
        if !in_all_of.contains(name.as_str()) {
            strict_node(def, false, false);
        }
    }
}

fn collect_all_of_refs(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(members)) = o.get("allOf") {
                for m in members {
                    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                        out.insert(r.rsplit('/').next().unwrap().to_owned());
                    }
                }
            }
            o.values().for_each(|x| collect_all_of_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_all_of_refs(x, out)),
        _ => {}
    }
}

/// `params`: the parameters of a request or notification, which may carry `_meta` in
/// every revision (the base `Request`/`Notification` types say so, though the older
/// schemas do not repeat it in each request's inline `params`).
fn strict_node(node: &mut Value, open: bool, params: bool) {
    let Some(o) = node.as_object_mut() else {
        return;
    };
    if !open
        && o.get("properties").is_some_and(Value::is_object)
        && !o.contains_key("additionalProperties")
    {
        o.insert("additionalProperties".into(), Value::Bool(false));
        if let (true, Some(Value::Object(props))) = (params, o.get_mut("properties")) {
            props
                .entry("_meta")
                .or_insert_with(|| json!({ "type": "object" }));
        }
    }
    if let Some(Value::Object(props)) = o.get_mut("properties") {
        for (name, sub) in props.iter_mut() {
            strict_node(sub, OPEN.contains(&name.as_str()), name == "params");
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = o.get_mut(key) {
            strict_node(sub, false, false);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = o.get_mut(key) {
            subs.iter_mut().for_each(|s| strict_node(s, false, false));
        }
    }
}

impl Schemas {
    fn doc(&self, rev: &str) -> Arc<Value> {
        let mut docs = self.docs.lock().unwrap();
        docs.entry(rev.to_owned())
            .or_insert_with(|| Arc::new(serde_json::from_str(&read(rev)).unwrap()))
            .clone()
    }

    /// Checks a whole request or notification `msg` against `def` (strictly) and the
    /// JSON-RPC envelope. Older revisions define their message types without `jsonrpc` and
    /// `id` (the envelope types carry those), so the body is checked without them there.
    pub fn check_message(&self, rev: &str, def: &str, msg: &Value) -> Result<(), String> {
        let doc = self.doc(rev);
        let listed = doc[defs_key(&doc)][def]["properties"]
            .get("jsonrpc")
            .is_some();
        let envelope = if msg.get("id").is_some() {
            "JSONRPCRequest"
        } else {
            "JSONRPCNotification"
        };
        self.check(rev, envelope, false, msg)?;
        if listed {
            self.check(rev, def, true, msg)
        } else {
            let mut body = msg.clone();
            if let Some(o) = body.as_object_mut() {
                o.remove("jsonrpc");
                o.remove("id");
            }
            self.check(rev, def, true, &body)
        }
    }

    /// Whether revision `rev` defines `def`.
    pub fn has(&self, rev: &str, def: &str) -> bool {
        let doc = self.doc(rev);
        doc[defs_key(&doc)].get(def).is_some()
    }

    /// The validator of `pointer` (below the definitions, like `Tool` or
    /// `CreateMessageRequest/properties/params`) in revision `rev`.
    pub fn validator(&self, rev: &str, pointer: &str, strict: bool) -> Arc<jsonschema::Validator> {
        let key = (rev.to_owned(), pointer.to_owned(), strict);
        if let Some(v) = self.validators.lock().unwrap().get(&key) {
            return v.clone();
        }
        let mut doc = (*self.doc(rev)).clone();
        if strict {
            strictify(&mut doc);
        }
        // A wrapper that refers into the file's own definitions: `$ref` next to them at
        // the root, in the file's own dialect.
        let defs = defs_key(&doc);
        let mut wrapper = serde_json::Map::new();
        wrapper.insert("$schema".into(), doc["$schema"].clone());
        wrapper.insert("$ref".into(), format!("#/{defs}/{pointer}").into());
        wrapper.insert(defs.into(), doc[defs].clone());
        let wrapper = Value::Object(wrapper);
        let v = jsonschema::options()
            .build(&wrapper)
            .unwrap_or_else(|e| panic!("schema {rev} {pointer}: {e}"));
        let v = Arc::new(v);
        self.validators.lock().unwrap().insert(key, v.clone());
        v
    }

    /// Checks `value` against `pointer` of `rev`; the error lists every violation.
    pub fn check(
        &self,
        rev: &str,
        pointer: &str,
        strict: bool,
        value: &Value,
    ) -> Result<(), String> {
        let v = self.validator(rev, pointer, strict);
        let errors: Vec<String> = v
            .iter_errors(value)
            .map(|e| format!("{e} at `{}`", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{rev} {pointer}{}: {}\n  in {}",
                if strict { " (strict)" } else { "" },
                errors.join("; "),
                serde_json::to_string_pretty(value).unwrap()
            ))
        }
    }
}

/// The schema definition of the result of a client request, by method.
pub fn result_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "initialize" => "InitializeResult",
        "tools/list" => "ListToolsResult",
        "tools/call" => "CallToolResult",
        "resources/list" => "ListResourcesResult",
        "resources/templates/list" => "ListResourceTemplatesResult",
        "resources/read" => "ReadResourceResult",
        "prompts/list" => "ListPromptsResult",
        "prompts/get" => "GetPromptResult",
        "completion/complete" => "CompleteResult",
        "tasks/get" => "GetTaskResult",
        "tasks/result" => "CallToolResult",
        "tasks/list" => "ListTasksResult",
        "tasks/cancel" => "CancelTaskResult",
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => "Result",
        _ => return None,
    })
}

fn notification_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "notifications/progress" => "ProgressNotification",
        "notifications/message" => "LoggingMessageNotification",
        "notifications/cancelled" => "CancelledNotification",
        "notifications/tools/list_changed" => "ToolListChangedNotification",
        "notifications/resources/list_changed" => "ResourceListChangedNotification",
        "notifications/resources/updated" => "ResourceUpdatedNotification",
        "notifications/prompts/list_changed" => "PromptListChangedNotification",
        "notifications/tasks/status" => "TaskStatusNotification",
        "notifications/elicitation/complete" => "ElicitationCompleteNotification",
        _ => return None,
    })
}

fn request_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "sampling/createMessage" => "CreateMessageRequest",
        "elicitation/create" => "ElicitRequest",
        "roots/list" => "ListRootsRequest",
        "ping" => "PingRequest",
        _ => return None,
    })
}

/// Validates what a server sends, for one session.
#[derive(Debug, Default)]
pub struct WireCheck {
    /// The negotiated revision (set from the `initialize` result).
    pub revision: Option<String>,
    pending: HashMap<String, (String, bool)>,
    /// How many messages were checked.
    pub checked: usize,
}

impl WireCheck {
    /// Notes a request the client sends, so its answer can be checked against the method's
    /// result type. `task` marks a task-augmented call (answered with CreateTaskResult).
    pub fn sent(&mut self, msg: &Value) {
        if let (Some(id), Some(method)) = (msg.get("id"), msg.get("method").and_then(Value::as_str))
        {
            let task = msg.pointer("/params/task").is_some();
            self.pending
                .insert(id.to_string(), (method.to_owned(), task));
        }
    }

    /// Checks one message from the server; panics with every violation.
    pub fn received(&mut self, msg: &Value) {
        self.checked += 1;
        if let Some(items) = msg.as_array() {
            for item in items {
                self.received(item);
            }
            return;
        }
        let s = schemas();
        let rev = self
            .revision
            .clone()
            .unwrap_or_else(|| "2025-11-25".to_owned());
        let is_error = msg.get("error").is_some();
        if is_error && msg.get("id").is_none() {
            // The documented deviation: an error whose id could not be read omits it; only
            // the 2025-11-25 schema allows that.
            s.check("2025-11-25", "JSONRPCErrorResponse", true, msg)
                .unwrap();
            return;
        }
        let envelope = if is_error {
            if s.has(&rev, "JSONRPCErrorResponse") {
                "JSONRPCErrorResponse"
            } else {
                "JSONRPCError"
            }
        } else if msg.get("result").is_some() {
            if s.has(&rev, "JSONRPCResultResponse") {
                "JSONRPCResultResponse"
            } else {
                "JSONRPCResponse"
            }
        } else if msg.get("id").is_some() {
            "JSONRPCRequest"
        } else {
            "JSONRPCNotification"
        };
        s.check(&rev, envelope, true, msg).unwrap();
        if let Some(result) = msg.get("result") {
            let id = msg["id"].to_string();
            if let Some((method, task)) = self.pending.remove(&id) {
                if method == "initialize" {
                    let v = result["protocolVersion"].as_str().unwrap().to_owned();
                    s.check(&v, "InitializeResult", true, result).unwrap();
                    self.revision = Some(v);
                } else if task && method == "tools/call" && result.get("task").is_some() {
                    s.check(&rev, "CreateTaskResult", true, result).unwrap();
                } else if let Some(def) = result_def(&method) {
                    s.check(&rev, def, true, result).unwrap();
                }
            }
        } else if is_error {
            self.pending.remove(&msg["id"].to_string());
        } else if let Some(method) = msg.get("method").and_then(Value::as_str) {
            let def = if msg.get("id").is_some() {
                request_def(method)
            } else {
                notification_def(method)
            };
            match def {
                Some(def) if s.has(&rev, def) => s.check_message(&rev, def, msg).unwrap(),
                Some(def) => panic!("revision {rev} has no {def}, yet the server sent {msg}"),
                None => panic!("the server sent an unknown method: {msg}"),
            }
        }
    }
}

/// A newline-delimited JSON client that checks every message it receives.
pub struct LineClient<R, W> {
    lines: Lines<BufReader<R>>,
    writer: Option<W>,
    /// The wire checker (revision, counts).
    pub check: WireCheck,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> LineClient<R, W> {
    /// A client on a reader (the server's output) and a writer (its input).
    pub fn new(reader: R, writer: W) -> Self {
        LineClient {
            lines: BufReader::new(reader).lines(),
            writer: Some(writer),
            check: WireCheck::default(),
        }
    }

    /// Sends one message (noting requests for result checks).
    pub async fn send(&mut self, msg: Value) {
        self.check.sent(&msg);
        let mut line = serde_json::to_vec(&msg).unwrap();
        line.push(b'\n');
        self.send_raw(&line).await;
    }

    /// Sends raw bytes (malformed input tests).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let w = self.writer.as_mut().expect("the client was closed");
        w.write_all(bytes).await.unwrap();
        w.flush().await.unwrap();
    }

    /// The next message, checked; `None` at end of output.
    pub async fn recv(&mut self) -> Option<Value> {
        let line = self.lines.next_line().await.unwrap()?;
        let msg: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("server sent non-JSON {line:?}: {e}"));
        self.check.received(&msg);
        Some(msg)
    }

    /// Sends a request and returns its response, collecting what came before it.
    pub async fn request(&mut self, id: Value, method: &str, params: Value) -> (Value, Vec<Value>) {
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        let mut before = Vec::new();
        loop {
            let msg = self
                .recv()
                .await
                .expect("the server closed before answering");
            if msg.get("id") == Some(&id) && msg.get("method").is_none() {
                return (msg, before);
            }
            before.push(msg);
        }
    }

    /// `initialize` at `version` plus `notifications/initialized`; returns the result.
    pub async fn initialize(&mut self, version: &str, capabilities: Value) -> Value {
        let (resp, _) = self
            .request(
                json!(0),
                "initialize",
                json!({ "protocolVersion": version, "capabilities": capabilities, "clientInfo": { "name": "testkit", "version": "0" } }),
            )
            .await;
        self.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        resp["result"].clone()
    }

    /// Closes the writer (EOF for the server): shuts it down and drops it, since some
    /// writers (a child's stdin) only close their end when dropped.
    pub async fn close(&mut self) {
        if let Some(mut w) = self.writer.take() {
            w.shutdown().await.unwrap();
        }
    }
}

/// The project root (where `tests/interop/` lives).
pub fn project_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs one scenario of `tests/interop/stdio-client.mjs` (the official TypeScript SDK client)
/// against `server` (a command and its arguments) over stdio, and fails the test on any
/// failed check.
///
/// Node 22 and the SDK come from `scripts/setup-interop.sh`; without them this fails with
/// the command to run, never skips.
pub fn run_interop_scenario(scenario: &str, server: &[&str]) {
    run_interop(scenario, &[], server);
}

/// Like [`run_interop_scenario`], over Streamable HTTP: `server` must listen (for example
/// `--listen 127.0.0.1:0`) and print its URL on its first stdout line; the harness connects
/// with the SDK's `StreamableHTTPClientTransport` and ends the server with SIGTERM. Checks
/// marked `# TODO known server issue` (documented server bugs) do not fail the test; one
/// such check passing does.
pub fn run_interop_scenario_http(scenario: &str, server: &[&str]) {
    run_interop(scenario, &["--http"], server);
}

/// Like [`run_interop_scenario_http`], against a server that is already running at `url`
/// (the test that started it checks its exit).
pub fn run_interop_scenario_url(scenario: &str, url: &str) {
    run_interop(scenario, &["--http", "--url", url], &[]);
}

/// Runs the TypeScript SDK 2.x client harness (`tests/interop/client2.mjs`) against `url`:
/// it must negotiate 2026-07-28 and pass every check.
pub fn run_interop_client2(url: &str) {
    let root = project_root();
    let out = std::process::Command::new(interop_node())
        .arg(root.join("tests/interop/client2.mjs"))
        .arg(url)
        .current_dir(root.join("tests/interop"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run tests/interop/client2.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && !stdout.contains("not ok"),
        "the TypeScript SDK 2.x client failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("# summary: client2"),
        "no summary:\n{stdout}\n{stderr}"
    );
}

fn run_interop(scenario: &str, flags: &[&str], server: &[&str]) {
    let root = project_root();
    let node = interop_node();
    let out = std::process::Command::new(&node)
        .arg(root.join("tests/interop/stdio-client.mjs"))
        .arg(scenario)
        .args(flags)
        .args(if server.is_empty() {
            &[][..]
        } else {
            &["--"][..]
        })
        .args(server)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the interop harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("# summary"))
        .unwrap_or("# no summary");
    assert!(
        out.status.success(),
        "interop scenario {scenario} failed ({summary}):\n{stdout}\n{stderr}"
    );
    let failed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("not ok") && !l.contains(" # TODO known server issue: "))
        .collect();
    assert!(failed.is_empty(), "checks failed: {failed:#?}\n{stdout}");
}

fn client_request_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "initialize" => "InitializeRequest",
        "ping" => "PingRequest",
        "tools/list" => "ListToolsRequest",
        "tools/call" => "CallToolRequest",
        "resources/list" => "ListResourcesRequest",
        "resources/templates/list" => "ListResourceTemplatesRequest",
        "resources/read" => "ReadResourceRequest",
        "resources/subscribe" => "SubscribeRequest",
        "resources/unsubscribe" => "UnsubscribeRequest",
        "prompts/list" => "ListPromptsRequest",
        "prompts/get" => "GetPromptRequest",
        "completion/complete" => "CompleteRequest",
        "logging/setLevel" => "SetLevelRequest",
        "tasks/get" => "GetTaskRequest",
        "tasks/result" => "GetTaskPayloadRequest",
        "tasks/list" => "ListTasksRequest",
        "tasks/cancel" => "CancelTaskRequest",
        _ => return None,
    })
}

fn client_notification_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "notifications/initialized" => "InitializedNotification",
        "notifications/cancelled" => "CancelledNotification",
        "notifications/progress" => "ProgressNotification",
        "notifications/roots/list_changed" => "RootsListChangedNotification",
        _ => return None,
    })
}

fn client_result_def(server_method: &str) -> Option<&'static str> {
    Some(match server_method {
        "sampling/createMessage" => "CreateMessageResult",
        "elicitation/create" => "ElicitResult",
        "roots/list" => "ListRootsResult",
        "ping" => "Result",
        _ => return None,
    })
}

/// Validates what a *client* sends, strictly, against the negotiated revision (the offered
/// one for `initialize`). Feed it both directions: [`ClientWireCheck::from_server`] learns
/// the negotiated revision and the server's request ids.
#[derive(Debug, Default)]
pub struct ClientWireCheck {
    /// The negotiated revision.
    pub revision: Option<String>,
    initialize_id: Option<String>,
    server_requests: HashMap<String, String>,
    /// Client messages checked, by method (responses count under the server's method).
    pub checked: HashMap<String, usize>,
}

impl ClientWireCheck {
    /// A message from the server.
    pub fn from_server(&mut self, msg: &Value) {
        if let (Some(id), Some(method)) = (msg.get("id"), msg.get("method").and_then(Value::as_str))
        {
            self.server_requests
                .insert(id.to_string(), method.to_owned());
        }
        if let (Some(id), Some(result)) = (msg.get("id"), msg.get("result"))
            && self.initialize_id.as_deref() == Some(&id.to_string())
        {
            self.revision = result["protocolVersion"].as_str().map(str::to_owned);
        }
    }

    /// A message from the client: panics with every violation.
    pub fn from_client(&mut self, msg: &Value) {
        let s = schemas();
        if let Some(method) = msg.get("method").and_then(Value::as_str) {
            let is_request = msg.get("id").is_some();
            let (rev, def) = if method == "initialize" {
                self.initialize_id = msg.get("id").map(Value::to_string);
                (
                    msg["params"]["protocolVersion"]
                        .as_str()
                        .unwrap_or("2025-11-25")
                        .to_owned(),
                    "InitializeRequest",
                )
            } else {
                let rev = self
                    .revision
                    .clone()
                    .expect("the client sent a request before initialize was answered");
                let def = if is_request {
                    client_request_def(method)
                } else {
                    client_notification_def(method)
                };
                (
                    rev,
                    def.unwrap_or_else(|| panic!("the client sent an unknown method: {msg}")),
                )
            };
            assert!(
                s.has(&rev, def),
                "revision {rev} has no {def}, yet the client sent {msg}"
            );
            s.check_message(&rev, def, msg).unwrap();
            *self.checked.entry(method.to_owned()).or_default() += 1;
        } else {
            let rev = self
                .revision
                .clone()
                .unwrap_or_else(|| "2025-11-25".to_owned());
            let id = msg["id"].to_string();
            let method = self
                .server_requests
                .remove(&id)
                .unwrap_or_else(|| panic!("a response to no request: {msg}"));
            if let Some(result) = msg.get("result") {
                let def = client_result_def(&method).unwrap_or("Result");
                s.check(&rev, def, true, result).unwrap();
            } else {
                let env = if s.has(&rev, "JSONRPCErrorResponse") {
                    "JSONRPCErrorResponse"
                } else {
                    "JSONRPCError"
                };
                s.check(&rev, env, true, msg).unwrap();
            }
            *self
                .checked
                .entry(format!("{method} (response)"))
                .or_default() += 1;
        }
    }
}

/// The JSON message of one SSE event (the text between two blank lines): its `data:`
/// lines joined; `None` for an event without data (a priming event, a comment).
pub fn sse_event_json(event: &str) -> Option<Value> {
    let data: Vec<&str> = event
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .collect();
    let data = data.join("\n");
    if data.trim().is_empty() {
        return None;
    }
    Some(
        serde_json::from_str(&data)
            .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {data}")),
    )
}

/// A server process that listens on HTTP and printed its URL: killed when dropped.
pub struct HttpChild {
    child: std::process::Child,
    /// The URL the server printed (`http://127.0.0.1:PORT/mcp`).
    pub url: String,
}

impl HttpChild {
    /// Spawns `cmd` with `args` and waits for the first stdout line that holds an
    /// `http://` URL (the server prints it once it accepts connections).
    pub fn spawn(cmd: &str, args: &[&str]) -> HttpChild {
        use std::io::BufRead;
        let mut child = std::process::Command::new(cmd)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("{cmd} exited before printing its URL"))
                .unwrap();
            if let Some(at) = line.find("http://") {
                break line[at..].split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        HttpChild { child, url }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for HttpChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Node 22 binary of the interop harness; fails with the command to run if missing.
pub fn interop_node() -> std::path::PathBuf {
    let node = project_root().join("tests/interop/node_modules/.bin/node");
    assert!(
        node.exists(),
        "the interop harness is not installed: run scripts/setup-interop.sh (expected {})",
        node.display()
    );
    node
}

/// The entry point of the official conformance suite (`@modelcontextprotocol/conformance`).
pub fn conformance_cli() -> std::path::PathBuf {
    project_root()
        .join("tests/interop/node_modules/@modelcontextprotocol/conformance/dist/index.js")
}

/// The entry point of the conformance suite's preview line (0.2.0-alpha.12, with the
/// 2026-07-28 scenarios), installed under the npm alias `conformance-next`.
pub fn conformance_next_cli() -> std::path::PathBuf {
    project_root().join("tests/interop/node_modules/conformance-next/dist/index.js")
}

/// The checks of a conformance run written with `-o DIR`: (scenario, check id, status,
/// message) for every check of every scenario.
pub fn conformance_checks(dir: &std::path::Path) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let checks = path.join("checks.json");
        if !checks.exists() {
            continue;
        }
        let scenario = path.file_name().unwrap().to_string_lossy().into_owned();
        let v: Value = serde_json::from_slice(&std::fs::read(&checks).unwrap()).unwrap();
        for c in v.as_array().into_iter().flatten() {
            out.push((
                scenario.clone(),
                c["id"].as_str().unwrap_or("").to_owned(),
                c["status"].as_str().unwrap_or("").to_owned(),
                c["errorMessage"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    out
}

/// Lets the runtime run until `cond` holds: yields between checks, so it also works under
/// a paused clock. Bounded: panics rather than hangs when the condition never holds.
pub async fn until(cond: impl Fn() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the condition never held");
}
