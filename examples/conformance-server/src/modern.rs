//! The fixtures the suite's 2026-07-28 scenarios call: diagnostic tools (a missing client
//! capability, logs only with a level, list changes for listen streams), tools and a
//! prompt that need input (answered through `input_required` under 2026-07-28 and through
//! real requests on older sessions: the same handler code), and a tool whose arguments
//! are mirrored into `Mcp-Param-*` headers.

use oxmcp::model::{CallToolResult, LoggingLevel};
use oxmcp::server::{Answer, Input, Prompt, Tool};
use oxmcp::{Context, Error};
use serde_json::{Value, json};

use crate::{NoArgs, text};

fn elicit_params(message: &str, field: &str) -> Result<Input, Error> {
    Ok(Input::Elicit(serde_json::from_value(json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": { field: { "type": "string", "description": message } },
            "required": [field]
        }
    }))?))
}

fn sample_params(question: &str) -> Result<Input, Error> {
    Ok(Input::Sample(serde_json::from_value(json!({
        "messages": [{ "role": "user", "content": { "type": "text", "text": question } }],
        "maxTokens": 100
    }))?))
}

/// Asks one input and returns its answer.
async fn ask(ctx: &Context, key: &str, input: Input) -> Result<Answer, Error> {
    let mut answers = ctx.inputs(vec![(key.to_owned(), input)]).await?;
    answers
        .remove(key)
        .ok_or_else(|| Error::failed(format!("no answer for {key}")))
}

fn describe(a: &Answer) -> String {
    match a {
        Answer::Elicit(e) => {
            let v = serde_json::to_value(e).unwrap_or(Value::Null);
            format!(
                "action={}, content={}",
                v["action"].as_str().unwrap_or("unknown"),
                v.get("content").cloned().unwrap_or(Value::Null)
            )
        }
        Answer::Sample(s) => {
            let v = serde_json::to_value(s).unwrap_or(Value::Null);
            match &v["content"] {
                Value::Array(blocks) => blocks
                    .iter()
                    .filter_map(|b| b["text"].as_str())
                    .collect::<Vec<_>>()
                    .join(""),
                block => block["text"].as_str().unwrap_or_default().to_owned(),
            }
        }
        Answer::Roots(r) => r
            .roots
            .iter()
            .map(|r| r.uri.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

fn no_args<F, Fut>(name: &str, description: &str, f: F) -> Tool
where
    F: Fn(NoArgs, Context) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<CallToolResult, Error>> + Send + 'static,
{
    Tool::new(name, description, f)
}

/// The 2026-07-28 fixture tools.
pub(crate) fn tools() -> Result<Vec<Tool>, Error> {
    let headers_tool = Tool::dynamic(
        serde_json::from_value(json!({
            "name": "test_custom_headers",
            "description": "Echoes arguments that clients mirror into Mcp-Param-* headers.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "region": { "type": "string", "x-mcp-header": "Region" },
                    "priority": { "type": "integer", "x-mcp-header": "Priority" },
                    "verbose": { "type": "boolean", "x-mcp-header": "Verbose" },
                    "note": { "type": "string" }
                },
                "required": ["region"]
            }
        }))?,
        |args, _ctx| async move { text(format!("headers ok: {}", Value::Object(args))) },
    )?;
    Ok(vec![
        headers_tool,
        no_args(
            "test_missing_capability",
            "Needs the client's sampling capability.",
            |_, ctx| async move {
                let a = ask(&ctx, "probe", sample_params("Say hello.")?).await?;
                text(format!("sampled: {}", describe(&a)))
            },
        ),
        no_args(
            "test_streaming_elicitation",
            "Asks the user to confirm.",
            |_, ctx| async move {
                let a = ask(
                    &ctx,
                    "confirm",
                    elicit_params("Please confirm", "confirmation")?,
                )
                .await?;
                text(format!("confirmed: {}", describe(&a)))
            },
        ),
        no_args(
            "test_logging_tool",
            "Logs three messages (only to requests that set a log level).",
            |_, ctx| async move {
                for msg in [
                    "logging tool started",
                    "logging tool working",
                    "logging tool finished",
                ] {
                    ctx.log(LoggingLevel::Info, msg).await;
                }
                text("logged")
            },
        ),
        no_args(
            "test_trigger_tool_change",
            "Adds or removes the tool test_dynamic_tool.",
            |_, ctx| async move {
                let server = ctx.server();
                if !server.remove_tool("test_dynamic_tool") {
                    server.add_tool(no_args(
                        "test_dynamic_tool",
                        "Comes and goes.",
                        |_, _| async { text("dynamic") },
                    ));
                }
                text("tool list changed")
            },
        ),
        no_args(
            "test_trigger_prompt_change",
            "Adds or removes the prompt test_dynamic_prompt.",
            |_, ctx| async move {
                let server = ctx.server();
                if !server.remove_prompt("test_dynamic_prompt") {
                    server.add_prompt(Prompt::new("test_dynamic_prompt", "Comes and goes.", |_, _| async {
                    Ok(serde_json::from_value(json!({ "messages": [{ "role": "user", "content": { "type": "text", "text": "dynamic" } }] }))?)
                }));
                }
                text("prompt list changed")
            },
        ),
        no_args(
            "test_input_required_result_elicitation",
            "Asks the user's name.",
            |_, ctx| async move {
                let a = ask(
                    &ctx,
                    "user_name",
                    elicit_params("What is your name?", "name")?,
                )
                .await?;
                text(format!("Hello! Elicitation answered: {}", describe(&a)))
            },
        ),
        no_args(
            "test_input_required_result_sampling",
            "Asks the client's model a question.",
            |_, ctx| async move {
                let a = ask(
                    &ctx,
                    "capital_question",
                    sample_params("What is the capital of France?")?,
                )
                .await?;
                text(format!("Sampling answered: {}", describe(&a)))
            },
        ),
        no_args(
            "test_input_required_result_list_roots",
            "Asks the client's roots.",
            |_, ctx| async move {
                let a = ask(&ctx, "client_roots", Input::Roots).await?;
                text(format!("Roots: {}", describe(&a)))
            },
        ),
        no_args(
            "test_input_required_result_request_state",
            "Confirms, carrying state between rounds.",
            |_, ctx| async move {
                if ctx.state::<String>("started").is_none() {
                    ctx.set_state("started", &"round-1")?;
                }
                let a = ask(
                    &ctx,
                    "confirm",
                    elicit_params("Confirm to continue", "confirmation")?,
                )
                .await?;
                let ok = ctx.state::<String>("started").as_deref() == Some("round-1");
                text(format!(
                    "{}: {}",
                    if ok { "state-ok" } else { "state-missing" },
                    describe(&a)
                ))
            },
        ),
        no_args(
            "test_input_required_result_multiple_inputs",
            "Asks three inputs at once.",
            |_, ctx| async move {
                ctx.set_state("asked", &"three")?;
                let answers = ctx
                    .inputs(vec![
                        (
                            "user_name".into(),
                            elicit_params("What is your name?", "name")?,
                        ),
                        ("greeting".into(), sample_params("Write a greeting.")?),
                        ("client_roots".into(), Input::Roots),
                    ])
                    .await?;
                let mut keys: Vec<_> = answers
                    .iter()
                    .map(|(k, a)| format!("{k}={}", describe(a)))
                    .collect();
                keys.sort();
                text(format!("All inputs received: {}", keys.join("; ")))
            },
        ),
        no_args(
            "test_input_required_result_multi_round",
            "Asks step1, then step2.",
            |_, ctx| async move {
                let a = ask(&ctx, "step1", elicit_params("Step 1: your name?", "name")?).await?;
                ctx.set_state("step1", &describe(&a))?;
                let b = ask(
                    &ctx,
                    "step2",
                    elicit_params("Step 2: your color?", "color")?,
                )
                .await?;
                text(format!(
                    "Both rounds complete: step1 {}; step2 {}",
                    describe(&a),
                    describe(&b)
                ))
            },
        ),
        no_args(
            "test_input_required_result_tampered_state",
            "Carries signed state; a forged one is refused.",
            |_, ctx| async move {
                ctx.set_state("nonce", &"signed")?;
                let a = ask(&ctx, "confirm", elicit_params("Confirm", "confirmation")?).await?;
                text(format!("state verified: {}", describe(&a)))
            },
        ),
        no_args(
            "test_input_required_result_capabilities",
            "Asks only for what the request declared.",
            |_, ctx| async move {
                let caps = ctx.client_capabilities();
                let mut wanted = Vec::new();
                if caps.elicitation.is_some() {
                    wanted.push((
                        "user_name".to_owned(),
                        elicit_params("What is your name?", "name")?,
                    ));
                }
                if caps.sampling.is_some() {
                    wanted.push(("greeting".to_owned(), sample_params("Write a greeting.")?));
                }
                if caps.roots.is_some() {
                    wanted.push(("client_roots".to_owned(), Input::Roots));
                }
                let answers = ctx.inputs(wanted).await?;
                text(format!("Inputs received: {}", answers.len()))
            },
        ),
    ])
}

/// The 2026-07-28 fixture prompts.
pub(crate) fn prompts() -> Vec<Prompt> {
    vec![Prompt::new(
        "test_input_required_result_prompt",
        "Asks the user for context, then builds the prompt.",
        |_, ctx| async move {
            let a = ask(
                &ctx,
                "user_context",
                elicit_params("What context should the prompt use?", "context")?,
            )
            .await?;
            Ok(serde_json::from_value(
                json!({ "messages": [{ "role": "user", "content": { "type": "text", "text": format!("Prompt with user context: {}", describe(&a)) } }] }),
            )?)
        },
    )]
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ComputeArgs {
    /// How long to compute, in seconds (0: at once; at most 3600).
    seconds: u64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DeleteArgs {
    /// The file to delete (nothing is deleted: a fixture).
    filename: String,
}

fn confirm_params(message: &str) -> Result<Input, Error> {
    Ok(Input::Elicit(serde_json::from_value(json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": { "confirm": { "type": "boolean", "description": message } },
            "required": ["confirm"]
        }
    }))?))
}

fn confirmed(a: &Answer) -> bool {
    matches!(a, Answer::Elicit(e) if e.content.as_ref().and_then(|c| c.get("confirm")).and_then(Value::as_bool) == Some(true))
}

/// The fixtures of the 2026-07-28 tasks extension's scenarios (each also works on a
/// legacy session, where task-supporting tools may run as 2025-11-25 tasks).
pub(crate) fn task_tools() -> Vec<Tool> {
    use oxmcp::server::TaskSupport;
    use std::time::Duration;
    vec![
        Tool::new(
            "greet",
            "Greets `name` (sync only).",
            |a: GreetArgs, _| async move { text(format!("Hello, {}!", a.name)) },
        ),
        Tool::new(
            "slow_compute",
            "Computes for `seconds` seconds (a task when the client takes tasks).",
            |a: ComputeArgs, _| async move {
                if a.seconds > 3600 {
                    return Ok(CallToolResult::error_text(format!(
                        "seconds must be at most 3600, got {}",
                        a.seconds
                    )));
                }
                tokio::time::sleep(Duration::from_secs(a.seconds)).await;
                text(format!("computed for {} seconds", a.seconds))
            },
        )
        .task_support(TaskSupport::Optional),
        no_args(
            "failing_job",
            "Fails (a tool error) after about a second; runs only as a task.",
            |_, _| async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(CallToolResult::error_text(
                    "failing_job failed, as it always does",
                ))
            },
        )
        .task_support(TaskSupport::Required),
        no_args(
            "protocol_error_job",
            "Ends with a protocol error (not a tool error).",
            |_, _| async move {
                Err(Error::Rpc(oxmcp::ErrorObject::internal(
                    "protocol_error_job hit an internal error, as it always does",
                )))
            },
        )
        .task_support(TaskSupport::Optional),
        Tool::new(
            "confirm_delete",
            "Asks the user to confirm, then pretends to delete `filename`.",
            |a: DeleteArgs, ctx| async move {
                let answer = ask(
                    &ctx,
                    "confirm",
                    confirm_params(&format!("Delete {}?", a.filename))?,
                )
                .await?;
                if confirmed(&answer) {
                    text(format!("Deleted {}", a.filename))
                } else {
                    text(format!("Kept {}", a.filename))
                }
            },
        )
        .task_support(TaskSupport::Optional),
        no_args(
            "multi_input",
            "Asks two questions at once.",
            |_, ctx| async move {
                let answers = ctx
                    .inputs(vec![
                        ("first".into(), elicit_params("First answer?", "answer")?),
                        ("second".into(), elicit_params("Second answer?", "answer")?),
                    ])
                    .await?;
                let mut parts: Vec<_> = answers
                    .iter()
                    .map(|(k, a)| format!("{k}: {}", describe(a)))
                    .collect();
                parts.sort();
                text(format!("Both answers received ({})", parts.join("; ")))
            },
        )
        .task_support(TaskSupport::Optional),
        no_args(
            "test_tool_with_task",
            "Asks the user's name, then works on as a task.",
            |_, ctx| async move {
                let answer = ask(
                    &ctx,
                    "user_name",
                    elicit_params("What is your name?", "name")?,
                )
                .await?;
                ctx.start_task().await?;
                let name = match &answer {
                    Answer::Elicit(e) => e
                        .content
                        .as_ref()
                        .and_then(|c| c.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("nobody")
                        .to_owned(),
                    other => describe(other),
                };
                text(format!("Task finished for {name}"))
            },
        )
        .task_support(TaskSupport::Required)
        .task_after_input(),
    ]
}
