//! The stdio client transport: spawns the server as a child process, speaks newline-
//! delimited JSON on its stdin/stdout, copies its stderr into the log, and kills and reaps
//! it when the client goes away. A child that exits fails every pending call with an error
//! naming the exit status.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::AsyncBufReadExt;
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio::sync::{oneshot, watch};

use super::ClientError;

/// The server program to spawn.
#[derive(Debug, Clone)]
pub struct StdioCommand {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
}

impl StdioCommand {
    /// A program (looked up on `PATH` like a shell would).
    pub fn new(program: impl Into<OsString>) -> Self {
        StdioCommand {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// Parses a command line with shell-like word splitting (quotes, backslashes), e.g.
    /// `"oxmcp serve --stdio"`.
    pub fn parse(line: &str) -> Result<Self, ClientError> {
        let words = shlex::split(line)
            .ok_or_else(|| ClientError::Transport(format!("cannot parse the command {line:?}")))?;
        let mut words = words.into_iter();
        let program = words
            .next()
            .ok_or_else(|| ClientError::Transport("empty command".into()))?;
        Ok(StdioCommand::new(program).args(words))
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds one argument that is a path (not necessarily UTF-8).
    pub fn arg_path(mut self, path: impl AsRef<std::path::Path>) -> Self {
        self.args.push(path.as_ref().as_os_str().to_owned());
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    pub(crate) fn spawn(&self) -> Result<Spawned, ClientError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        let name = self.program.to_string_lossy().into_owned();
        let mut child = cmd
            .spawn()
            .map_err(|e| ClientError::Transport(format!("cannot start {name}: {e}")))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ClientError::Transport(format!("{name}: no stdio pipes")));
        };
        let pid = child.id();
        let program = name.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!(target: "oxmcp::client::stderr", server = %program, "{line}");
            }
        });
        let (status_tx, status_rx) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let status = tokio::select! {
                s = child.wait() => s,
                _ = kill_rx => {
                    // Kill and reap: `kill` waits for the child.
                    let _ = child.kill().await;
                    child.wait().await
                }
            };
            let text = match status {
                Ok(s) => format!("the server process {name} exited ({s})"),
                Err(e) => format!("the server process {name} could not be waited for: {e}"),
            };
            let _ = status_tx.send(Some(text));
        });
        Ok(Spawned {
            stdin,
            stdout,
            exit: ExitWatch {
                status: status_rx,
                pid,
                _kill: kill_tx,
            },
        })
    }
}

pub(crate) struct Spawned {
    pub(crate) stdin: ChildStdin,
    pub(crate) stdout: ChildStdout,
    pub(crate) exit: ExitWatch,
}

/// Watches a spawned server; dropping it kills and reaps the process.
pub(crate) struct ExitWatch {
    status: watch::Receiver<Option<String>>,
    pub(crate) pid: Option<u32>,
    _kill: oneshot::Sender<()>,
}

impl ExitWatch {
    /// Waits for the process to end and says how it ended.
    pub(crate) async fn status(&mut self) -> String {
        match self.status.wait_for(Option::is_some).await {
            Ok(s) => s.clone().unwrap_or_default(),
            Err(_) => "the server process ended".to_owned(),
        }
    }
}
