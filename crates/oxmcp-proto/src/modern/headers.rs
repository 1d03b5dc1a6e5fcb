//! The routing headers of 2026-07-28 over Streamable HTTP: `Mcp-Method`, `Mcp-Name` and
//! `Mcp-Param-*`, written by clients and checked by servers against the body.
//!
//! - `Mcp-Method` is the JSON-RPC method;
//! - `Mcp-Name` is the tool or prompt name of `tools/call` / `prompts/get`, the URI of
//!   `resources/read`, or the task id of `tasks/get`, `tasks/update`, `tasks/cancel`;
//! - `Mcp-Param-{H}` mirrors the argument whose property schema carries
//!   `"x-mcp-header": "{H}"`, when the argument is present and not null.
//!
//! `Mcp-Method` is required on every request, `Mcp-Name` on the methods that name a target.
//! A value is sent as is when it is visible ASCII without leading or trailing spaces;
//! otherwise as `=?base64?{standard base64 of the UTF-8 bytes}?=`. Integers are written in
//! decimal, booleans as `true`/`false`. A server trims the header value (as HTTP does),
//! undoes the wrapper and compares the text with the body's value exactly (the wrapper is
//! what keeps spaces at the ends); any disagreement is -32020.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::ErrorObject;

/// `Mcp-Method`.
pub const METHOD: &str = "mcp-method";
/// `Mcp-Name`.
pub const NAME: &str = "mcp-name";
/// The prefix of the argument headers.
pub const PARAM_PREFIX: &str = "mcp-param-";
/// The schema keyword that marks an argument for mirroring.
pub const X_MCP_HEADER: &str = "x-mcp-header";

/// Whether `s` can go into a header as is: visible ASCII (and inner spaces), no spaces at
/// either end, not itself looking like the base64 wrapper.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && (!s.starts_with("=?") || !s.ends_with("?="))
}

/// A header value for `text`: itself, or the base64 wrapper.
pub fn encode(text: &str) -> String {
    if plain(text) {
        text.to_owned()
    } else {
        format!("=?base64?{}?=", STANDARD.encode(text.as_bytes()))
    }
}

/// The text a header value stands for: the wrapper undone (if it is one), whitespace
/// trimmed. `None` when the wrapper holds no valid base64 of UTF-8.
pub fn decode(value: &str) -> Option<String> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("=?base64?") && v.ends_with("?=") && v.len() >= 11 {
        let inner = &v[9..v.len() - 2];
        let bytes = STANDARD.decode(inner.trim()).ok()?;
        return String::from_utf8(bytes).ok();
    }
    Some(v.to_owned())
}

/// The header text of an argument value: strings as they are, integers in decimal,
/// booleans lowercase, other numbers in JSON form. `None` for null, arrays and objects,
/// which are not mirrored.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The arguments a tool's input schema marks with `x-mcp-header`: (argument, header
/// suffix), in the schema's order.
pub fn marked_arguments(schema: &Map<String, Value>) -> Vec<(String, String)> {
    let Some(Value::Object(props)) = schema.get("properties") else {
        return Vec::new();
    };
    props
        .iter()
        .filter_map(|(arg, s)| {
            let h = s.get(X_MCP_HEADER)?.as_str()?;
            Some((arg.clone(), h.to_owned()))
        })
        .collect()
}

/// Whether `c` may appear in an HTTP field name (RFC 9110 `tchar`).
fn tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Checks a tool's `x-mcp-header` markings and returns its mirrored arguments: each
/// marking must be a non-empty header-name token, unique within the tool (ignoring case),
/// on a top-level property of type string, integer or boolean (not number: its text form
/// is not unique). A client drops a tool that fails (its calls would carry headers no
/// server accepts).
pub fn validate_markings(schema: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let Some(Value::Object(props)) = schema.get("properties") else {
        return Ok(Vec::new());
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (arg, prop) in props {
        let Some(mark) = prop.get(X_MCP_HEADER) else {
            continue;
        };
        let Some(h) = mark.as_str() else {
            return Err(format!("{arg}: x-mcp-header must be a string, not {mark}"));
        };
        if h.is_empty() || !h.bytes().all(tchar) {
            return Err(format!(
                "{arg}: x-mcp-header {h:?} is not a valid header name"
            ));
        }
        if !seen.insert(h.to_ascii_lowercase()) {
            return Err(format!("{arg}: x-mcp-header {h:?} is used twice"));
        }
        let primitive = |t: &Value| matches!(t.as_str(), Some("string" | "integer" | "boolean"));
        let ok = match prop.get("type") {
            Some(t @ Value::String(_)) => primitive(t),
            Some(Value::Array(ts)) => !ts.is_empty() && ts.iter().all(primitive),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{arg}: x-mcp-header {h:?} marks a property that is not a string, integer or boolean"
            ));
        }
        out.push((arg.clone(), h.to_owned()));
    }
    Ok(out)
}

/// What the 2026-07-28 ladder reads of a request's params, in one pass: `_meta` and the
/// fields `Mcp-Name` may stand for (kept raw until the method says which one counts; the
/// arguments are skipped, not built).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target<'a> {
    #[serde(rename = "_meta", default)]
    meta: Option<Value>,
    #[serde(borrow, default)]
    task_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    uri: Option<&'a RawValue>,
}

/// A request's `params._meta` (when an object) and the value `Mcp-Name` stands for in a
/// request of `method` (see [`name_of`]), read in one pass over the params.
pub fn envelope_of(
    method: &str,
    params: Option<&RawValue>,
) -> (Option<Map<String, Value>>, Option<String>) {
    let Some(t) = params.and_then(|p| serde_json::from_str::<Target>(p.get()).ok()) else {
        return (None, None);
    };
    let name = match method {
        "tools/call" | "prompts/get" => t.name,
        "resources/read" => t.uri,
        // The tasks extension (SEP-2663) names the task.
        "tasks/get" | "tasks/update" | "tasks/cancel" => t.task_id,
        _ => None,
    };
    let meta = match t.meta {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    // Only a string names anything.
    let name = name.and_then(|raw| serde_json::from_str::<String>(raw.get()).ok());
    (meta, name)
}

/// The value `Mcp-Name` stands for in a request of `method`, if the method has one.
pub fn name_of(method: &str, params: Option<&RawValue>) -> Option<String> {
    envelope_of(method, params).1
}

/// Checks a request's routing headers against its body (`header` looks a header up by
/// its lower-case name). `schema`: the called tool's input schema, for `Mcp-Param-*`.
pub fn check(
    method: &str,
    params: Option<&RawValue>,
    schema: Option<&Map<String, Value>>,
    header: impl Fn(&str) -> Option<String>,
) -> Result<(), ErrorObject> {
    check_named(method, name_of(method, params), params, schema, header)
}

/// [`check`] with the request's [`name_of`] already read (a caller that needed it to find
/// the tool's schema need not parse the params for it again).
pub fn check_named(
    method: &str,
    name: Option<String>,
    params: Option<&RawValue>,
    schema: Option<&Map<String, Value>>,
    header: impl Fn(&str) -> Option<String>,
) -> Result<(), ErrorObject> {
    let mismatch = |what: String| Err(ErrorObject::header_mismatch(what));
    let Some(h) = header(METHOD) else {
        return mismatch(format!(
            "the Mcp-Method header is required on every 2026-07-28 request over HTTP (here: {method})"
        ));
    };
    match decode(&h) {
        Some(m) if m == method => {}
        _ => {
            return mismatch(format!(
                "the Mcp-Method header ({h:?}) differs from the body's method ({method:?})"
            ));
        }
    }
    if let Some(expected) = name {
        let Some(h) = header(NAME) else {
            return mismatch(format!(
                "the Mcp-Name header is required on {method} (it must name {expected:?})"
            ));
        };
        match decode(&h) {
            Some(n) if n == expected => {}
            Some(_) => {
                return mismatch(format!(
                    "the Mcp-Name header ({h:?}) differs from the body's name ({expected:?})"
                ));
            }
            None => {
                return mismatch(format!(
                    "the Mcp-Name header ({h:?}) is not valid base64 of UTF-8 text"
                ));
            }
        }
    }
    let Some(schema) = schema else { return Ok(()) };
    let marked = marked_arguments(schema);
    if marked.is_empty() {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct Arguments {
        #[serde(default)]
        arguments: Option<Value>,
    }
    let args = params
        .and_then(|p| serde_json::from_str::<Arguments>(p.get()).ok())
        .and_then(|t| t.arguments);
    for (arg, suffix) in marked {
        let name = format!("{PARAM_PREFIX}{}", suffix.to_ascii_lowercase());
        let value = args.as_ref().and_then(|a| a.get(&arg)).and_then(value_text);
        match (value, header(&name)) {
            (None, None) => {}
            (Some(_), None) => {
                return mismatch(format!(
                    "the argument {arg:?} is mirrored in the Mcp-Param-{suffix} header, which is missing"
                ));
            }
            (None, Some(h)) => {
                return mismatch(format!(
                    "the Mcp-Param-{suffix} header ({h:?}) is set but the argument {arg:?} is absent"
                ));
            }
            (Some(v), Some(h)) => match decode(&h) {
                Some(d) if d == v => {}
                Some(_) => {
                    return mismatch(format!(
                        "the Mcp-Param-{suffix} header ({h:?}) differs from the argument {arg:?} ({v:?})"
                    ));
                }
                None => {
                    return mismatch(format!(
                        "the Mcp-Param-{suffix} header ({h:?}) is not valid base64 of UTF-8 text"
                    ));
                }
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_pass_as_is_and_the_rest_is_wrapped() {
        assert_eq!(encode("us-west-1"), "us-west-1");
        assert_eq!(encode(" padded"), "=?base64?IHBhZGRlZA==?=");
        assert_eq!(encode("日本"), "=?base64?5pel5pys?=");
        assert_eq!(decode("=?base64?5pel5pys?=").as_deref(), Some("日本"));
        assert_eq!(decode("  spaced  ").as_deref(), Some("spaced"));
        assert_eq!(decode("=?base64?***?="), None);
        for s in ["a b", "x\ny", "=?base64?x?=", "", " padded ", "\tx"] {
            assert_eq!(decode(&encode(s)).as_deref(), Some(s));
        }
    }

    #[test]
    fn values_with_spaces_at_the_ends_pass_the_check_as_a_client_writes_them() {
        // Found by the fuzz target `era` (fuzz/regressions/era/): the body's value was
        // trimmed before the comparison, so a wrapped " x" never matched.
        let params =
            RawValue::from_string(r#"{"name":" echo ","arguments":{"region":" eu "}}"#.to_owned())
                .unwrap();
        let schema: Map<String, Value> = serde_json::from_str(
            r#"{"properties":{"region":{"type":"string","x-mcp-header":"Region"}}}"#,
        )
        .unwrap();
        let written = |name: &str, region: &str| {
            let (name, region) = (encode(name), encode(region));
            move |h: &str| match h {
                METHOD => Some("tools/call".to_owned()),
                NAME => Some(name.clone()),
                "mcp-param-region" => Some(region.clone()),
                _ => None,
            }
        };
        let check_with = |name, region| {
            check(
                "tools/call",
                Some(&params),
                Some(&schema),
                written(name, region),
            )
        };
        assert_eq!(check_with(" echo ", " eu "), Ok(()));
        assert!(
            check_with("echo", " eu ").is_err(),
            "a trimmed name is another name"
        );
        assert!(
            check_with(" echo ", "eu").is_err(),
            "a trimmed value is another value"
        );
    }
}
