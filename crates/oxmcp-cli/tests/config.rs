//! `oxmcp config check` and `oxmcp config default` as a user runs them: the layers override
//! in order (file < `OXMCP_*` < flags), problems name the key and the fix and exit with 2,
//! the example file in deploy/ passes, and the default file round-trips. The environment is
//! given to each spawned process; the test process's own is never changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oxmcp_cli::config::{Config, KEYS, Kind, SECTIONS};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("config-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `oxmcp ARGS` with exactly `env` as its `OXMCP_*` variables (any inherited from
/// the test's environment are removed).
fn oxmcp(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxmcp"));
    cmd.args(args).current_dir(root());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OXMCP_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `oxmcp config check ARGS` must pass; its output, parsed.
fn check_ok(args: &[&str], env: &[(&str, &str)]) -> toml::Table {
    let mut all = vec!["config", "check"];
    all.extend_from_slice(args);
    let out = oxmcp(&all, env);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{all:?} {env:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .parse()
        .unwrap_or_else(|e| panic!("not TOML ({e}):\n{stdout}"))
}

/// `oxmcp config check ARGS` must fail with status 2, print nothing on stdout, and
/// explain on stderr; the explanation.
fn check_fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["config", "check"];
    all.extend_from_slice(args);
    let out = oxmcp(&all, env);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{all:?} {env:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{all:?}: stdout is not empty");
    stderr
}

fn get<'a>(t: &'a toml::Table, path: &str) -> &'a toml::Value {
    let (section, key) = path.split_once('.').unwrap();
    t.get(section)
        .and_then(|s| s.get(key))
        .unwrap_or_else(|| panic!("{path} missing"))
}

#[test]
fn layers_override_in_order_file_env_flag() {
    let dir = scratch("layers");
    let file = dir.join("oxmcp.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:7001\"\nlog = \"info\"\n\n\
         [http]\nmax_sessions = 5\nmax_body = 2048\nstateless = false\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    // The file alone.
    let t = check_ok(&["--config", file], &[]);
    assert_eq!(get(&t, "server.listen").as_str(), Some("127.0.0.1:7001"));
    assert_eq!(get(&t, "http.max_sessions").as_integer(), Some(5));
    assert_eq!(get(&t, "http.max_body").as_integer(), Some(2048));
    assert_eq!(get(&t, "server.log").as_str(), Some("info"));
    // Untouched keys keep their defaults.
    assert_eq!(get(&t, "http.session_ttl").as_str(), Some("10m"));

    // The environment overrides the file; flags override both.
    let env = [
        ("OXMCP_SERVER_LISTEN", "127.0.0.1:7002"),
        ("OXMCP_HTTP_MAX_SESSIONS", "6"),
        ("OXMCP_HTTP_STATELESS", "true"),
        ("OXMCP_LOG", "debug"),
    ];
    let t = check_ok(&["--config", file], &env);
    assert_eq!(get(&t, "server.listen").as_str(), Some("127.0.0.1:7002"));
    assert_eq!(get(&t, "http.max_sessions").as_integer(), Some(6));
    assert_eq!(get(&t, "http.stateless").as_bool(), Some(true));
    assert_eq!(get(&t, "server.log").as_str(), Some("debug"));
    assert_eq!(get(&t, "http.max_body").as_integer(), Some(2048));

    let t = check_ok(
        &[
            "--config",
            file,
            "--listen",
            "127.0.0.1:7003",
            "--log",
            "warn",
        ],
        &env,
    );
    assert_eq!(get(&t, "server.listen").as_str(), Some("127.0.0.1:7003"));
    assert_eq!(get(&t, "server.log").as_str(), Some("warn"));
    assert_eq!(get(&t, "http.max_sessions").as_integer(), Some(6));

    // OXMCP_CONFIG names the file when --config does not; OXMCP_SERVER_LOG beats OXMCP_LOG.
    let t = check_ok(
        &[],
        &[
            ("OXMCP_CONFIG", file),
            ("OXMCP_LOG", "debug"),
            ("OXMCP_SERVER_LOG", "error"),
        ],
    );
    assert_eq!(get(&t, "server.listen").as_str(), Some("127.0.0.1:7001"));
    assert_eq!(get(&t, "server.log").as_str(), Some("error"));

    // Lists from the environment are comma-separated; "off" disables a timeout.
    let t = check_ok(
        &["--stdio"],
        &[
            (
                "OXMCP_HTTP_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("OXMCP_LIMITS_REQUEST_TIMEOUT", "off"),
        ],
    );
    assert_eq!(get(&t, "server.transport").as_str(), Some("stdio"));
    assert_eq!(
        get(&t, "http.allowed_origins"),
        &toml::Value::Array(vec!["https://a.example".into(), "https://b.example".into()])
    );
    assert_eq!(get(&t, "limits.request_timeout").as_str(), Some("off"));
}

#[test]
fn allowed_hosts_default_follows_listen() {
    let t = check_ok(&[], &[]);
    assert_eq!(
        get(&t, "http.allowed_hosts"),
        &toml::Value::Array(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
    );
    let t = check_ok(&["--listen", "0.0.0.0:8080"], &[]);
    assert_eq!(
        get(&t, "http.allowed_hosts"),
        &toml::Value::Array(vec!["*".into()])
    );
}

#[test]
fn unknown_keys_are_named_with_a_suggestion() {
    let dir = scratch("unknown");
    let file = dir.join("oxmcp.toml");
    std::fs::write(&file, "[http]\nmax_sesions = 20000\n").unwrap();
    let err = check_fails(&["--config", file.to_str().unwrap()], &[]);
    assert!(
        err.contains(&format!(
            "unknown key `http.max_sesions` in {}; did you mean `max_sessions`?",
            file.display()
        )),
        "{err}"
    );

    // A key in the wrong section points to the right one.
    std::fs::write(&file, "[http]\nmax_line = 2048\n").unwrap();
    let err = check_fails(&["--config", file.to_str().unwrap()], &[]);
    assert!(err.contains("did you mean `limits.max_line`?"), "{err}");

    // A misspelt section.
    std::fs::write(&file, "[limit]\nmax_line = 2048\n").unwrap();
    let err = check_fails(&["--config", file.to_str().unwrap()], &[]);
    assert!(
        err.contains("unknown section `[limit]`") && err.contains("did you mean `[limits]`?"),
        "{err}"
    );

    // A misspelt environment variable of a known section.
    let err = check_fails(&[], &[("OXMCP_HTTP_MAX_SESIONS", "5")]);
    assert!(
        err.contains("unknown environment variable OXMCP_HTTP_MAX_SESIONS; did you mean OXMCP_HTTP_MAX_SESSIONS?"),
        "{err}"
    );
}

#[test]
fn bad_values_are_named_with_the_fix() {
    let dir = scratch("bad");
    let file = dir.join("oxmcp.toml");
    let cases: &[(&str, &str)] = &[
        (
            "[http]\nmax_body = 10\n",
            "http.max_body: must be at least 1024 bytes, got 10",
        ),
        (
            "[server]\nlisten = \"abc\"\n",
            "server.listen: \"abc\" is not ADDR:PORT",
        ),
        (
            "[server]\ntransport = \"tcp\"\n",
            "server.transport: unknown variant `tcp`",
        ),
        (
            "[server]\npath = \"mcp\"\n",
            "server.path: must start with \"/\", got \"mcp\"",
        ),
        (
            "[http]\nsession_ttl = \"ten minutes\"\n",
            "http.session_ttl: \"ten minutes\" is not a duration",
        ),
        (
            "[http]\nsession_ttl = 600\n",
            "http.session_ttl: invalid type: integer `600`, expected a duration",
        ),
        (
            "[http]\nmax_sessions = \"many\"\n",
            "http.max_sessions: invalid type: string \"many\"",
        ),
        (
            "[http]\nallowed_origins = [\"example.com\"]\n",
            "http.allowed_origins: \"example.com\" is not an origin",
        ),
        (
            "[tasks]\ndefault_ttl = \"2d\"\nmax_ttl = \"1d\"\n",
            "tasks.default_ttl: must not exceed tasks.max_ttl",
        ),
        (
            "[limits]\noutbound_queue = 0\n",
            "limits.outbound_queue: must be at least 1, got 0",
        ),
        ("[server\n", "is not valid TOML"),
    ];
    for (text, want) in cases {
        std::fs::write(&file, text).unwrap();
        let err = check_fails(&["--config", file.to_str().unwrap()], &[]);
        assert!(err.contains(want), "{text:?}: want {want:?}, got {err}");
    }
    // From the environment and from a flag: the message says where the value came from.
    let err = check_fails(&[], &[("OXMCP_HTTP_MAX_SESSIONS", "lots")]);
    assert!(
        err.contains(
            "http.max_sessions: \"lots\" is not a whole number (set by OXMCP_HTTP_MAX_SESSIONS)"
        ),
        "{err}"
    );
    let err = check_fails(&["--max-line-bytes", "10"], &[]);
    assert!(
        err.contains(
            "limits.max_line: must be at least 1024 bytes, got 10 (set by --max-line-bytes)"
        ),
        "{err}"
    );
    let err = check_fails(&["--config", "/nonexistent/oxmcp.toml"], &[]);
    assert!(
        err.contains("cannot read the configuration file /nonexistent/oxmcp.toml"),
        "{err}"
    );
    // `serve` refuses the same way, before it listens.
    let out = oxmcp(&["serve", "--listen", "nowhere"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("server.listen: \"nowhere\" is not ADDR:PORT")
    );
}

#[test]
fn the_deploy_example_is_accepted() {
    let out = oxmcp(&["config", "check", "--config", "deploy/oxmcp.toml"], &[]);
    let effective = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What check printed means what the file says, and the file is not just the defaults.
    let text = std::fs::read_to_string(root().join("deploy/oxmcp.toml")).unwrap();
    let from_file = Config::from_toml_str(&text, "deploy/oxmcp.toml").unwrap();
    let printed = Config::from_toml_str(&effective, "the output").unwrap();
    assert_eq!(printed, from_file);
    assert_ne!(from_file, Config::default());
    assert!(effective.contains("listen = \"0.0.0.0:8080\"  # set in deploy/oxmcp.toml"));
}

#[test]
fn the_default_file_round_trips_through_check() {
    let out = oxmcp(&["config", "default"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let default = String::from_utf8(out.stdout).unwrap();
    // Every key is in it, with its environment variable.
    for k in KEYS {
        assert!(
            default.contains(&format!("{} = ", k.name)),
            "{} missing",
            k.path()
        );
        assert!(default.contains(&k.env()), "{} missing", k.env());
    }
    let dir = scratch("default");
    let file = dir.join("default.toml");
    std::fs::write(&file, &default).unwrap();
    let from_file = check_ok(&["--config", file.to_str().unwrap()], &[]);
    let built_in = check_ok(&[], &[]);
    assert_eq!(from_file, built_in);
    // The effective output is itself a valid file that means the same.
    let out = oxmcp(&["config", "check"], &[]);
    let effective = dir.join("effective.toml");
    std::fs::write(&effective, &out.stdout).unwrap();
    assert_eq!(
        check_ok(&["--config", effective.to_str().unwrap()], &[]),
        built_in
    );
    // Every key of every section is printed (but the optional ones that are not set).
    for section in SECTIONS {
        let printed = built_in[section].as_table().unwrap();
        for k in KEYS
            .iter()
            .filter(|k| k.section == section && k.kind != Kind::Secret)
            // The optional paths, not set by default.
            .filter(|k| !["root", "cert", "key", "client_ca", "otlp_endpoint"].contains(&k.name))
        {
            assert!(printed.contains_key(k.name), "{}", k.path());
        }
    }
}

/// docs/SECURITY.md's table of defaults: each row's value is the code's default.
#[test]
fn the_security_doc_states_the_defaults_the_code_has() {
    let doc = std::fs::read_to_string(root().join("docs/SECURITY.md")).unwrap();
    let defaults: toml::Table = Config::default_toml().parse().unwrap();
    let table = doc
        .split("## Defaults")
        .nth(1)
        .expect("docs/SECURITY.md has a Defaults section");
    let mut rows = 0;
    for line in table.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(path) = cells
            .get(1)
            .and_then(|c| c.strip_prefix('`'))
            .and_then(|c| c.strip_suffix('`'))
        else {
            continue;
        };
        let (section, name) = path.split_once('.').unwrap();
        assert!(
            KEYS.iter().any(|k| k.section == section && k.name == name),
            "docs/SECURITY.md names `{path}`, which is not a key"
        );
        let want = defaults[section][name].to_string();
        assert_eq!(
            cells[2],
            format!("`{want}`"),
            "docs/SECURITY.md's default of {path}"
        );
        rows += 1;
    }
    assert!(rows >= 30, "only {rows} defaults in docs/SECURITY.md");
}

#[test]
fn the_configuration_doc_lists_every_key_with_its_default() {
    let doc = std::fs::read_to_string(root().join("docs/CONFIGURATION.md")).unwrap();
    let defaults: toml::Table = Config::default_toml().parse().unwrap();
    for k in KEYS {
        let env = format!("`{}`", k.env());
        let row = doc
            .lines()
            .find(|l| l.starts_with('|') && l.contains(&env))
            .unwrap_or_else(|| panic!("docs/CONFIGURATION.md has no row with {env}"));
        assert!(
            row.starts_with(&format!("| `{}` |", k.name)),
            "the row of {env} names its key first: {row}"
        );
        if let Some(v) = defaults.get(k.section).and_then(|s| s.get(k.name)) {
            assert!(
                row.contains(&format!("`{v}`")),
                "the row of {} shows its default `{v}`: {row}",
                k.path()
            );
        }
        if let Some(flag) = k.flag {
            assert!(
                row.contains(flag),
                "the row of {} names {flag}: {row}",
                k.path()
            );
        }
    }
}

#[test]
fn the_modern_section_configures_request_state_keys_and_caching_hints() {
    let key = "k".repeat(40);
    let file = "[modern]\nstate_ttl = \"5m\"\nmax_rounds = 4\nlist_ttl = \"30s\"\ncache_scope = \"public\"\n";
    let env = vec![("OXMCP_MODERN_STATE_KEY".to_owned(), key.clone())];
    let dir = scratch("modern");
    let path = dir.join("modern.toml");
    std::fs::write(&path, file).unwrap();
    let loaded = Config::load(Some(&path), &env, &[]).unwrap();
    let (server, _) = loaded.config.runtime_options();
    assert_eq!(server.modern.state_key.as_deref(), Some(key.as_bytes()));
    assert_eq!(server.modern.state_ttl, std::time::Duration::from_secs(300));
    assert_eq!(server.modern.max_rounds, 4);
    assert_eq!(server.modern.cache.tools.ttl_ms, 30_000);
    assert_eq!(
        server.modern.cache.prompts.scope,
        oxmcp::proto::modern::model::CacheScope::Public
    );
    // The secret never shows: not in Debug, not in what `config check` prints.
    assert!(!format!("{:?}", loaded.config).contains(&key));
    let printed = loaded.to_toml();
    assert!(!printed.contains(&key), "{printed}");
    assert!(printed.contains("state_key = \"<redacted>\""), "{printed}");
    // A short key is refused, naming the key, where it came from and the fix.
    let short = vec![("OXMCP_MODERN_STATE_KEY".to_owned(), "short".to_owned())];
    let e = Config::load(None, &short, &[]).unwrap_err().to_string();
    assert!(
        e.contains("modern.state_key")
            && e.contains("at least 32 bytes")
            && e.contains("OXMCP_MODERN_STATE_KEY"),
        "{e}"
    );
    let bad = Config::from_toml_str("[modern]\ncache_scope = \"shared\"\n", "f.toml").unwrap_err();
    assert!(bad.to_string().contains("modern.cache_scope"), "{bad}");
}

#[test]
fn config_check_never_prints_the_request_state_keys() {
    let current = "c".repeat(24) + "-current-key-0123456789";
    let previous = "p".repeat(24) + "-previous-key-0123456789";
    let dir = scratch("secret");
    let file = dir.join("oxmcp.toml");
    std::fs::write(
        &file,
        format!(
            "[modern]\nprevious_state_key = \"{previous}\"\nmax_rounds = 3\nread_ttl = \"1m\"\n"
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let env = [
        ("OXMCP_MODERN_STATE_KEY", current.as_str()),
        ("OXMCP_MODERN_DISCOVER_TTL", "5m"),
        ("OXMCP_MODERN_CACHE_SCOPE", "public"),
    ];
    let out = oxmcp(&["config", "check", "--config", file], &env);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        !stdout.contains(&current) && !stdout.contains(&previous),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nstate_key = \"<redacted>\"  # set by OXMCP_MODERN_STATE_KEY\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "\nprevious_state_key = \"<redacted>\"  # set in {file}\n"
        )),
        "{stdout}"
    );
    // The other keys print as usual.
    let t: toml::Table = stdout.parse().unwrap();
    assert_eq!(get(&t, "modern.max_rounds").as_integer(), Some(3));
    assert_eq!(get(&t, "modern.read_ttl").as_str(), Some("1m"));
    assert_eq!(get(&t, "modern.discover_ttl").as_str(), Some("5m"));
    assert_eq!(get(&t, "modern.cache_scope").as_str(), Some("public"));
    // Fed back as a file, the redacted output is refused rather than taken as a key.
    let effective = dir.join("effective.toml");
    std::fs::write(&effective, &stdout).unwrap();
    let err = check_fails(&["--config", effective.to_str().unwrap()], &[]);
    assert!(
        err.contains("modern.state_key: must be at least 32 bytes"),
        "{err}"
    );

    // A key too short is refused through the binary too, by name, without its value.
    let short = "hunter2-is-short";
    let err = check_fails(&[], &[("OXMCP_MODERN_STATE_KEY", short)]);
    assert!(
        err.contains(
            "modern.state_key: must be at least 32 bytes, got 16: use a random secret, e.g. the output of `openssl rand -hex 32` (set by OXMCP_MODERN_STATE_KEY)"
        ),
        "{err}"
    );
    assert!(!err.contains(short), "{err}");
    // `serve` refuses it the same way, before it listens.
    let out = oxmcp(
        &["serve", "--listen", "127.0.0.1:0"],
        &[("OXMCP_MODERN_STATE_KEY", short)],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("modern.state_key: must be at least 32 bytes"),
        "{stderr}"
    );
    assert!(!stderr.contains(short), "{stderr}");
}

#[test]
fn bad_modern_values_are_named_without_quoting_a_key() {
    let secret = "s".repeat(40);
    let dir = scratch("modern-bad");
    let file = dir.join("oxmcp.toml");
    let cases: Vec<(String, &str)> = vec![
        (
            "[modern]\nstate_key = \"short\"\n".into(),
            "modern.state_key: must be at least 32 bytes, got 5",
        ),
        (
            "[modern]\nstate_key = \"<secret>\"\n".into(),
            "modern.state_key: must be at least 32 bytes",
        ),
        (
            format!("[modern]\nstate_key = \"<{secret}>\"\n"),
            "modern.state_key: is a placeholder, not a key",
        ),
        (
            format!("[modern]\nstate_key = \" {secret}\"\n"),
            "modern.state_key: starts or ends with white space",
        ),
        (
            format!("[modern]\nprevious_state_key = \"{secret}\"\n"),
            "modern.previous_state_key: is set but modern.state_key is not",
        ),
        (
            format!("[modern]\nstate_key = \"{secret}\"\nprevious_state_key = \"{secret}\"\n"),
            "modern.previous_state_key: is the same as modern.state_key",
        ),
        (
            format!("[modern]\nstate_key = [\"{secret}\"]\n"),
            "modern.state_key: must be a string (a secret of at least 32 bytes)",
        ),
        (
            format!("[modern]\nstate_key = \"{secret}\n"),
            "is not valid TOML",
        ),
        (
            "[modern]\nmax_rounds = 0\n".into(),
            "modern.max_rounds: must be at least 1, got 0",
        ),
        (
            "[modern]\nmax_rounds = -1\n".into(),
            "modern.max_rounds: invalid value: integer `-1`, expected u32",
        ),
        (
            "[modern]\nstate_ttl = \"100ms\"\n".into(),
            "modern.state_ttl: must be at least 1s, got 100ms",
        ),
        (
            "[modern]\nlist_ttl = \"soon\"\n".into(),
            "modern.list_ttl: \"soon\" is not a duration",
        ),
        (
            "[modern]\ncache_scope = \"shared\"\n".into(),
            "modern.cache_scope: unknown variant `shared`, expected `private` or `public`",
        ),
    ];
    for (text, want) in &cases {
        std::fs::write(&file, text).unwrap();
        let err = check_fails(&["--config", file.to_str().unwrap()], &[]);
        assert!(err.contains(want), "{text:?}: want {want:?}, got {err}");
        assert!(!err.contains(&secret), "{text:?}: the key is quoted: {err}");
    }
}

#[test]
fn the_guard_keys_reach_the_runtime_options() {
    use std::net::IpAddr;
    use std::time::Duration;

    use oxmcp::guard::{BreakerPolicy, Rate};

    let dir = scratch("guards");
    let path = dir.join("guards.toml");
    std::fs::write(
        &path,
        "[http]\nrate_per_ip = \"100/s\"\nmax_sessions_per_ip = 3\n\
         initialize_rate_per_ip = \"10/min\"\nrate_per_principal = \"5000/h\"\n\
         max_connections = 500\nmax_connections_per_ip = 20\nmetrics = false\n\
         trusted_proxies = [\"10.0.0.1\", \"fd00::1\"]\nmax_header_bytes = 16384\n\
         max_headers = 50\nheader_timeout = \"5s\"\nslow_reader_timeout = \"250ms\"\n\n\
         [limits]\nbreaker_failures = \"off\"\nmax_in_flight_total = 200\n\
         rate_per_session = \"600/min\"\n",
    )
    .unwrap();
    let loaded = Config::load(Some(&path), &[], &[]).unwrap();
    let (server, http) = loaded.config.runtime_options();
    assert_eq!(
        http.rate_per_ip,
        Some(Rate::new(100, Duration::from_secs(1)))
    );
    assert_eq!(http.max_sessions_per_ip, Some(3));
    assert_eq!(
        http.initialize_rate_per_ip,
        Some(Rate::new(10, Duration::from_secs(60)))
    );
    assert_eq!(
        http.rate_per_principal,
        Some(Rate::new(5000, Duration::from_secs(3600)))
    );
    assert_eq!(http.max_connections, 500);
    assert_eq!(http.max_connections_per_ip, Some(20));
    assert!(!http.metrics);
    assert_eq!(
        http.trusted_proxies,
        vec![
            "10.0.0.1".parse::<IpAddr>().unwrap(),
            "fd00::1".parse::<IpAddr>().unwrap()
        ]
    );
    assert_eq!(http.max_header_bytes, 16384);
    assert_eq!(http.max_headers, 50);
    assert_eq!(http.header_timeout, Duration::from_secs(5));
    assert_eq!(http.slow_reader_timeout, Duration::from_millis(250));
    assert_eq!(server.breaker, None);
    assert_eq!(server.max_in_flight_total, 200);
    assert_eq!(
        server.rate_per_session,
        Some(Rate::new(600, Duration::from_secs(60)))
    );

    // Printed back, the file means the same (allowed_hosts is printed as in force).
    let mut again = Config::from_toml_str(&loaded.to_toml(), "the output").unwrap();
    assert_eq!(again.runtime_options().1.allowed_hosts, http.allowed_hosts);
    again.http.allowed_hosts = None;
    assert_eq!(again, loaded.config);

    // By default the breakers are on (5 failures, 30 s); both keys shape the policy.
    let (server, http) = Config::default().runtime_options();
    assert_eq!(server.breaker, Some(BreakerPolicy::default()));
    assert_eq!(http.max_sessions_per_ip, None);
    assert_eq!(http.rate_per_ip, None);
    let c = Config::from_toml_str(
        "[limits]\nbreaker_failures = 3\nbreaker_cool_down = \"1m\"\n",
        "f.toml",
    )
    .unwrap();
    assert_eq!(
        c.runtime_options().0.breaker,
        Some(BreakerPolicy::new(3, Duration::from_secs(60)))
    );
}

#[test]
fn integer_and_rate_limits_come_from_the_environment() {
    use std::time::Duration;

    use oxmcp::guard::Rate;

    let env: Vec<(String, String)> = [
        ("OXMCP_HTTP_MAX_SESSIONS_PER_IP", "3"),
        ("OXMCP_HTTP_MAX_CONNECTIONS_PER_IP", "off"),
        ("OXMCP_HTTP_RATE_PER_IP", "50/s"),
        ("OXMCP_HTTP_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2"),
        ("OXMCP_LIMITS_RATE_PER_SESSION", "off"),
        ("OXMCP_LIMITS_BREAKER_FAILURES", "7"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // The environment overrides the file, "off" included.
    let dir = scratch("guards-env");
    let path = dir.join("oxmcp.toml");
    std::fs::write(
        &path,
        "[http]\nmax_connections_per_ip = 8\n[limits]\nrate_per_session = \"10/s\"\n",
    )
    .unwrap();
    let loaded = Config::load(Some(&path), &env, &[]).unwrap();
    let (server, http) = loaded.config.runtime_options();
    assert_eq!(http.max_sessions_per_ip, Some(3));
    assert_eq!(http.max_connections_per_ip, None);
    assert_eq!(
        http.rate_per_ip,
        Some(Rate::new(50, Duration::from_secs(1)))
    );
    assert_eq!(http.trusted_proxies.len(), 2);
    assert_eq!(server.rate_per_session, None);
    assert_eq!(server.breaker.map(|b| b.failures), Some(7));

    // `config check` prints them with where they came from, and as a valid file.
    let out = oxmcp(
        &["config", "check"],
        &[
            ("OXMCP_HTTP_MAX_SESSIONS_PER_IP", "3"),
            ("OXMCP_LIMITS_RATE_PER_SESSION", "off"),
            ("OXMCP_HTTP_RATE_PER_PRINCIPAL", "600/min"),
        ],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("\nmax_sessions_per_ip = 3  # set by OXMCP_HTTP_MAX_SESSIONS_PER_IP\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nrate_per_session = \"off\"  # set by OXMCP_LIMITS_RATE_PER_SESSION\n"),
        "{stdout}"
    );
    let t: toml::Table = stdout.parse().unwrap();
    assert_eq!(get(&t, "http.rate_per_principal").as_str(), Some("600/min"));
    assert_eq!(get(&t, "http.max_connections_per_ip").as_str(), Some("off"));
    assert_eq!(get(&t, "limits.breaker_failures").as_integer(), Some(5));
    assert_eq!(get(&t, "limits.breaker_cool_down").as_str(), Some("30s"));
}

#[test]
fn bad_guard_values_are_named_with_the_fix() {
    let dir = scratch("guards-bad");
    let file = dir.join("oxmcp.toml");
    let cases: &[(&str, &str)] = &[
        (
            "[http]\nrate_per_ip = \"fast\"\n",
            "http.rate_per_ip: \"fast\" is not a rate: write a count of at least 1 per second, minute or hour, e.g. \"100/s\", \"600/min\" or \"5000/h\", or \"off\" for no limit",
        ),
        (
            "[limits]\nrate_per_session = \"0/s\"\n",
            "limits.rate_per_session: \"0/s\" is not a rate",
        ),
        (
            "[http]\ninitialize_rate_per_ip = \"5/day\"\n",
            "http.initialize_rate_per_ip: \"5/day\" is not a rate",
        ),
        (
            "[http]\nrate_per_principal = 100\n",
            "http.rate_per_principal: invalid type: integer `100`, expected a rate such as \"100/s\"",
        ),
        (
            "[http]\ntrusted_proxies = [\"10.0.0.1\", \"proxy.internal\"]\n",
            "http.trusted_proxies: \"proxy.internal\" is not an IP address",
        ),
        (
            "[http]\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
            "http.trusted_proxies: \"10.0.0.0/8\" is not an IP address",
        ),
        (
            "[http]\nmax_sessions_per_ip = 0\n",
            "http.max_sessions_per_ip: must be at least 1, or \"off\" for no limit, got 0",
        ),
        (
            "[http]\nmax_connections_per_ip = \"many\"\n",
            "http.max_connections_per_ip: \"many\" is not a whole number or \"off\"",
        ),
        (
            "[limits]\nbreaker_failures = -1\n",
            "limits.breaker_failures: -1 is negative",
        ),
        (
            "[http]\nmax_connections = 0\n",
            "http.max_connections: must be at least 1, got 0",
        ),
        (
            "[http]\nmax_header_bytes = 1024\n",
            "http.max_header_bytes: must be at least 8192 bytes, got 1024",
        ),
        (
            "[http]\nheader_timeout = \"500ms\"\n",
            "http.header_timeout: must be at least 1s, got 500ms",
        ),
        (
            "[http]\nslow_reader_timeout = \"10ms\"\n",
            "http.slow_reader_timeout: must be at least 100ms, got 10ms",
        ),
        (
            "[limits]\nmax_in_flight_total = 0\n",
            "limits.max_in_flight_total: must be at least 1, got 0",
        ),
        (
            "[limits]\nbreaker_cool_down = \"0s\"\n",
            "limits.breaker_cool_down: must be more than 0s",
        ),
        (
            "[server]\npath = \"/metrics\"\n",
            "server.path: \"/metrics\" is where http.metrics answers",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(&file, text).unwrap();
        let err = check_fails(&["--config", file.to_str().unwrap()], &[]);
        assert!(err.contains(want), "{text:?}: want {want:?}, got {err}");
    }
    // With metrics off, /metrics is a path like any other.
    std::fs::write(
        &file,
        "[server]\npath = \"/metrics\"\n[http]\nmetrics = false\n",
    )
    .unwrap();
    check_ok(&["--config", file.to_str().unwrap()], &[]);

    // From the environment: the message names the variable.
    let env_cases: &[(&str, &str, &str)] = &[
        (
            "OXMCP_LIMITS_RATE_PER_SESSION",
            "lots",
            "limits.rate_per_session: \"lots\" is not a rate",
        ),
        (
            "OXMCP_HTTP_MAX_SESSIONS_PER_IP",
            "three",
            "http.max_sessions_per_ip: \"three\" is not a whole number or \"off\" (set by OXMCP_HTTP_MAX_SESSIONS_PER_IP)",
        ),
        (
            "OXMCP_HTTP_TRUSTED_PROXIES",
            "10.0.0.1,10.0.0.2:8080",
            "http.trusted_proxies: \"10.0.0.2:8080\" is not an IP address",
        ),
    ];
    for (var, value, want) in env_cases {
        let err = check_fails(&[], &[(var, value)]);
        assert!(
            err.contains(want),
            "{var}={value}: want {want:?}, got {err}"
        );
        assert!(err.contains(&format!("(set by {var})")), "{err}");
    }
}
