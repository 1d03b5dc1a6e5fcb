//! The built-in demo server that `oxmcp serve` runs: the tools `echo`, `calculate`, `slow`,
//! the prompt `greet`, and with a root directory, read-only files as resources.

use std::path::PathBuf;
use std::time::Duration;

use oxmcp::model::{CallToolResult, GetPromptResult, PromptMessage};
use oxmcp::server::{Prompt, Server, ServerOptions, TaskSupport, Tool};
use schemars::JsonSchema;
use serde::Deserialize;

/// The longest `slow` may be asked to run.
pub const MAX_SLOW_SECONDS: u64 = 3600;

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    message: String,
}

/// An arithmetic operation.
#[derive(Deserialize, JsonSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Op {
    Add,
    Subtract,
    Multiply,
    Divide,
}

#[derive(Deserialize, JsonSchema)]
struct CalculateArgs {
    /// The left operand.
    a: f64,
    /// The right operand.
    b: f64,
    /// The operation.
    op: Op,
}

#[derive(Deserialize, JsonSchema)]
struct SlowArgs {
    /// How long to work, in seconds (at most 3600). One progress notification per second.
    seconds: u64,
}

/// Formats a number without a needless `.0` (`2+3` is `5`, `1/4` is `0.25`).
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn compute(a: f64, b: f64, op: Op) -> Result<f64, String> {
    let r = match op {
        Op::Add => a + b,
        Op::Subtract => a - b,
        Op::Multiply => a * b,
        Op::Divide if b == 0.0 => return Err("division by zero".into()),
        Op::Divide => a / b,
    };
    if r.is_finite() {
        Ok(r)
    } else {
        Err("the result is not a finite number".into())
    }
}

/// Returns the message it is given, as one text block.
#[oxmcp::tool]
async fn echo(args: EchoArgs) -> Result<CallToolResult, oxmcp::Error> {
    Ok(CallToolResult::text(args.message))
}

/// Computes `a op b` for op one of add, subtract, multiply, divide; returns the number as text.
#[oxmcp::tool]
async fn calculate(args: CalculateArgs) -> Result<CallToolResult, oxmcp::Error> {
    Ok(match compute(args.a, args.b, args.op) {
        Ok(r) => CallToolResult::text(format_number(r)),
        Err(e) => CallToolResult::error_text(e),
    })
}

/// The demo server; `root` adds the files under it as read-only resources.
pub fn server(root: Option<PathBuf>, options: ServerOptions) -> Result<Server, oxmcp::Error> {
    let mut b = Server::builder("oxmcp-demo", env!("CARGO_PKG_VERSION"))
        .title("oxmcp demo server")
        .instructions("A demo MCP server: echo a message, do arithmetic, or run a slow task that reports progress.")
        .options(options)
        .tools([echo_tool(), calculate_tool()])
        .tool(
            Tool::new(
                "slow",
                "Works for `seconds` seconds, reporting progress once a second; can be cancelled or run as a task.",
                |a: SlowArgs, ctx| async move {
                    if a.seconds > MAX_SLOW_SECONDS {
                        return Ok(CallToolResult::error_text(format!(
                            "seconds must be at most {MAX_SLOW_SECONDS}, got {}",
                            a.seconds
                        )));
                    }
                    for i in 1..=a.seconds {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        ctx.progress(i as f64, Some(a.seconds as f64), Some(&format!("{i} of {} seconds", a.seconds))).await?;
                    }
                    Ok(CallToolResult::text(format!("worked for {} seconds", a.seconds)))
                },
            )
            .task_support(TaskSupport::Optional),
        )
        .prompt(
            Prompt::new("greet", "A prompt that asks the model to greet someone.", |args, _ctx| async move {
                let name = args.get("name").cloned().unwrap_or_default();
                Ok(GetPromptResult {
                    messages: vec![PromptMessage::user_text(format!("Please greet {name} warmly."))],
                    ..Default::default()
                })
            })
            .argument("name", "Who to greet", true),
        );
    if let Some(root) = root {
        let files = crate::files::Files::new(&root)
            .map_err(|e| oxmcp::Error::failed(format!("--root {}: {e}", root.display())))?;
        for r in files.resources() {
            b = b.resource(r);
        }
        b = b.resource_template(files.template()?);
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_formatting() {
        assert_eq!(format_number(compute(2.0, 3.0, Op::Add).unwrap()), "5");
        assert_eq!(
            format_number(compute(1.0, 4.0, Op::Divide).unwrap()),
            "0.25"
        );
        assert_eq!(
            format_number(compute(2.0, 5.0, Op::Subtract).unwrap()),
            "-3"
        );
        assert!(compute(1.0, 0.0, Op::Divide).is_err());
        assert!(compute(f64::MAX, 10.0, Op::Multiply).is_err());
    }
}
