//! The real `lenscast-server` for the browser tests: where its binary and the built frontend
//! are ([`ServerPaths`]), and the process itself on a fixed loopback port ([`Server`]), which
//! can be killed and restarted on that port (reconnect tests). Starting and stopping is
//! `testkit::process`, as for the server's own tests.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use testkit::process::{Launch, Output, ServerProcess};

use crate::paths::{artifacts_dir, env_path, free_port, workspace_root};

/// Where the server binary, the built frontend and the static files are.
#[derive(Clone, Debug)]
pub struct ServerPaths {
    pub bin: PathBuf,
    pub dist: PathBuf,
    pub static_dir: PathBuf,
}

impl ServerPaths {
    /// From `LENSCAST_SERVER_BIN`, `LENSCAST_DIST`, `LENSCAST_STATIC`; the fallbacks are the
    /// server binary next to this test executable's profile folder (`target/<dir>/debug/`),
    /// `<root>/dist` and `<root>/static`.
    pub fn from_env() -> Result<Self> {
        let bin = if let Some(bin) = env_path("LENSCAST_SERVER_BIN") {
            bin
        } else {
            // Test executables live in target/<dir>/<profile>/deps/.
            let exe = std::env::current_exe()?;
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .context("test executable has no profile folder")?;
            profile_dir.join("lenscast-server")
        };
        if !bin.is_file() {
            bail!(
                "no server binary at {} (build it with `cargo build -p server`, or set LENSCAST_SERVER_BIN)",
                bin.display()
            );
        }
        let root = workspace_root();
        let dist = env_path("LENSCAST_DIST").unwrap_or_else(|| root.join("dist"));
        if !dist.join("index.html").is_file() {
            bail!(
                "no built frontend in {} (run `trunk build --release --offline`, or set LENSCAST_DIST)",
                dist.display()
            );
        }
        let static_dir = env_path("LENSCAST_STATIC").unwrap_or_else(|| root.join("static"));
        Ok(Self {
            bin,
            dist,
            static_dir,
        })
    }
}

/// The real `lenscast-server` running as a child process on a loopback port, its logs in
/// `target/e2e/server-<port>.log`. Dropping it kills the process.
pub struct Server {
    launch: Launch,
    addr: SocketAddr,
    process: Option<ServerProcess>,
}

impl Server {
    /// Starts the server on a free port with the paths from the environment.
    pub async fn start() -> Result<Self> {
        Self::start_with(ServerPaths::from_env()?, &[]).await
    }

    /// Starts the server with extra command-line flags (e.g. `["--max-viewers", "2"]`).
    pub async fn start_with_args(extra_args: &[&str]) -> Result<Self> {
        Self::start_with(ServerPaths::from_env()?, extra_args).await
    }

    pub async fn start_with(paths: ServerPaths, extra_args: &[&str]) -> Result<Self> {
        // A fixed port rather than 0: a restarted server must come back where the page and
        // its links expect it.
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let launch = Launch::new(&paths.bin)
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--dist")
            .arg(&paths.dist)
            .arg("--static")
            .arg(&paths.static_dir)
            // Room ids are MACs under this secret: the same file across `restart` is what lets
            // a room (and its links) outlive the process; it also keeps tests out of $HOME.
            .arg("--secret-file")
            .arg(artifacts_dir()?.join(format!("server-{}.secret", addr.port())))
            .args(extra_args)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .output(Output::File(
                artifacts_dir()?.join(format!("server-{}.log", addr.port())),
            ));
        let mut server = Self {
            launch,
            addr,
            process: None,
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&mut self) -> Result<()> {
        let process = self.launch.start().await?;
        ensure!(
            process.addr() == self.addr,
            "the server announced {} instead of {}",
            process.addr(),
            self.addr
        );
        self.process = Some(process);
        Ok(())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `ws://127.0.0.1:<port>` + `path`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// Kills the process and waits for it to exit (the port is free afterwards).
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(process) = self.process.take() {
            process.kill().await?;
        }
        Ok(())
    }

    /// Starts the server again on the same port (after [`Server::kill`], or kills it first).
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await?;
        // The kernel may need a moment before the port can be bound again.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn().await {
                Ok(()) => return Ok(()),
                Err(err) if Instant::now() < deadline => {
                    eprintln!("restart: {err:#}; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => return Err(err),
            }
        }
    }
}
