//! Tools: a definition plus a handler, typed or dynamic.

use std::future::Future;
use std::sync::Arc;

use oxmcp_proto::model::{self, CallToolResult};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::BoxFuture;
use super::context::Context;
use crate::error::Error;

/// A tool's handler, type-erased.
pub(crate) type ToolFnPub = ToolFn;

type ToolFn = dyn Fn(Option<Box<RawValue>>, Context) -> BoxFuture<Result<CallToolResult, Error>>
    + Send
    + Sync;

/// Whether a tool may run as a 2025-11-25 task (`execution.taskSupport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskSupport {
    /// Never as a task (the default).
    Forbidden,
    /// Either way, as the client asks.
    Optional,
    /// Only as a task.
    Required,
}

impl TaskSupport {
    fn as_str(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }
}

/// A tool the server offers: its definition (as `tools/list` shows it) and its handler.
#[derive(Clone)]
pub struct Tool {
    pub(crate) def: model::Tool,
    pub(crate) handler: Arc<ToolFn>,
    pub(crate) task_support: TaskSupport,
    /// The 2026-07-28 task is created when the handler calls `Context::start_task`.
    pub(crate) task_after_input: bool,
    /// How long one call may run (`None`: only the server's request timeout).
    pub(crate) timeout: Option<std::time::Duration>,
    /// Its metrics and circuit breaker, attached when the tool is added to a server.
    pub(crate) watch: Option<Arc<ToolWatch>>,
}

/// What a server keeps per tool: its series and its breaker.
pub(crate) struct ToolWatch {
    pub(crate) series: Arc<crate::observe::metrics::ToolSeries>,
    pub(crate) breaker: crate::guard::breaker::Breaker,
}

impl Tool {
    /// This tool, watched by `metrics` (a fresh breaker, closed).
    pub(crate) fn watched(mut self, metrics: &crate::observe::Metrics) -> Tool {
        self.watch = Some(Arc::new(ToolWatch {
            series: metrics.tool(&self.def.name),
            breaker: Default::default(),
        }));
        self
    }
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.def.name)
            .finish_non_exhaustive()
    }
}

/// The JSON Schema (2020-12) of `T`, as an object.
pub fn schema_of<T: JsonSchema>() -> Map<String, Value> {
    match serde_json::to_value(schemars::schema_for!(T)) {
        Ok(Value::Object(map)) => map,
        _ => {
            let mut map = Map::new();
            map.insert("type".into(), "object".into());
            map
        }
    }
}

/// Deserialises tool arguments (absent or `null` read as `{}`), naming the failing field.
pub(crate) fn parse_arguments<A: DeserializeOwned>(
    tool: &str,
    args: Option<&RawValue>,
) -> Result<A, String> {
    let text = match args.map(RawValue::get) {
        None | Some("null") => "{}",
        Some(t) => t,
    };
    oxmcp_proto::session::deserialize_named(text).map_err(|(path, inner)| match path {
        None => format!("invalid arguments for tool `{tool}`: {inner}"),
        Some(path) => format!("invalid arguments for tool `{tool}`: `{path}`: {inner}"),
    })
}

impl Tool {
    /// A typed tool: arguments are deserialised into `A` before `f` runs (a failure is an
    /// `isError: true` result naming the field), and the input schema is generated from `A`.
    pub fn new<A, F, Fut>(name: impl Into<String>, description: impl Into<String>, f: F) -> Tool
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(A, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, Error>> + Send + 'static,
    {
        let name = name.into();
        let def = model::Tool {
            name: name.clone(),
            description: Some(description.into()),
            input_schema: schema_of::<A>(),
            ..Default::default()
        };
        let f = Arc::new(f);
        let handler: Arc<ToolFn> = Arc::new(move |args: Option<Box<RawValue>>, ctx: Context| {
            let f = f.clone();
            let name = name.clone();
            Box::pin(async move {
                match parse_arguments::<A>(&name, args.as_deref()) {
                    Ok(a) => f(a, ctx).await,
                    Err(text) => Ok(CallToolResult::error_text(text)),
                }
            }) as BoxFuture<_>
        });
        Tool {
            def,
            handler,
            task_support: TaskSupport::Forbidden,
            task_after_input: false,
            timeout: None,
            watch: None,
        }
    }

    /// A typed tool with structured output: `O`'s schema becomes `outputSchema`, and the
    /// value is sent as `structuredContent` plus the same JSON as a text block (for clients
    /// before 2025-06-18). `O` must serialise to a JSON object.
    pub fn structured<A, O, F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        f: F,
    ) -> Tool
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + Send + 'static,
        F: Fn(A, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Error>> + Send + 'static,
    {
        let f = Arc::new(f);
        let mut tool = Tool::new(name, description, move |a: A, ctx: Context| {
            let f = f.clone();
            async move {
                let out = f(a, ctx).await?;
                Ok(CallToolResult::structured(serde_json::to_value(out)?))
            }
        });
        tool.def.output_schema = Some(schema_of::<O>());
        tool
    }

    /// A tool whose schema is only known at run time. Arguments are checked against
    /// `def.input_schema` (JSON Schema 2020-12, no remote `$ref`s) before `f` runs; `f` gets
    /// them as a JSON object.
    pub fn dynamic<F, Fut>(def: model::Tool, f: F) -> Result<Tool, Error>
    where
        F: Fn(Map<String, Value>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, Error>> + Send + 'static,
    {
        let validator = jsonschema::validator_for(&Value::Object(def.input_schema.clone()))
            .map_err(|e| {
                Error::failed(format!("invalid input schema for tool `{}`: {e}", def.name))
            })?;
        let validator = Arc::new(validator);
        let name = def.name.clone();
        let f = Arc::new(f);
        let handler: Arc<ToolFn> = Arc::new(move |args: Option<Box<RawValue>>, ctx: Context| {
            let f = f.clone();
            let validator = validator.clone();
            let name = name.clone();
            Box::pin(async move {
                let value: Value = match parse_arguments(&name, args.as_deref()) {
                    Ok(v) => v,
                    Err(text) => return Ok(CallToolResult::error_text(text)),
                };
                if let Some(err) = validator.iter_errors(&value).next() {
                    let at = err.instance_path().to_string();
                    let at = if at.is_empty() {
                        "arguments".to_owned()
                    } else {
                        format!("`{at}`")
                    };
                    return Ok(CallToolResult::error_text(format!(
                        "invalid arguments for tool `{name}`: {at}: {err}"
                    )));
                }
                match value {
                    Value::Object(map) => f(map, ctx).await,
                    _ => Ok(CallToolResult::error_text(format!(
                        "invalid arguments for tool `{name}`: must be an object"
                    ))),
                }
            }) as BoxFuture<_>
        });
        Ok(Tool {
            def,
            handler,
            task_support: TaskSupport::Forbidden,
            task_after_input: false,
            timeout: None,
            watch: None,
        })
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.def.title = Some(title.into());
        self
    }

    /// Sets the behaviour hints.
    pub fn annotations(mut self, annotations: model::ToolAnnotations) -> Self {
        self.def.annotations = Some(annotations);
        self
    }

    /// Replaces the generated input schema (e.g. to add keywords serde cannot express).
    pub fn input_schema(mut self, schema: Map<String, Value>) -> Self {
        self.def.input_schema = schema;
        self
    }

    /// Whether the tool may run as a task (2025-11-25); default forbidden.
    pub fn task_support(mut self, support: TaskSupport) -> Self {
        self.task_support = support;
        self.def.execution = match support {
            TaskSupport::Forbidden => None,
            s => Some(model::ToolExecution {
                task_support: Some(s.as_str().to_owned()),
            }),
        };
        self
    }

    /// Under the 2026-07-28 tasks extension, creates the task only when the handler calls
    /// [`Context::start_task`]: input it asks for before that is gathered through
    /// `input_required` rounds of the `tools/call` itself, and the call that brings the
    /// last answer returns the task. Without this, a task-supporting tool becomes a task
    /// before its handler runs. (Other revisions ignore it: `start_task` does nothing.)
    pub fn task_after_input(mut self) -> Self {
        self.task_after_input = true;
        self
    }

    /// Ends a call that runs longer than `timeout` with an `isError: true` result naming
    /// the limit (the server's `limits.request_timeout` still applies on top). Timeouts count
    /// as failures for the tool's circuit breaker.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The definition `tools/list` shows.
    pub fn definition(&self) -> &model::Tool {
        &self.def
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }
}
