//! `oxmcp call`: call one method of an MCP server and print the result as JSON.
//!
//! ```text
//! oxmcp call --stdio 'oxmcp serve --stdio' tools/list
//! oxmcp call --stdio 'oxmcp serve --stdio' tool calculate --arg a=2 --arg b=3 --arg op=add
//! oxmcp call --stdio 'oxmcp serve --stdio' tool echo --json '{"message":"hi"}'
//! oxmcp call --stdio 'CMD' resource URI
//! oxmcp call --stdio 'CMD' prompt NAME --arg k=v
//! oxmcp call --url http://127.0.0.1:8080/mcp tools/list
//! oxmcp call --era legacy --url http://127.0.0.1:8080/mcp ping
//! ```
//!
//! The client speaks 2026-07-28 when the server does and falls back to `initialize`
//! otherwise (`--era` pins one).
//!
//! `--arg k=v` values follow the tool's input schema: a property typed `string` takes the
//! text as is; any other reads it as JSON (`2`, `true`, `[1,2]`) and falls back to the text.
//! Progress goes to stderr (a bar on a terminal, lines otherwise). The exit status is 0 for
//! a result, 1 for an error result (`isError: true`) or a JSON-RPC error, 2 for bad usage.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use oxmcp::client::{CallOptions, Client, ClientError, Era, HttpClientTransport, StdioCommand};
use serde_json::{Map, Value, json};

/// `oxmcp call` arguments.
#[derive(Args, Debug)]
pub struct CallArgs {
    /// The server to spawn, as a command line (e.g. 'oxmcp serve --stdio').
    #[arg(
        long,
        value_name = "COMMAND",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    pub stdio: Option<String>,
    /// The Streamable HTTP endpoint of a running server (e.g. http://127.0.0.1:8080/mcp).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A header for every HTTP request, `Name: value` (repeatable; e.g. authorization).
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "url")]
    pub headers: Vec<String>,
    /// Which protocol era to speak: `auto` (2026-07-28 when the server speaks it, else
    /// `initialize`), `modern` (2026-07-28 only) or `legacy` (`initialize` only).
    #[arg(long, value_name = "ERA", default_value = "auto", value_parser = ["auto", "modern", "legacy"])]
    pub era: String,
    /// How long to wait for the answer, in seconds (each progress notification restarts it).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// What to call.
    #[command(subcommand)]
    pub what: What,
}

/// What `oxmcp call` calls.
#[derive(Subcommand, Debug)]
pub enum What {
    /// List the tools (every page).
    #[command(name = "tools/list")]
    ToolsList,
    /// List the resources (every page).
    #[command(name = "resources/list")]
    ResourcesList,
    /// List the resource templates (every page).
    #[command(name = "resources/templates/list")]
    TemplatesList,
    /// List the prompts (every page).
    #[command(name = "prompts/list")]
    PromptsList,
    /// Ping the server.
    Ping,
    /// Call a tool.
    Tool {
        /// The tool's name.
        name: String,
        /// An argument, `key=value` (repeatable).
        #[arg(long = "arg", value_name = "KEY=VALUE")]
        args: Vec<String>,
        /// All arguments as one JSON object (merged under `--arg`s).
        #[arg(long, value_name = "OBJECT")]
        json: Option<String>,
    },
    /// Read a resource.
    Resource {
        /// The resource's URI.
        uri: String,
    },
    /// Get a prompt.
    Prompt {
        /// The prompt's name.
        name: String,
        /// An argument, `key=value` (repeatable).
        #[arg(long = "arg", value_name = "KEY=VALUE")]
        args: Vec<String>,
    },
}

fn split_arg(arg: &str) -> anyhow::Result<(&str, &str)> {
    arg.split_once('=')
        .with_context(|| format!("--arg {arg:?}: expected KEY=VALUE"))
}

/// The JSON value of `--arg key=text` for a property whose schema is `schema`.
pub fn arg_value(schema: Option<&Value>, text: &str) -> Value {
    let is_string = schema
        .and_then(|s| s.get("type"))
        .is_some_and(|t| t == "string");
    if is_string {
        return Value::String(text.to_owned());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn progress_printer() -> oxmcp::client::ProgressFn {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Arc::new(move |p| {
            if let Some(total) = p.total {
                bar.set_length(total as u64);
            }
            bar.set_position(p.progress as u64);
            if let Some(m) = p.message {
                bar.set_message(m);
            }
        })
    } else {
        Arc::new(|p| {
            let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
            let msg = p.message.map(|m| format!(": {m}")).unwrap_or_default();
            eprintln!("progress {}{total}{msg}", p.progress);
        })
    }
}

/// Runs `oxmcp call`; returns the process exit code.
pub async fn run(args: CallArgs) -> anyhow::Result<i32> {
    let era = match args.era.as_str() {
        "modern" => Era::Modern,
        "legacy" => Era::Legacy,
        _ => Era::Auto,
    };
    let builder = Client::builder("oxmcp-call", env!("CARGO_PKG_VERSION"))
        .era(era)
        .request_timeout(Duration::from_secs(args.timeout));
    let client = match (&args.stdio, &args.url) {
        (Some(line), _) => {
            let command = StdioCommand::parse(line).map_err(|e| anyhow::anyhow!("--stdio: {e}"))?;
            builder
                .connect_stdio(command)
                .await
                .map_err(|e| anyhow::anyhow!("connecting to {line:?}: {e}"))?
        }
        (None, Some(url)) => {
            let mut transport = HttpClientTransport::new(url.clone());
            for h in &args.headers {
                let (name, value) = h
                    .split_once(':')
                    .with_context(|| format!("--header {h:?}: expected `Name: value`"))?;
                transport = transport.header(name.trim(), value.trim());
            }
            builder
                .connect_http(transport)
                .await
                .map_err(|e| anyhow::anyhow!("connecting to {url}: {e}"))?
        }
        (None, None) => bail!("pass --stdio COMMAND or --url URL"),
    };
    let mut opts = CallOptions::default().reset_timeout_on_progress(None);
    opts.on_progress = Some(progress_printer());
    let outcome: Result<Value, ClientError> = match args.what {
        What::ToolsList => client.list_all_tools().await.map(|t| json!({ "tools": t })),
        What::ResourcesList => client
            .list_all_resources()
            .await
            .map(|r| json!({ "resources": r })),
        What::TemplatesList => client
            .list_all_resource_templates()
            .await
            .map(|r| json!({ "resourceTemplates": r })),
        What::PromptsList => client
            .list_all_prompts()
            .await
            .map(|p| json!({ "prompts": p })),
        What::Ping => client.ping().await.map(|()| json!({})),
        What::Resource { uri } => client.read_resource(&uri).await.and_then(to_json),
        What::Prompt { name, args } => {
            let mut map = HashMap::new();
            for a in &args {
                let (k, v) = split_arg(a)?;
                map.insert(k.to_owned(), v.to_owned());
            }
            client.get_prompt(&name, map).await.and_then(to_json)
        }
        What::Tool { name, args, json } => {
            let mut arguments = match json {
                Some(text) => match serde_json::from_str::<Value>(&text).context("--json")? {
                    Value::Object(map) => map,
                    other => bail!("--json must be a JSON object, got {other}"),
                },
                None => Map::new(),
            };
            if !args.is_empty() {
                let tools = client
                    .list_all_tools()
                    .await
                    .map_err(|e| anyhow::anyhow!("tools/list: {e}"))?;
                let schema = tools
                    .iter()
                    .find(|t| t.name == name)
                    .map(|t| t.input_schema.clone())
                    .unwrap_or_default();
                for a in &args {
                    let (k, v) = split_arg(a)?;
                    let prop = schema.get("properties").and_then(|p| p.get(k));
                    arguments.insert(k.to_owned(), arg_value(prop, v));
                }
            }
            client
                .call_tool_with(&name, Value::Object(arguments), opts)
                .await
                .and_then(to_json)
        }
    };
    // Ends the session (an HTTP DELETE; over stdio the server is stopped).
    client.close().await;
    match outcome {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(if value.get("isError") == Some(&Value::Bool(true)) {
                1
            } else {
                0
            })
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(rpc) = e.rpc() {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({ "error": rpc }))?
                );
            }
            Ok(1)
        }
    }
}

fn to_json<T: serde::Serialize>(v: T) -> Result<Value, ClientError> {
    serde_json::to_value(v).map_err(|e| ClientError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arg_values_follow_the_schema() {
        let string = json!({ "type": "string" });
        let number = json!({ "type": "number" });
        assert_eq!(arg_value(Some(&string), "123"), json!("123"));
        assert_eq!(arg_value(Some(&number), "123"), json!(123));
        assert_eq!(arg_value(None, "true"), json!(true));
        assert_eq!(arg_value(None, "hello world"), json!("hello world"));
    }
}
