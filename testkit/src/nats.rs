//! A real NATS broker (`nats-server`, Debian's package, installed by `cargo xtask setup`)
//! as a child process on free loopback ports, for the cluster tests and `bench cluster`.
//! It can be killed and started again on the same ports (the broker-outage cases), and is
//! killed when dropped.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use tokio::{net::TcpStream, process::Child};

use crate::temp::{TempDir, temp_dir};

/// How long a broker may take to accept connections.
const READY: Duration = Duration::from_secs(10);

/// The broker binary: `$NATS_SERVER`, else Debian's path, else `nats-server` on `PATH`.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return path.into();
    }
    let debian = PathBuf::from("/usr/sbin/nats-server");
    if debian.exists() {
        debian
    } else {
        PathBuf::from("nats-server")
    }
}

/// A port nobody listens on right now (the kernel's pick).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind a free port")?;
    Ok(listener.local_addr()?.port())
}

/// One `nats-server` on 127.0.0.1: clients on [`NatsServer::port`], monitoring JSON
/// (`/varz`, `/subsz`, `/connz`) on [`NatsServer::monitor_port`].
pub struct NatsServer {
    pub port: u16,
    pub monitor_port: u16,
    max_payload: Option<usize>,
    child: Option<Child>,
    dir: TempDir,
}

impl NatsServer {
    /// A broker with the default limits (`max_payload` 1 MB).
    pub async fn start() -> Result<Self> {
        Self::start_with(None).await
    }

    /// A broker whose `max_payload` is `bytes` (set in a config file, as in production).
    pub async fn with_max_payload(bytes: usize) -> Result<Self> {
        Self::start_with(Some(bytes)).await
    }

    async fn start_with(max_payload: Option<usize>) -> Result<Self> {
        let mut server = Self::reserve()?;
        server.max_payload = max_payload;
        server.spawn().await?;
        Ok(server)
    }

    /// A broker's ports, with nothing listening yet: [`NatsServer::restart`] starts it (for
    /// nodes that start before their broker).
    pub fn reserve() -> Result<Self> {
        Ok(Self {
            port: free_port()?,
            monitor_port: free_port()?,
            max_payload: None,
            child: None,
            dir: temp_dir("nats"),
        })
    }

    /// The `max_payload` of the next start (`None`: the broker's default, 1 MB).
    pub fn set_max_payload(&mut self, bytes: Option<usize>) {
        self.max_payload = bytes;
    }

    /// `nats://127.0.0.1:PORT`, for `--cluster-url`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A monitoring endpoint, e.g. `monitor_url("/subsz")`.
    pub fn monitor_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.monitor_port)
    }

    /// The broker's process id while it runs (for CPU and memory readings).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Kills the broker at once (SIGKILL): every client loses its connection.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts the broker again on the same ports, after [`NatsServer::kill`].
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await;
        self.spawn().await
    }

    async fn spawn(&mut self) -> Result<()> {
        let mut cmd = tokio::process::Command::new(binary());
        cmd.args(["-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-m")
            .arg(self.monitor_port.to_string());
        if let Some(bytes) = self.max_payload {
            let config = self.dir.path().join("nats.conf");
            std::fs::write(&config, format!("max_payload: {bytes}\n"))
                .context("write the broker's config")?;
            cmd.arg("-c").arg(config);
        }
        let log = std::fs::File::create(self.dir.path().join("nats.log"))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "start {} (cargo xtask setup installs it)",
                binary().display()
            )
        })?;
        let deadline = Instant::now() + READY;
        // The port it was given may have been taken again in between: a broker that exits
        // says so in its log.
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            if let Some(status) = child.try_wait()? {
                let log =
                    std::fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default();
                bail!("nats-server exited with {status}: {log}");
            }
            if Instant::now() > deadline {
                bail!(
                    "nats-server did not listen on port {} within {READY:?}",
                    self.port
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Some(child);
        Ok(())
    }
}
