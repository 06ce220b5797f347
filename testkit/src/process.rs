//! The real `lenscast-server` binary as a child process, started and stopped the one way
//! the server's own tests, the browser tests and the load generator all need.
//!
//! The server prints exactly one line on stdout, `listening on <scheme>://<address>`, once
//! its socket is bound (logs go to stderr). Waiting for that line rather than polling the
//! port gives the real address when the port is 0, and fails at once, with the exit status,
//! when the server cannot start. After it, stdout is still read to its end: a server whose
//! stdout reader went away would fail on its next write there.

use std::{
    ffi::{OsStr, OsString},
    io::Write as _,
    net::SocketAddr,
    path::PathBuf,
    process::{ExitStatus, Stdio},
    time::Duration,
};

use anyhow::{Context, Result, bail, ensure};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
    task::JoinHandle,
};

/// How long a server may take to announce its address, and to exit once asked to.
pub const WAIT: Duration = Duration::from_secs(15);

/// Where the server's logs (stderr, and stdout beyond the announcement) go.
#[derive(Clone, Debug)]
pub enum Output {
    /// Kept in memory, for [`ServerProcess::terminate`] to return.
    Collect,
    /// Written to this file (created afresh), stdout lines included.
    File(PathBuf),
    /// This process's own stderr.
    Inherit,
}

/// How to start the binary: its path, flags, environment and where its logs go.
#[derive(Clone, Debug)]
pub struct Launch {
    bin: PathBuf,
    args: Vec<OsString>,
    /// `None` removes the variable.
    envs: Vec<(OsString, Option<OsString>)>,
    output: Output,
}

impl Launch {
    /// Runs `bin` with nothing added to its arguments and environment, logs collected.
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Self {
            bin: bin.into(),
            args: Vec::new(),
            envs: Vec::new(),
            output: Output::Collect,
        }
    }

    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    #[must_use]
    pub fn args(mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    #[must_use]
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Starts the server without `key`, whatever this process's environment holds.
    #[must_use]
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().to_owned(), None));
        self
    }

    #[must_use]
    pub fn output(mut self, output: Output) -> Self {
        self.output = output;
        self
    }

    pub fn bin(&self) -> &std::path::Path {
        &self.bin
    }

    /// Starts the server and waits (up to [`WAIT`]) for the address it announces.
    pub async fn start(&self) -> Result<ServerProcess> {
        let mut command = Command::new(&self.bin);
        command.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let mut log_file = None;
        let stderr = match &self.output {
            Output::Collect => Stdio::piped(),
            Output::Inherit => Stdio::inherit(),
            Output::File(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                let stderr = file.try_clone()?.into();
                log_file = Some(file);
                stderr
            }
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        let pid = child.id().context("a just started child has a pid")?;
        let logs = match child.stderr.take() {
            Some(mut stderr) => tokio::spawn(async move {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text).await;
                text
            }),
            None => tokio::spawn(async { String::new() }),
        };
        let mut stdout = BufReader::new(child.stdout.take().context("piped stdout")?).lines();
        let announced = tokio::time::timeout(WAIT, async {
            while let Some(line) = stdout.next_line().await? {
                if let Some(file) = &mut log_file {
                    writeln!(file, "{line}")?;
                }
                if let Some(url) = line.strip_prefix("listening on ") {
                    return Ok(Some(url.to_owned()));
                }
            }
            Ok::<_, std::io::Error>(None)
        })
        .await;
        let url = match announced {
            Ok(Ok(Some(url))) => url,
            Ok(Ok(None)) => {
                let status = child.wait().await?;
                let logs = logs.await.unwrap_or_default();
                bail!(
                    "{} exited before announcing its address ({status}){}{logs}",
                    self.bin.display(),
                    if logs.is_empty() { "" } else { ":\n" }
                );
            }
            Ok(Err(err)) => return Err(err).context("reading the server's stdout"),
            Err(_) => bail!(
                "{} did not announce its address within {WAIT:?}",
                self.bin.display()
            ),
        };
        let (scheme, addr) = url
            .split_once("://")
            .with_context(|| format!("unexpected announcement {url:?}"))?;
        let addr: SocketAddr = addr
            .trim()
            .parse()
            .with_context(|| format!("no address in the announcement {url:?}"))?;
        let scheme = scheme.to_owned();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(file) = &mut log_file {
                    let _ = writeln!(file, "{line}");
                }
            }
        });
        Ok(ServerProcess {
            child,
            pid,
            addr,
            scheme,
            logs,
        })
    }
}

/// A running server. Dropping it kills the process.
pub struct ServerProcess {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    scheme: String,
    logs: JoinHandle<String>,
}

impl ServerProcess {
    /// The address it announced.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http` or `https`, as it announced.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// SIGTERM (the graceful stop), then its exit status and, with [`Output::Collect`],
    /// everything it logged.
    pub async fn terminate(mut self) -> Result<(ExitStatus, String)> {
        // The kill(1) every unix has: no signal crate for one call.
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .context("run kill")?;
        ensure!(sent.success(), "kill -TERM {} failed", self.pid);
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .with_context(|| format!("no exit within {WAIT:?} of SIGTERM"))??;
        let logs = tokio::time::timeout(WAIT, self.logs)
            .await
            .context("stderr still open after the exit")??;
        Ok((status, logs))
    }

    /// SIGKILL, and waits for the exit (its port is free afterwards).
    pub async fn kill(mut self) -> Result<()> {
        self.child
            .kill()
            .await
            .context("cannot kill lenscast-server")
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A stand-in for the server: announces, logs, and exits 0 on SIGTERM.
    fn fake(script: &str) -> Launch {
        Launch::new("/bin/sh").args(["-c", script])
    }

    #[tokio::test]
    async fn reads_the_announcement_and_stops_on_sigterm_with_the_logs() {
        let server = fake(
            "trap 'echo stopping >&2; exit 0' TERM; echo \"started $GREETING\" >&2; \
             echo 'listening on https://127.0.0.1:4321'; while :; do sleep 0.05; done",
        )
        .env("GREETING", "hello")
        .start()
        .await
        .expect("starts");
        assert_eq!(server.addr(), "127.0.0.1:4321".parse().expect("addr"));
        assert_eq!(server.scheme(), "https");
        let (status, logs) = server.terminate().await.expect("stops");
        assert!(status.success(), "{status}");
        assert_eq!(logs, "started hello\nstopping\n");
    }

    #[tokio::test]
    async fn a_server_that_exits_first_is_an_error_with_its_logs() {
        let err = fake("echo 'no such flag' >&2; exit 2")
            .start()
            .await
            .err()
            .expect("no announcement");
        let text = format!("{err:#}");
        assert!(text.contains("exited before announcing"), "{text}");
        assert!(text.contains("no such flag"), "{text}");
    }

    #[tokio::test]
    async fn logs_can_go_to_a_file() {
        let dir = crate::temp::temp_dir("process");
        let log = dir.path().join("server.log");
        let server =
            fake("echo 'listening on http://127.0.0.1:1'; echo after; echo err >&2; sleep 5")
                .output(Output::File(log.clone()))
                .start()
                .await
                .expect("starts");
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.kill().await.expect("killed");
        let text = std::fs::read_to_string(&log).expect("log file");
        for line in ["listening on http://127.0.0.1:1", "after", "err"] {
            assert!(text.lines().any(|l| l == line), "{line} in {text:?}");
        }
    }
}
