//! The server SDK: a [`Server`] built from tools, resources and prompts, editable while it
//! serves.
//!
//! ```no_run
//! use oxmcp::server::{Server, Tool};
//! use oxmcp::model::CallToolResult;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo {
//!     /// The text to send back.
//!     message: String,
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let server = Server::builder("echo-server", "1.0.0")
//!     .tool(Tool::new("echo", "Returns its input", |args: Echo, _ctx| async move {
//!         Ok(CallToolResult::text(args.message))
//!     }))
//!     .build();
//! server.serve_stdio().await
//! # }
//! ```

pub(crate) mod catalog;
pub mod context;
pub(crate) mod dispatch;
pub mod modern;
pub mod prompt;
pub mod resource;
pub(crate) mod task_ext;
pub(crate) mod tasks;
pub(crate) mod tasks_route;
pub mod tool;
pub mod uri_template;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use oxmcp_proto::cursor::CursorCodec;
use oxmcp_proto::framing::DEFAULT_MAX_LINE;
use oxmcp_proto::model::{Implementation, ServerCapabilities};
use oxmcp_proto::session::{ListChanged, ServerSetup, SessionLimits};
use parking_lot::RwLock;
use serde_json::value::RawValue;
use tokio::sync::broadcast;

pub use context::{Answer, Context, Input};
pub use modern::{CacheHints, ModernOptions};
pub use prompt::Prompt;
pub use resource::{Resource, ResourceTemplate};
pub use tasks::TaskLimits;
pub use tool::{TaskSupport, Tool};

use catalog::Catalog;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Completes an argument: given the partial value and the other arguments already
/// filled in, the candidate values.
pub type Completer =
    Arc<dyn Fn(&str, &std::collections::HashMap<String, String>) -> Vec<String> + Send + Sync>;

type NotificationHook = Arc<dyn Fn(&str, Option<&RawValue>) + Send + Sync>;

/// Runtime options of a server. Every field has a documented default ([`Default`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Per-session bounds (in-flight requests, pending server requests, deadlines, …).
    pub limits: SessionLimits,
    /// The longest line a line transport reads (default 4 MiB). A longer one is skipped and
    /// answered with -32600 naming the limit.
    pub max_line: usize,
    /// Messages queued for the client before senders wait (default 1,024).
    pub outbound_queue: usize,
    /// How long in-flight requests may run on after the input ends or shutdown begins
    /// (default 5 s); then they are aborted.
    pub shutdown_grace: Duration,
    /// Items per page of `tools/list`, `resources/list`, `resources/templates/list`,
    /// `prompts/list` and `tasks/list` (default 50).
    pub page_size: usize,
    /// Bounds of 2025-11-25 tasks.
    pub tasks: TaskLimits,
    /// How 2026-07-28 requests are answered (requestState keys, caching hints).
    pub modern: ModernOptions,
    /// Requests handled at once, all sessions together (default 10,000). One more is shed:
    /// -31429 with `data.retryAfterMs` (over HTTP 503 with `Retry-After`).
    pub max_in_flight_total: usize,
    /// Requests per session (default: no limit). One more gets -31429 (over HTTP 429 with
    /// `Retry-After`).
    pub rate_per_session: Option<crate::guard::Rate>,
    /// When a tool's circuit breaker opens (default 5 consecutive failures, 30 s
    /// cool-down; `None`: no breakers).
    pub breaker: Option<crate::guard::BreakerPolicy>,
    /// Argument names whose values debug logs show as `<redacted>` (compared
    /// case-insensitively, at any depth; default [`crate::observe::logs::DEFAULT_REDACT`]).
    pub redact: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            limits: SessionLimits::default(),
            max_line: DEFAULT_MAX_LINE,
            outbound_queue: 1024,
            shutdown_grace: crate::connection::DEFAULT_SHUTDOWN_GRACE,
            page_size: 50,
            tasks: TaskLimits::default(),
            modern: ModernOptions::default(),
            max_in_flight_total: 10_000,
            rate_per_session: None,
            breaker: Some(crate::guard::BreakerPolicy::default()),
            redact: crate::observe::logs::DEFAULT_REDACT
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

/// An entry of a listed catalog: what `*/list` shows of it.
pub(crate) trait Listed {
    type Def: serde::Serialize;
    fn def(&self) -> &Self::Def;
}

macro_rules! listed {
    ($($t:ty => $d:ty),* $(,)?) => {$(
        impl Listed for $t {
            type Def = $d;
            fn def(&self) -> &$d {
                &self.def
            }
        }
    )*};
}

listed!(
    Tool => oxmcp_proto::model::Tool,
    Resource => oxmcp_proto::model::Resource,
    ResourceTemplate => oxmcp_proto::model::ResourceTemplate,
    Prompt => oxmcp_proto::model::Prompt,
);

/// A server-wide change every session hears about.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    List(ListChanged),
    ResourceUpdated(String),
}

#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) tools: Catalog<Tool>,
    pub(crate) resources: Catalog<Resource>,
    pub(crate) templates: Catalog<ResourceTemplate>,
    pub(crate) prompts: Catalog<Prompt>,
}

struct Inner {
    setup: Arc<ServerSetup>,
    /// What 2026-07-28 requests are served under: the setup without core tasks.
    modern_setup: Arc<ServerSetup>,
    /// `serverInfo` as JSON, serialised once: every 2026-07-28 result carries it.
    info_json: Box<str>,
    /// `options.tasks`, shared by every session's task store.
    task_limits: Arc<tasks::TaskLimits>,
    /// `options.limits`, shared by every session.
    session_limits: Arc<oxmcp_proto::session::SessionLimits>,
    options: ServerOptions,
    registry: RwLock<Registry>,
    cursors: CursorCodec,
    state: oxmcp_proto::modern::state::StateCodec,
    ext_tasks: task_ext::ExtTasks,
    /// Cancelled when the server stops: 2026-07-28 listen streams end gracefully.
    listens_end: tokio_util::sync::CancellationToken,
    changes: broadcast::Sender<Change>,
    on_notification: Option<NotificationHook>,
    connections: parking_lot::Mutex<Vec<std::sync::Weak<crate::connection::Connection>>>,
    metrics: crate::observe::Metrics,
    /// Requests in flight, all sessions together.
    load: crate::guard::load::Load,
}

/// An MCP server: cheap to clone (a handle), editable while serving.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.inner.setup.info)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts building a server that calls itself `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            info: Implementation {
                name: name.into(),
                version: version.into(),
                ..Default::default()
            },
            instructions: None,
            options: ServerOptions::default(),
            registry: Registry::default(),
            enable: Enable::default(),
            on_notification: None,
            metrics: crate::observe::Metrics::new(),
        }
    }

    /// The runtime options.
    pub fn options(&self) -> &ServerOptions {
        &self.inner.options
    }

    /// The server's metrics (rendered by `GET /metrics` of the HTTP transport).
    pub fn metrics(&self) -> &crate::observe::Metrics {
        &self.inner.metrics
    }

    pub(crate) fn load(&self) -> &crate::guard::load::Load {
        &self.inner.load
    }

    /// Tools whose circuit breaker is not closed, with the state's name.
    pub fn breakers(&self) -> Vec<(String, crate::guard::breaker::BreakerState)> {
        use crate::guard::breaker::BreakerState;
        self.registry()
            .tools
            .values()
            .filter_map(|t| {
                let state = t.watch.as_ref()?.breaker.state();
                (state != BreakerState::Closed).then(|| (t.def.name.clone(), state))
            })
            .collect()
    }

    /// What `initialize` reports.
    pub fn setup(&self) -> Arc<ServerSetup> {
        self.inner.setup.clone()
    }

    /// The limits every session shares.
    pub(crate) fn session_limits(&self) -> Arc<oxmcp_proto::session::SessionLimits> {
        self.inner.session_limits.clone()
    }

    /// The task limits every session's store shares.
    pub(crate) fn task_limits(&self) -> Arc<tasks::TaskLimits> {
        self.inner.task_limits.clone()
    }

    /// `serverInfo` as JSON.
    pub(crate) fn info_json(&self) -> &str {
        &self.inner.info_json
    }

    /// What 2026-07-28 requests see of the setup (no core tasks: that revision has none).
    pub(crate) fn modern_setup(&self) -> Arc<ServerSetup> {
        self.inner.modern_setup.clone()
    }

    pub(crate) fn register(&self, conn: &Arc<crate::connection::Connection>) {
        let mut conns = self.inner.connections.lock();
        conns.retain(|c| c.strong_count() > 0);
        conns.push(Arc::downgrade(conn));
    }

    /// Live sessions and the sum of their counters (requests in flight, pending
    /// server-to-client requests, handler tasks, tasks). For tests, health and metrics.
    pub fn stats(&self) -> (usize, crate::connection::ConnectionStats) {
        let conns: Vec<_> = self
            .inner
            .connections
            .lock()
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .collect();
        let total = conns
            .iter()
            .map(|c| c.stats())
            .fold(Default::default(), |a, b| a + b);
        let mut total: crate::connection::ConnectionStats = total;
        total.tasks += self.inner.ext_tasks.len();
        (conns.len(), total)
    }

    pub(crate) fn registry(&self) -> parking_lot::RwLockReadGuard<'_, Registry> {
        self.inner.registry.read()
    }

    pub(crate) fn cursors(&self) -> &CursorCodec {
        &self.inner.cursors
    }

    /// Ends every 2026-07-28 listen stream with its final (complete) result, as a server
    /// that shuts down should; `HttpService::drain` calls it.
    pub fn end_listens(&self) {
        self.inner.listens_end.cancel();
    }

    pub(crate) fn listens_ending(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.inner.listens_end.clone().cancelled_owned()
    }

    pub(crate) fn ext_tasks(&self) -> &task_ext::ExtTasks {
        &self.inner.ext_tasks
    }

    pub(crate) fn state_codec(&self) -> &oxmcp_proto::modern::state::StateCodec {
        &self.inner.state
    }

    pub(crate) fn subscribe_changes(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    pub(crate) fn client_notification(&self, method: &str, params: Option<&RawValue>) {
        if let Some(hook) = &self.inner.on_notification {
            hook(method, params);
        }
    }

    fn changed(&self, change: Change) {
        // No receiver (no session yet) is fine: nobody to tell.
        let _ = self.inner.changes.send(change);
    }

    /// Adds (or replaces) a tool; sessions get `notifications/tools/list_changed`.
    pub fn add_tool(&self, tool: Tool) {
        let tool = tool.watched(&self.inner.metrics);
        self.inner
            .registry
            .write()
            .tools
            .insert(tool.def.name.clone(), tool);
        self.changed(Change::List(ListChanged::Tools));
    }

    /// Removes a tool; true if it existed (then sessions get `list_changed`).
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = self.inner.registry.write().tools.remove(name);
        if removed {
            self.changed(Change::List(ListChanged::Tools));
        }
        removed
    }

    /// Adds (or replaces) a resource; sessions get `notifications/resources/list_changed`.
    pub fn add_resource(&self, resource: Resource) {
        self.inner
            .registry
            .write()
            .resources
            .insert(resource.def.uri.clone(), resource);
        self.changed(Change::List(ListChanged::Resources));
    }

    /// Removes a resource by URI; true if it existed.
    pub fn remove_resource(&self, uri: &str) -> bool {
        let removed = self.inner.registry.write().resources.remove(uri);
        if removed {
            self.changed(Change::List(ListChanged::Resources));
        }
        removed
    }

    /// Adds (or replaces) a resource template.
    pub fn add_resource_template(&self, template: ResourceTemplate) {
        self.inner
            .registry
            .write()
            .templates
            .insert(template.def.uri_template.clone(), template);
        self.changed(Change::List(ListChanged::Resources));
    }

    /// Adds (or replaces) a prompt; sessions get `notifications/prompts/list_changed`.
    pub fn add_prompt(&self, prompt: Prompt) {
        self.inner
            .registry
            .write()
            .prompts
            .insert(prompt.def.name.clone(), prompt);
        self.changed(Change::List(ListChanged::Prompts));
    }

    /// Removes a prompt; true if it existed.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = self.inner.registry.write().prompts.remove(name);
        if removed {
            self.changed(Change::List(ListChanged::Prompts));
        }
        removed
    }

    /// Tells every session subscribed to `uri` that it changed
    /// (`notifications/resources/updated`).
    pub fn notify_resource_updated(&self, uri: &str) {
        self.changed(Change::ResourceUpdated(uri.to_owned()));
    }

    /// Serves one session on stdin/stdout until stdin ends.
    pub async fn serve_stdio(self) -> std::io::Result<()> {
        crate::transport::stdio::serve(self).await
    }

    /// Serves Streamable HTTP on `addr` at `opts.path` until SIGTERM or Ctrl-C, then
    /// shuts down gracefully (requests in flight get the shutdown grace). On a loopback
    /// address with no `allowed_hosts`, only loopback `Host` names are accepted (DNS
    /// rebinding protection).
    pub async fn serve_http(
        self,
        addr: impl tokio::net::ToSocketAddrs,
        mut opts: crate::transport::http::HttpOptions,
    ) -> std::io::Result<()> {
        use crate::transport::http;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        if opts.allowed_hosts.is_none() && listener.local_addr()?.ip().is_loopback() {
            opts = opts.loopback();
        }
        let grace = self.options().shutdown_grace;
        let service = http::HttpService::new(self, opts);
        http::serve(listener, service, http::shutdown_signal(), grace).await
    }
}

#[derive(Default)]
struct Enable {
    tools: bool,
    resources: bool,
    prompts: bool,
    tasks: bool,
}

/// Builds a [`Server`].
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    options: ServerOptions,
    registry: Registry,
    enable: Enable,
    on_notification: Option<NotificationHook>,
    metrics: crate::observe::Metrics,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Adds a tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        let tool = tool.watched(&self.metrics);
        self.registry.tools.insert(tool.def.name.clone(), tool);
        self
    }
    /// Adds several tools (e.g. a group returned by a function of `#[tool]`s).
    pub fn tools(self, tools: impl IntoIterator<Item = Tool>) -> Self {
        tools.into_iter().fold(self, ServerBuilder::tool)
    }
    /// Adds a resource.
    pub fn resource(mut self, resource: Resource) -> Self {
        self.registry
            .resources
            .insert(resource.def.uri.clone(), resource);
        self
    }
    /// Adds a resource template.
    pub fn resource_template(mut self, template: ResourceTemplate) -> Self {
        self.registry
            .templates
            .insert(template.def.uri_template.clone(), template);
        self
    }
    /// Adds a prompt.
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.registry
            .prompts
            .insert(prompt.def.name.clone(), prompt);
        self
    }
    /// Instructions for the client's model, sent in `initialize`.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }
    /// The server's human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }
    /// Runtime options.
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }
    /// Declares the tools capability even with no tool yet (tools added later).
    pub fn enable_tools(mut self) -> Self {
        self.enable.tools = true;
        self
    }
    /// Declares the resources capability even with no resource yet.
    pub fn enable_resources(mut self) -> Self {
        self.enable.resources = true;
        self
    }
    /// Declares the prompts capability even with no prompt yet.
    pub fn enable_prompts(mut self) -> Self {
        self.enable.prompts = true;
        self
    }
    /// Declares 2025-11-25 tasks even with no task-capable tool yet.
    pub fn enable_tasks(mut self) -> Self {
        self.enable.tasks = true;
        self
    }
    /// Called for client notifications the core does not handle itself (e.g.
    /// `notifications/roots/list_changed`).
    pub fn on_notification(
        mut self,
        hook: impl Fn(&str, Option<&RawValue>) + Send + Sync + 'static,
    ) -> Self {
        self.on_notification = Some(Arc::new(hook));
        self
    }

    /// Builds the server. Capabilities follow from what was added (and enabled): a kind
    /// with entries is declared with `listChanged`; resources with `subscribe`; `logging`
    /// always; `completions` when a prompt or template has a completer; `tasks` when a tool
    /// may run as a task.
    pub fn build(self) -> Server {
        let r = &self.registry;
        let mut caps = serde_json::Map::new();
        if self.enable.tools || !r.tools.is_empty() {
            caps.insert("tools".into(), serde_json::json!({ "listChanged": true }));
        }
        if self.enable.resources || !r.resources.is_empty() || !r.templates.is_empty() {
            caps.insert(
                "resources".into(),
                serde_json::json!({ "subscribe": true, "listChanged": true }),
            );
        }
        if self.enable.prompts || !r.prompts.is_empty() {
            caps.insert("prompts".into(), serde_json::json!({ "listChanged": true }));
        }
        caps.insert("logging".into(), serde_json::json!({}));
        let completes = r.prompts.values().any(|p| !p.completions.is_empty())
            || r.templates.values().any(|t| !t.completions.is_empty());
        if completes {
            caps.insert("completions".into(), serde_json::json!({}));
        }
        if self.enable.tasks
            || r.tools
                .values()
                .any(|t| t.task_support != TaskSupport::Forbidden)
        {
            caps.insert(
                "tasks".into(),
                serde_json::json!({ "list": {}, "cancel": {}, "requests": { "tools": { "call": {} } } }),
            );
        }
        let capabilities: ServerCapabilities =
            serde_json::from_value(serde_json::Value::Object(caps)).unwrap_or_default();
        let mut key = [0u8; 32];
        // Without OS randomness, cursors are still checked, only guessable; say so loudly.
        if getrandom::fill(&mut key).is_err() {
            tracing::warn!("no OS randomness: pagination cursors use a fixed key");
        }
        let (changes, _) = broadcast::channel(256);
        let state = modern::state_codec(&self.options.modern);
        let setup = ServerSetup::new(self.info, capabilities, self.instructions);
        let mut modern_setup = setup.clone();
        // 2026-07-28 has no core tasks; the tasks extension takes their place.
        if modern_setup.capabilities.tasks.take().is_some() {
            modern_setup.capabilities.extensions = Some(std::collections::BTreeMap::from([(
                oxmcp_proto::modern::TASKS_EXTENSION.to_owned(),
                serde_json::Map::new(),
            )]));
        }
        let ext_tasks = task_ext::ExtTasks::new(self.options.tasks.clone());
        let info_json = serde_json::to_string(&setup.info)
            .unwrap_or_else(|_| "{}".to_owned())
            .into_boxed_str();
        Server {
            inner: Arc::new(Inner {
                info_json,
                task_limits: Arc::new(self.options.tasks.clone()),
                session_limits: Arc::new(self.options.limits.clone()),
                setup: Arc::new(setup),
                modern_setup: Arc::new(modern_setup),
                load: crate::guard::load::Load::new(self.options.max_in_flight_total.max(1)),
                options: self.options,
                registry: RwLock::new(self.registry),
                cursors: CursorCodec::new(key),
                state,
                ext_tasks,
                listens_end: tokio_util::sync::CancellationToken::new(),

                changes,
                on_notification: self.on_notification,
                connections: parking_lot::Mutex::new(Vec::new()),
                metrics: self.metrics,
            }),
        }
    }
}
