//! The client SDK: connect to a server, negotiate, call every server method, and answer the
//! server's requests (sampling, elicitation, roots) with handlers.
//!
//! ```no_run
//! # async fn run() -> Result<(), oxmcp::client::ClientError> {
//! use oxmcp::client::{Client, StdioCommand};
//!
//! let client = Client::builder("my-agent", "1.0.0")
//!     .connect_stdio(StdioCommand::new("oxmcp").args(["serve", "--stdio"]))
//!     .await?;
//! let tools = client.list_all_tools().await?;
//! let result = client.call_tool("echo", serde_json::json!({ "message": "hi" })).await?;
//! # Ok(()) }
//! ```
//!
//! Dropping a call's future before it completes sends `notifications/cancelled` for it.
//! Timeouts can be restarted by each progress notification
//! ([`CallOptions::reset_timeout_on_progress`]) so long tools that report progress are not
//! cut off.

mod driver;
mod error;
pub mod http;
mod modern;
pub mod stdio;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use oxmcp_proto::client::{ClientLimits, ClientSession};
use oxmcp_proto::model::{
    CallToolResult, ClientCapabilities, CompleteResult, CreateMessageRequestParams,
    CreateMessageResult, ElicitRequestParams, ElicitResult, GetPromptResult, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListRootsResult,
    ListToolsResult, LoggingLevel, ProgressNotificationParams, Prompt, ReadResourceResult,
    Resource, ResourceTemplate, ServerCapabilities, Tool,
};
use oxmcp_proto::{ErrorObject, ProtocolVersion};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;

pub use error::ClientError;
pub use http::{HttpClientTransport, ReconnectPolicy};
pub use modern::{Era, MAX_ROUNDS, Subscription};
pub use oxmcp_proto::modern::model::SubscriptionFilter;
pub use stdio::StdioCommand;

use crate::server::BoxFuture;
use driver::Shared;

type Handler<P, R> = Arc<dyn Fn(P) -> BoxFuture<Result<R, ErrorObject>> + Send + Sync>;

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(ProgressNotificationParams) + Send + Sync>;

/// A notification from the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerNotification {
    /// The method, e.g. `notifications/message`.
    pub method: String,
    /// The params (`null` when absent).
    pub params: Value,
}

/// How one call is made.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// The timeout (default: the client's request timeout).
    pub timeout: Option<Duration>,
    /// Called for each progress notification of this call (asks the server for progress).
    pub on_progress: Option<ProgressFn>,
    /// Each progress notification restarts the timeout.
    pub reset_timeout_on_progress: bool,
    /// With `reset_timeout_on_progress`: the longest the call may take in all.
    pub max_total_timeout: Option<Duration>,
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl CallOptions {
    /// Sets the timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Asks for progress and calls `f` with each notification.
    pub fn on_progress(
        mut self,
        f: impl Fn(ProgressNotificationParams) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }
    /// Restarts the timeout on each progress notification, up to `max_total` in all.
    pub fn reset_timeout_on_progress(mut self, max_total: Option<Duration>) -> Self {
        self.reset_timeout_on_progress = true;
        self.max_total_timeout = max_total;
        self
    }
}

#[derive(Default, Clone)]
pub(crate) struct Handlers {
    pub(crate) sampling: Option<Handler<CreateMessageRequestParams, CreateMessageResult>>,
    pub(crate) elicitation: Option<Handler<ElicitRequestParams, ElicitResult>>,
    pub(crate) roots: Option<Handler<(), ListRootsResult>>,
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    info: Implementation,
    handlers: Handlers,
    limits: ClientLimits,
    elicitation_url: bool,
    sampling_tools: bool,
    max_line: usize,
    offer: ProtocolVersion,
    era: Era,
    discover_timeout: Duration,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Answers `sampling/createMessage` (declares the `sampling` capability).
    pub fn sampling<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CreateMessageResult, ErrorObject>> + Send + 'static,
    {
        self.handlers.sampling = Some(Arc::new(move |p| Box::pin(f(p)) as BoxFuture<_>));
        self
    }

    /// Declares that the sampling handler supports `tools` (2025-11-25).
    pub fn sampling_with_tools(mut self) -> Self {
        self.sampling_tools = true;
        self
    }

    /// Answers `elicitation/create` (declares the `elicitation` capability, form mode).
    pub fn elicitation<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ElicitResult, ErrorObject>> + Send + 'static,
    {
        self.handlers.elicitation = Some(Arc::new(move |p| Box::pin(f(p)) as BoxFuture<_>));
        self
    }

    /// Declares that the elicitation handler also takes URL mode (2025-11-25).
    pub fn elicitation_url(mut self) -> Self {
        self.elicitation_url = true;
        self
    }

    /// Answers `roots/list` (declares the `roots` capability).
    pub fn roots<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ListRootsResult, ErrorObject>> + Send + 'static,
    {
        self.handlers.roots = Some(Arc::new(move |()| Box::pin(f()) as BoxFuture<_>));
        self
    }

    /// The default timeout of every request (default 60 s).
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.limits.request_timeout = t;
        self
    }

    /// Session bounds.
    pub fn limits(mut self, limits: ClientLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Pins the revision: a handshake revision is offered in `initialize` (and the
    /// client then speaks [`Era::Legacy`]); 2026-07-28 pins [`Era::Modern`]. Without this,
    /// [`Era::Auto`] offers 2025-11-25 when it falls back.
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        if ProtocolVersion::LEGACY.contains(&version) {
            self.offer = version;
            self.era = Era::Legacy;
        } else {
            self.era = Era::Modern;
        }
        self
    }

    /// Which era to speak (default [`Era::Auto`]: 2026-07-28 when the server speaks it,
    /// else `initialize`). See the [module docs](self) for how the era is found.
    pub fn era(mut self, era: Era) -> Self {
        self.era = era;
        self
    }

    /// On stdio, how long the `server/discover` probe waits before taking silence for an
    /// older server (default 5 s).
    pub fn discover_timeout(mut self, t: Duration) -> Self {
        self.discover_timeout = t;
        self
    }

    /// The longest line read from the server (default 4 MiB).
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    fn capabilities(&self) -> Result<ClientCapabilities, ClientError> {
        let mut caps = serde_json::Map::new();
        if self.handlers.sampling.is_some() {
            caps.insert(
                "sampling".into(),
                if self.sampling_tools {
                    json!({ "tools": {} })
                } else {
                    json!({})
                },
            );
        }
        if self.handlers.elicitation.is_some() {
            caps.insert(
                "elicitation".into(),
                if self.elicitation_url {
                    json!({ "form": {}, "url": {} })
                } else {
                    json!({ "form": {} })
                },
            );
        }
        if self.handlers.roots.is_some() {
            caps.insert("roots".into(), json!({ "listChanged": true }));
        }
        serde_json::from_value(Value::Object(caps))
            .map_err(|e| ClientError::Malformed(e.to_string()))
    }

    /// Connects over a reader (the server's output) and a writer (its input), offering
    /// 2025-11-25 and accepting the server's choice among the revisions oxmcp speaks.
    pub async fn connect<R, W>(self, reader: R, writer: W) -> Result<Client, ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        self.connect_with_exit(reader, writer, None, None).await
    }

    /// Connects to a Streamable HTTP server (see [`http`] for what the transport does).
    pub async fn connect_http(self, transport: HttpClientTransport) -> Result<Client, ClientError> {
        let ((reader, writer), handle) = http::start(transport)?;
        self.connect_with_exit(reader, writer, None, Some(handle))
            .await
    }

    /// Connects to a Streamable HTTP server at `url` with the default transport options.
    pub async fn connect_url(self, url: &str) -> Result<Client, ClientError> {
        self.connect_http(HttpClientTransport::new(url)).await
    }

    /// Spawns a server process and connects to it over its stdio.
    pub async fn connect_stdio(self, command: StdioCommand) -> Result<Client, ClientError> {
        let child = command.spawn()?;
        let retry = ClientBuilder {
            era: Era::Legacy,
            ..self.clone_config()
        };
        match self
            .connect_with_exit(child.stdout, child.stdin, Some(child.exit), None)
            .await
        {
            Err(ClientError::Closed(why)) if why.starts_with(RESTART) => {
                // An older server that exits on a request before `initialize`: start it
                // again and initialise.
                tracing::info!("{why}; starting the server again for initialize");
                let child = command.spawn()?;
                retry
                    .connect_with_exit(child.stdout, child.stdin, Some(child.exit), None)
                    .await
            }
            other => other,
        }
    }

    fn clone_config(&self) -> ClientBuilder {
        ClientBuilder {
            info: self.info.clone(),
            handlers: self.handlers.clone(),
            limits: self.limits.clone(),
            elicitation_url: self.elicitation_url,
            sampling_tools: self.sampling_tools,
            max_line: self.max_line,
            offer: self.offer,
            era: self.era,
            discover_timeout: self.discover_timeout,
        }
    }

    async fn connect_with_exit<R, W>(
        self,
        reader: R,
        writer: W,
        exit: Option<stdio::ExitWatch>,
        transport: Option<http::TransportHandle>,
    ) -> Result<Client, ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let capabilities = self.capabilities()?;
        let mut answers = Vec::new();
        if self.handlers.sampling.is_some() {
            answers.push("sampling/createMessage");
        }
        if self.handlers.elicitation.is_some() {
            answers.push("elicitation/create");
        }
        if self.handlers.roots.is_some() {
            answers.push("roots/list");
        }
        let session = ClientSession::new(self.limits, &answers);
        let handlers = self.handlers.clone();
        let shared = driver::start(session, self.handlers, reader, writer, exit, self.max_line);
        let http = transport.is_some();
        let client = Client {
            shared,
            transport,
            handlers,
        };
        let info =
            serde_json::to_value(&self.info).map_err(|e| ClientError::Malformed(e.to_string()))?;
        let caps = serde_json::to_value(&capabilities)
            .map_err(|e| ClientError::Malformed(e.to_string()))?;
        let mut probed = None;
        if self.era != Era::Legacy {
            client
                .shared
                .session
                .lock()
                .probe_modern(caps.clone(), info.clone());
            let mut opts = CallOptions::default();
            if !http {
                opts = opts.timeout(self.discover_timeout);
            }
            let mut answer = client
                .shared
                .request("server/discover", Some(&json!({})), opts.clone())
                .await;
            if let Err(ClientError::Rpc(e)) = &answer
                && modern::offers_our_version(e)
            {
                // -32022 naming a revision we speak: retry with it (once).
                answer = client
                    .shared
                    .request("server/discover", Some(&json!({})), opts)
                    .await;
            }
            let verdict = match answer {
                Ok(raw) => match client.shared.session.lock().discovered(&raw) {
                    Ok(()) => None,
                    Err(e) => Some(modern::Verdict::Legacy(e.message)),
                },
                Err(e) => Some(modern::classify(e, http)),
            };
            match verdict {
                None => return Ok(client),
                Some(modern::Verdict::Fail(e)) => return Err(e),
                Some(v) if self.era == Era::Modern => {
                    return Err(ClientError::Transport(format!(
                        "the server does not speak protocol revision 2026-07-28 ({v:?}) and the client is pinned to it"
                    )));
                }
                Some(modern::Verdict::Restart(why)) => {
                    return Err(ClientError::Closed(format!("{RESTART}: {why}")));
                }
                Some(modern::Verdict::Legacy(why)) => {
                    tracing::debug!("falling back to initialize: {why}");
                    client.shared.session.lock().abandon_modern();
                    probed = Some(why);
                }
            }
        }
        let params = ClientSession::initialize_params(self.offer, caps, info);
        let result: Box<serde_json::value::RawValue> = match client
            .request_raw("initialize", Some(&params), CallOptions::default())
            .await
        {
            Ok(r) => r,
            Err(e) if http && probed.is_some() && modern::is_old_http_transport(&e) => {
                return Err(ClientError::Transport(format!(
                    "HTTP+SSE (2024-11-05) server: not supported yet (neither server/discover nor initialize was accepted: {e})"
                )));
            }
            Err(e) => return Err(e),
        };
        let note = client
            .shared
            .session
            .lock()
            .initialized(&result)
            .map_err(ClientError::Rpc)?;
        client.shared.send(note).await?;
        Ok(client)
    }
}

/// Marks a probe that ended with the server process: the caller starts it again.
const RESTART: &str = "the server exited on server/discover";

/// A connected MCP client. Cheap to clone; the connection ends when the last clone is
/// dropped (a spawned server process is then killed and reaped).
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    transport: Option<http::TransportHandle>,
    handlers: Handlers,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("version", &self.protocol_version())
            .finish_non_exhaustive()
    }
}

/// The params of a list request: the cursor, if any.
fn page(cursor: Option<&str>) -> Option<Value> {
    cursor.map(|c| json!({ "cursor": c }))
}

impl Client {
    /// Starts building a client that calls itself `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            info: Implementation {
                name: name.into(),
                version: version.into(),
                ..Default::default()
            },
            handlers: Handlers::default(),
            limits: ClientLimits::default(),
            elicitation_url: false,
            sampling_tools: false,
            max_line: oxmcp_proto::framing::DEFAULT_MAX_LINE,
            offer: ProtocolVersion::LATEST_LEGACY,
            era: Era::Auto,
            discover_timeout: Duration::from_secs(5),
        }
    }

    /// Closes the connection for every handle and waits until the transport has finished:
    /// over HTTP that includes the session's DELETE (bounded by
    /// [`HttpClientTransport::close_timeout`]). Pending calls fail with
    /// [`ClientError::Closed`]. Over other transports this drops this handle.
    pub async fn close(self) {
        let transport = self.transport.clone();
        drop(self);
        if let Some(t) = transport {
            t.close().await;
        }
    }

    /// The negotiated revision (2026-07-28 for a server found to speak it).
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.shared.session.lock().version()
    }

    /// Whether the client speaks 2026-07-28 with this server.
    pub fn is_modern(&self) -> bool {
        self.shared.session.lock().is_modern()
    }

    /// Cached results held (2026-07-28; for tests and metrics).
    pub fn cached(&self) -> usize {
        self.shared.cache.len()
    }

    /// Opens a `subscriptions/listen` stream (2026-07-28) for the notifications `filter`
    /// asks for, and waits for the server's acknowledgement; the stream is reopened if it
    /// drops, and closed when the returned [`Subscription`] is dropped. Its notifications
    /// arrive on [`Client::notifications`].
    pub async fn listen(&self, filter: SubscriptionFilter) -> Result<Subscription, ClientError> {
        if !self.is_modern() {
            return Err(ClientError::Rpc(
                ErrorObject::method_not_found("subscriptions/listen").with_data(json!({
                    "reason": "listen streams are a 2026-07-28 feature; subscribe on older revisions"
                })),
            ));
        }
        let mut notes = self.notifications();
        let shared = self.shared.clone();
        let params = json!({ "notifications": filter });
        let task = tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                let opts = CallOptions::default().timeout(Duration::from_secs(365 * 24 * 3600));
                match shared
                    .request("subscriptions/listen", Some(&params), opts)
                    .await
                {
                    Ok(_) => delay = Duration::from_millis(100),
                    Err(ClientError::Closed(_)) => return,
                    Err(e) => tracing::debug!(error = %e, "the listen stream dropped"),
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        });
        let abort = task.abort_handle();
        loop {
            let n = match notes.recv().await {
                Ok(n) => n,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => {
                    abort.abort();
                    return Err(ClientError::Closed("the connection closed".into()));
                }
            };
            if n.method == "notifications/subscriptions/acknowledged" {
                let acknowledged: SubscriptionFilter =
                    serde_json::from_value(n.params["notifications"].clone())
                        .map_err(|e| ClientError::Malformed(e.to_string()))?;
                if acknowledged != filter {
                    tracing::info!(
                        ?filter,
                        ?acknowledged,
                        "the server honours part of the listen filter"
                    );
                }
                return Ok(Subscription {
                    acknowledged,
                    task: abort,
                });
            }
        }
    }

    /// The server's capabilities.
    pub fn server_capabilities(&self) -> ServerCapabilities {
        self.shared.session.lock().server_capabilities().clone()
    }

    /// The server's `serverInfo`.
    pub fn server_info(&self) -> Option<Implementation> {
        self.shared.session.lock().server_info().cloned()
    }

    /// The server's instructions.
    pub fn instructions(&self) -> Option<String> {
        self.shared.session.lock().instructions().map(str::to_owned)
    }

    /// Server notifications (log messages, list changes, resource updates, task status…).
    pub fn notifications(&self) -> broadcast::Receiver<ServerNotification> {
        self.shared.notifications.subscribe()
    }

    /// The process id of the server this client spawned (stdio), if any.
    pub fn server_pid(&self) -> Option<u32> {
        self.shared.pid
    }

    /// Requests awaiting an answer (for tests and metrics).
    pub fn pending(&self) -> usize {
        self.shared.session.lock().pending()
    }

    async fn request_raw<P: Serialize>(
        &self,
        method: &str,
        params: Option<&P>,
        opts: CallOptions,
    ) -> Result<Box<serde_json::value::RawValue>, ClientError> {
        if !self.is_modern() {
            return self.shared.request(method, params, opts).await;
        }
        let mut params = match params {
            Some(p) => {
                Some(serde_json::to_value(p).map_err(|e| ClientError::Malformed(e.to_string()))?)
            }
            None => None,
        };
        let cacheable = oxmcp_proto::modern::shape::is_cacheable(method);
        let key = cacheable.then(|| modern::cache_key(method, params.as_ref()));
        if let Some(hit) = key.as_deref().and_then(|k| self.shared.cache.get(k)) {
            return Ok(hit);
        }
        for round in 0..MAX_ROUNDS {
            let raw = self
                .shared
                .request(method, params.as_ref(), opts.clone())
                .await?;
            let Some(ask) = modern::interim(&raw)? else {
                if let (Some(k), 0) = (key, round) {
                    self.shared.cache.put(k, &raw);
                }
                return Ok(raw);
            };
            let responses =
                modern::fulfil(&self.handlers, ask.input_requests.unwrap_or_default()).await?;
            let p = params.get_or_insert_with(|| json!({}));
            if let Some(obj) = p.as_object_mut() {
                obj.remove("_meta");
                obj.insert("inputResponses".into(), Value::Object(responses));
                match ask.request_state {
                    Some(state) => obj.insert("requestState".into(), state.into()),
                    None => obj.remove("requestState"),
                };
            }
        }
        Err(ClientError::Malformed(format!(
            "{method} still asked for input after {MAX_ROUNDS} rounds"
        )))
    }

    /// Any request, with its result deserialised into `R`.
    pub async fn request<R: DeserializeOwned, P: Serialize>(
        &self,
        method: &str,
        params: Option<&P>,
        opts: CallOptions,
    ) -> Result<R, ClientError> {
        let raw = self.request_raw(method, params, opts).await?;
        serde_json::from_str(raw.get())
            .map_err(|e| ClientError::Malformed(format!("{method} result: {e}")))
    }

    /// `ping`; under 2026-07-28, which has no ping, a `server/discover` (never served from
    /// the cache) checks the server answers.
    pub async fn ping(&self) -> Result<(), ClientError> {
        if self.is_modern() {
            return self
                .shared
                .request("server/discover", Some(&json!({})), CallOptions::default())
                .await
                .map(|_| ());
        }
        self.request::<Value, Value>("ping", None, CallOptions::default())
            .await
            .map(|_| ())
    }

    /// One page of `tools/list`.
    pub async fn list_tools(&self, cursor: Option<&str>) -> Result<ListToolsResult, ClientError> {
        self.request("tools/list", page(cursor).as_ref(), CallOptions::default())
            .await
    }

    /// Every tool, following cursors.
    pub async fn list_all_tools(&self) -> Result<Vec<Tool>, ClientError> {
        self.collect(|c| async move {
            self.list_tools(c.as_deref())
                .await
                .map(|r| (r.tools, r.next_cursor))
        })
        .await
    }

    /// `tools/call` with arguments (any JSON object; `null` for none).
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, ClientError> {
        self.call_tool_with(name, arguments, CallOptions::default())
            .await
    }

    /// `tools/call` with options (progress callback, timeouts).
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        opts: CallOptions,
    ) -> Result<CallToolResult, ClientError> {
        let mut params = json!({ "name": name });
        if !arguments.is_null() {
            params["arguments"] = arguments;
        }
        self.request("tools/call", Some(&params), opts).await
    }

    /// One page of `resources/list`.
    pub async fn list_resources(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourcesResult, ClientError> {
        self.request(
            "resources/list",
            page(cursor).as_ref(),
            CallOptions::default(),
        )
        .await
    }

    /// Every resource, following cursors.
    pub async fn list_all_resources(&self) -> Result<Vec<Resource>, ClientError> {
        self.collect(|c| async move {
            self.list_resources(c.as_deref())
                .await
                .map(|r| (r.resources, r.next_cursor))
        })
        .await
    }

    /// One page of `resources/templates/list`.
    pub async fn list_resource_templates(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourceTemplatesResult, ClientError> {
        self.request(
            "resources/templates/list",
            page(cursor).as_ref(),
            CallOptions::default(),
        )
        .await
    }

    /// Every resource template, following cursors.
    pub async fn list_all_resource_templates(&self) -> Result<Vec<ResourceTemplate>, ClientError> {
        self.collect(|c| async move {
            self.list_resource_templates(c.as_deref())
                .await
                .map(|r| (r.resource_templates, r.next_cursor))
        })
        .await
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, ClientError> {
        self.request(
            "resources/read",
            Some(&json!({ "uri": uri })),
            CallOptions::default(),
        )
        .await
    }

    /// `resources/subscribe`.
    pub async fn subscribe(&self, uri: &str) -> Result<(), ClientError> {
        self.request::<Value, _>(
            "resources/subscribe",
            Some(&json!({ "uri": uri })),
            CallOptions::default(),
        )
        .await
        .map(|_| ())
    }

    /// `resources/unsubscribe`.
    pub async fn unsubscribe(&self, uri: &str) -> Result<(), ClientError> {
        self.request::<Value, _>(
            "resources/unsubscribe",
            Some(&json!({ "uri": uri })),
            CallOptions::default(),
        )
        .await
        .map(|_| ())
    }

    /// One page of `prompts/list`.
    pub async fn list_prompts(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListPromptsResult, ClientError> {
        self.request(
            "prompts/list",
            page(cursor).as_ref(),
            CallOptions::default(),
        )
        .await
    }

    /// Every prompt, following cursors.
    pub async fn list_all_prompts(&self) -> Result<Vec<Prompt>, ClientError> {
        self.collect(|c| async move {
            self.list_prompts(c.as_deref())
                .await
                .map(|r| (r.prompts, r.next_cursor))
        })
        .await
    }

    /// `prompts/get`.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: HashMap<String, String>,
    ) -> Result<GetPromptResult, ClientError> {
        self.request(
            "prompts/get",
            Some(&json!({ "name": name, "arguments": arguments })),
            CallOptions::default(),
        )
        .await
    }

    /// `completion/complete` for a prompt argument (`reference` = `{"type":"ref/prompt","name":..}`)
    /// or a template variable (`{"type":"ref/resource","uri":..}`).
    pub async fn complete(
        &self,
        reference: Value,
        argument: &str,
        value: &str,
    ) -> Result<CompleteResult, ClientError> {
        let params = json!({ "ref": reference, "argument": { "name": argument, "value": value } });
        self.request("completion/complete", Some(&params), CallOptions::default())
            .await
    }

    /// `logging/setLevel`; under 2026-07-28 the level every later request opts in to.
    pub async fn set_log_level(&self, level: LoggingLevel) -> Result<(), ClientError> {
        if self.is_modern() {
            self.shared.session.lock().set_modern_log_level(Some(level));
            return Ok(());
        }
        self.request::<Value, _>(
            "logging/setLevel",
            Some(&json!({ "level": level })),
            CallOptions::default(),
        )
        .await
        .map(|_| ())
    }

    /// A task-augmented `tools/call` (2025-11-25): returns the created task (`result.task`).
    pub async fn call_tool_as_task(
        &self,
        name: &str,
        arguments: Value,
        ttl_ms: Option<u64>,
    ) -> Result<Value, ClientError> {
        let mut task = json!({});
        if let Some(ttl) = ttl_ms {
            task["ttl"] = ttl.into();
        }
        let params = json!({ "name": name, "arguments": arguments, "task": task });
        let r: Value = self
            .request("tools/call", Some(&params), CallOptions::default())
            .await?;
        r.get("task")
            .cloned()
            .ok_or_else(|| ClientError::Malformed(format!("the server did not create a task: {r}")))
    }

    /// `tasks/get`.
    pub async fn get_task(&self, task_id: &str) -> Result<Value, ClientError> {
        self.request(
            "tasks/get",
            Some(&json!({ "taskId": task_id })),
            CallOptions::default(),
        )
        .await
    }

    /// `tasks/result`: waits (up to `timeout`) for the task to end and returns its result.
    pub async fn task_result(
        &self,
        task_id: &str,
        timeout: Duration,
    ) -> Result<CallToolResult, ClientError> {
        self.request(
            "tasks/result",
            Some(&json!({ "taskId": task_id })),
            CallOptions::default().timeout(timeout),
        )
        .await
    }

    /// Polls `tasks/get` at the server's `pollInterval` until the task is terminal.
    pub async fn wait_task(&self, task_id: &str) -> Result<Value, ClientError> {
        loop {
            let task = self.get_task(task_id).await?;
            let status = task["status"].as_str().unwrap_or_default();
            if matches!(status, "completed" | "failed" | "cancelled") {
                return Ok(task);
            }
            let interval = task["pollInterval"]
                .as_u64()
                .unwrap_or(500)
                .clamp(10, 60_000);
            tokio::time::sleep(Duration::from_millis(interval)).await;
        }
    }

    /// `tasks/list` (one page).
    pub async fn list_tasks(&self, cursor: Option<&str>) -> Result<Value, ClientError> {
        self.request("tasks/list", page(cursor).as_ref(), CallOptions::default())
            .await
    }

    /// `tasks/cancel`.
    pub async fn cancel_task(&self, task_id: &str) -> Result<Value, ClientError> {
        self.request(
            "tasks/cancel",
            Some(&json!({ "taskId": task_id })),
            CallOptions::default(),
        )
        .await
    }

    /// Tells the server the roots changed (`notifications/roots/list_changed`).
    pub async fn notify_roots_changed(&self) -> Result<(), ClientError> {
        let bytes = self
            .shared
            .session
            .lock()
            .notification::<()>("notifications/roots/list_changed", None);
        self.shared.send(bytes).await
    }

    async fn collect<T, F, Fut>(&self, mut page: F) -> Result<Vec<T>, ClientError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), ClientError>>,
    {
        /// A server that keeps returning cursors must not keep us paging forever.
        const MAX_PAGES: usize = 10_000;
        let mut all = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let (items, next) = page(cursor.take()).await?;
            all.extend(items);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
        Err(ClientError::Malformed(format!(
            "the server returned more than {MAX_PAGES} pages"
        )))
    }
}
