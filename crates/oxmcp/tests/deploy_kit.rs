//! The operator's kit in deploy/: the Prometheus rules pass `promtool check rules` and their
//! unit tests (`promtool test rules`), every alert is tested firing and quiet, is labelled
//! and annotated, and has its runbook entry in docs/OPERATIONS.md; the Grafana dashboard
//! has its variables and its queries parse; and every metric name, and every `reason`,
//! `outcome`, `method` and `le` value, that the rules and the dashboard use is in a real
//! scrape of a server that handled calls.
//!
//! promtool comes from scripts/setup-promtool.sh (scripts/test.sh runs it); without it the
//! tests that need it fail, saying so. `PROMTOOL` may name another binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::scrape;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

const RULES: &str = "deploy/prometheus/alerts.yml";
const RULE_TESTS: &str = "deploy/prometheus/alerts.test.yml";
const DASHBOARD: &str = "deploy/grafana/oxmcp-dashboard.json";
const OPERATIONS: &str = "docs/OPERATIONS.md";

/// The repository's root (this crate is crates/oxmcp).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs promtool in the repository's root; fails the test if it is not installed.
fn promtool(args: &[&str]) -> Output {
    let bin = std::env::var_os("PROMTOOL").unwrap_or_else(|| "promtool".into());
    match Command::new(&bin).args(args).current_dir(root()).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "promtool ({}) is not on PATH: run scripts/setup-promtool.sh (as root on Debian or \
             Ubuntu it installs the `prometheus` package), or put the promtool of a Prometheus \
             release on PATH, or name it in PROMTOOL",
            bin.to_string_lossy()
        ),
        Err(e) => panic!("running promtool {args:?}: {e}"),
    }
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// The files, as data.

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    alert: Option<String>,
    record: Option<String>,
    expr: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct TestFile {
    rule_files: Vec<String>,
    tests: Vec<TestCase>,
}

#[derive(Deserialize)]
struct TestCase {
    name: String,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
}

#[derive(Deserialize)]
struct AlertTest {
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<serde_yaml_ng::Value>,
}

fn rules() -> Vec<Rule> {
    let file: RuleFile = serde_yaml_ng::from_str(&read(RULES)).expect("alerts.yml parses");
    assert!(!file.groups.is_empty(), "alerts.yml has groups");
    file.groups
        .into_iter()
        .inspect(|g| assert!(!g.rules.is_empty(), "group {} is empty", g.name))
        .flat_map(|g| g.rules)
        .collect()
}

fn alerts() -> Vec<Rule> {
    let alerts: Vec<Rule> = rules().into_iter().filter(|r| r.alert.is_some()).collect();
    assert!(
        alerts.len() >= 8,
        "alerts.yml was read: {} alerts",
        alerts.len()
    );
    alerts
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).expect("the dashboard is JSON")
}

/// Every panel, rows' nested panels included.
fn panels(dash: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            if let Some(inner) = p.get("panels") {
                walk(inner, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dash["panels"], &mut out);
    out
}

/// Every PromQL expression of the dashboard: panel targets and variable queries.
fn dashboard_exprs(dash: &Value) -> Vec<String> {
    let mut exprs: Vec<String> = panels(dash)
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .map(|t| {
            t["expr"]
                .as_str()
                .expect("every target has an expr")
                .to_owned()
        })
        .collect();
    for var in dash["templating"]["list"].as_array().unwrap() {
        if var["type"] == "query" {
            let q = &var["query"];
            let q = q.get("query").unwrap_or(q);
            exprs.push(q.as_str().expect("a query variable has a query").to_owned());
        }
    }
    exprs
}

// ---------------------------------------------------------------------------------------
// Reading names out of PromQL.

/// The expression with its string literals blanked: label values and regexes are no names.
fn without_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                out.push(' ');
            }
            None if matches!(c, '"' | '\'' | '`') => {
                quote = Some(c);
                out.push(' ');
            }
            None => out.push(c),
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The oxmcp and process metric names an expression reads (recording rules, `oxmcp:…`,
/// are not metrics and are left out).
fn metric_names(expr: &str) -> BTreeSet<String> {
    without_strings(expr)
        .split(|c: char| !is_ident(c))
        .filter(|t| t.starts_with("oxmcp_") || t.starts_with("process_"))
        .map(str::to_owned)
        .collect()
}

/// The values an expression matches `label` against (`=`, `!=`, and each alternative of a
/// plain `=~` / `!~` regex); regexes with other metacharacters and `$variables` are skipped.
fn label_values(expr: &str, label: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in expr.match_indices(label) {
        let before = expr[..at].chars().next_back();
        let rest = &expr[at + label.len()..];
        if before.is_some_and(is_ident) || rest.chars().next().is_some_and(is_ident) {
            continue;
        }
        let rest = rest.trim_start();
        let Some((op, rest)) = ["=~", "!~", "!=", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|r| (*op, r)))
        else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let value = &rest[..rest.find('"').expect("a closed string")];
        let alternatives: Vec<&str> = if op.contains('~') {
            value.split('|').collect()
        } else {
            vec![value]
        };
        for v in alternatives {
            let regex =
                op.contains('~') && v.contains(['.', '*', '+', '?', '[', '(', '{', '^', '\\']);
            if v.is_empty() || v.contains('$') || regex {
                continue;
            }
            out.insert(v.to_owned());
        }
    }
    out
}

#[test]
fn reading_names_out_of_promql() {
    let e = r#"sum by (le) (rate(oxmcp_request_duration_seconds_bucket{job=~"$job", le="2.5", method!~"a/b|c"}[5m])) / on (job) oxmcp:x:rate5m and process_threads{x="oxmcp_not_a_name"}"#;
    assert_eq!(
        metric_names(e),
        BTreeSet::from([
            "oxmcp_request_duration_seconds_bucket".to_owned(),
            "process_threads".to_owned()
        ])
    );
    assert_eq!(label_values(e, "le"), BTreeSet::from(["2.5".to_owned()]));
    assert!(label_values(r#"x{le=~"1.*"}"#, "le").is_empty());
    assert_eq!(
        label_values(e, "method"),
        BTreeSet::from(["a/b".to_owned(), "c".to_owned()])
    );
    assert!(label_values(e, "job").is_empty());
}

// ---------------------------------------------------------------------------------------
// promtool.

#[test]
fn promtool_checks_the_rules_and_passes_their_unit_tests() {
    let version = promtool(&["--version"]);
    assert_success("promtool --version", &version);
    let check = promtool(&["check", "rules", RULES]);
    assert_success("promtool check rules", &check);
    let test = promtool(&["test", "rules", RULE_TESTS]);
    assert_success("promtool test rules", &test);
    let said = String::from_utf8_lossy(&test.stdout);
    assert!(said.contains("SUCCESS"), "{said}");
}

#[test]
fn the_dashboard_queries_parse() {
    // promtool parses PromQL when it checks rules: one recording rule per query, with the
    // dashboard's variables given values.
    let dash = dashboard();
    let rules: Vec<Value> = dashboard_exprs(&dash)
        .iter()
        .enumerate()
        .map(|(i, e)| {
            // A variable's `label_values(selector, label)` is Grafana's: check its selector.
            let e = e
                .strip_prefix("label_values(")
                .and_then(|inner| inner.strip_suffix(')'))
                .and_then(|inner| inner.rsplit_once(','))
                .map_or(e.as_str(), |(selector, _)| selector);
            let e = e
                .replace("$__rate_interval", "5m")
                .replace("$job", ".*")
                .replace("$instance", ".*")
                .replace("$tool", ".*");
            assert!(!e.contains('$'), "a variable left in {e}");
            json!({"record": format!("dashboard:query{i}"), "expr": e})
        })
        .collect();
    let file = json!({"groups": [{"name": "dashboard", "rules": rules}]});
    let path = std::env::temp_dir().join(format!(
        "oxmcp-deploy-kit-dashboard-{}.yml",
        std::process::id()
    ));
    std::fs::write(&path, serde_yaml_ng::to_string(&file).unwrap()).unwrap();
    let out = promtool(&["check", "rules", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert_success("promtool check rules (the dashboard's queries)", &out);
}

// ---------------------------------------------------------------------------------------
// The shape of the rules and the dashboard.

/// GitHub's anchor of a heading: lower case, spaces to `-`, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_alert_is_labelled_annotated_tested_and_has_a_runbook() {
    let ops = read(OPERATIONS);
    let section = ops
        .split("\n## Alerts")
        .nth(1)
        .expect("OPERATIONS.md has an Alerts section");
    let section = section.split("\n## ").next().unwrap();
    let entries: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(anchor)
        .collect();
    assert!(
        ops.contains("\n## SLOs"),
        "OPERATIONS.md has an SLOs section"
    );

    let tests: TestFile = serde_yaml_ng::from_str(&read(RULE_TESTS)).expect("the tests parse");
    assert_eq!(tests.rule_files, ["alerts.yml"]);

    let mut names = BTreeSet::new();
    for rule in rules() {
        assert!(
            rule.alert.is_some() != rule.record.is_some(),
            "a rule is an alert or a record: {}",
            rule.expr
        );
    }
    for rule in alerts() {
        let name = rule.alert.unwrap();
        assert!(names.insert(name.clone()), "{name} is defined twice");
        let severity = rule.labels.get("severity").map(String::as_str);
        assert!(
            matches!(severity, Some("critical" | "warning")),
            "{name}: severity {severity:?}"
        );
        for key in ["summary", "description", "runbook"] {
            assert!(
                rule.annotations
                    .get(key)
                    .is_some_and(|v| !v.trim().is_empty()),
                "{name} has no {key} annotation"
            );
        }
        let runbook = &rule.annotations["runbook"];
        let (doc, fragment) = runbook
            .split_once('#')
            .unwrap_or_else(|| panic!("{name}: runbook {runbook} has no anchor"));
        assert!(doc.ends_with(OPERATIONS), "{name}: runbook {runbook}");
        assert_eq!(fragment, anchor(&name), "{name}: runbook {runbook}");
        assert!(
            entries.contains(fragment),
            "{name}: no `### {name}` under ## Alerts in OPERATIONS.md (have {entries:?})"
        );

        let cases: Vec<(&str, &AlertTest)> = tests
            .tests
            .iter()
            .flat_map(|t| t.alert_rule_test.iter().map(|a| (t.name.as_str(), a)))
            .filter(|(_, a)| a.alertname == name)
            .collect();
        assert!(
            cases.iter().any(|(_, a)| !a.exp_alerts.is_empty()),
            "{name}: no test in alerts.test.yml shows it firing"
        );
        assert!(
            cases.iter().any(|(_, a)| a.exp_alerts.is_empty()),
            "{name}: no test in alerts.test.yml shows it quiet"
        );
    }
    // Every runbook entry is an alert's.
    let anchors: BTreeSet<String> = names.iter().map(|n| anchor(n)).collect();
    let orphans: Vec<_> = entries.difference(&anchors).collect();
    assert!(
        orphans.is_empty(),
        "runbook entries with no alert: {orphans:?}"
    );
}

#[test]
fn the_dashboard_has_its_variables_and_uses_them() {
    let dash = dashboard();
    assert!(dash["schemaVersion"].as_u64().unwrap() >= 36);
    assert!(dash["uid"].as_str().is_some_and(|u| !u.is_empty()));
    let vars = dash["templating"]["list"].as_array().unwrap();
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no ${name} variable"))
    };
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    for name in ["job", "instance"] {
        assert_eq!(var(name)["type"], "query", "${name}");
    }
    let mut ids = BTreeSet::new();
    let mut graphs = 0;
    for p in panels(&dash) {
        assert!(
            ids.insert(p["id"].as_u64().expect("a panel id")),
            "panel id {} twice",
            p["id"]
        );
        if p["type"] == "row" {
            continue;
        }
        graphs += 1;
        let title = p["title"].as_str().unwrap();
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{title}");
            let e = t["expr"].as_str().unwrap();
            assert!(
                e.contains(r#"job=~"$job""#) && e.contains(r#"instance=~"$instance""#),
                "{title}: the query ignores $job / $instance: {e}"
            );
        }
    }
    assert!(graphs >= 15, "{graphs} panels");
}

// ---------------------------------------------------------------------------------------
// Against a real scrape.

/// The text of `GET /metrics` from a server that answered two calls and one error.
async fn scrape() -> String {
    let svc = scrape::echo_service("deploy-kit");
    scrape::call(&svc, 1, "echo").await;
    scrape::call(&svc, 2, "echo").await;
    scrape::call(&svc, 3, "nope").await;
    let (status, _, text) = scrape::scrape(&svc, "localhost").await;
    assert_eq!(status, StatusCode::OK);
    text
}

#[tokio::test]
async fn every_name_the_kit_uses_is_in_a_scrape() {
    let text = scrape().await;
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let family = |name: &str| scrape::family(&text, name).to_owned();
    let present: BTreeSet<String> = parsed.samples.iter().map(|s| family(&s.metric)).collect();
    assert!(present.len() >= 15, "the scrape was read: {present:?}");

    let rule_exprs: Vec<String> = rules().into_iter().map(|r| r.expr).collect();
    let dash_exprs = dashboard_exprs(&dashboard());
    for (what, exprs, at_least) in [(RULES, &rule_exprs, 8), (DASHBOARD, &dash_exprs, 18)] {
        let used: BTreeSet<String> = exprs
            .iter()
            .flat_map(|e| metric_names(e))
            .map(|n| family(&n))
            .collect();
        assert!(
            used.len() >= at_least,
            "{what}: only {} metric names read ({used:?}): is the extraction broken?",
            used.len()
        );
        let missing: Vec<_> = used.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "{what} uses metrics the server does not export: {missing:?}\n{text}"
        );
        // Label values: a typo in a reason or an outcome would match nothing, silently.
        let mut checked = 0;
        for label in ["reason", "outcome", "method", "le"] {
            for value in exprs.iter().flat_map(|e| label_values(e, label)) {
                checked += 1;
                assert!(
                    text.contains(&format!("{label}=\"{value}\"")),
                    "{what} matches {label}=\"{value}\", which no scraped series has"
                );
            }
        }
        assert!(checked >= 3, "{what}: only {checked} label values read");
    }
}
