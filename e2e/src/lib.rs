//! Harness for the browser end-to-end tests: the real server binary, headless Chromium
//! driven through chromedriver (`WebDriver`, via `fantoccini`), and a fake camera fed from a
//! Y4M file of known colours.
//!
//! - [`Server`] runs `lenscast-server` as a child process on a free loopback port; it can be
//!   killed and restarted on the same port (reconnect tests).
//! - [`Browser`] starts chromedriver and one headless Chromium session with a fake camera
//!   ([`BrowserOptions`]); helpers wait for page conditions, read the `#preview` canvas
//!   ([`Browser::preview_image`]) and save screenshots to `target/e2e/` ([`Browser::screenshot`]).
//! - [`mjpeg`] reads a room's `stream.mjpg` as an independent viewer.
//! - [`y4m`] writes test videos: vertical colour bars of [`y4m::BARS`] with known luma.
//!
//! Everything is found through environment variables with fallbacks that work from a plain
//! `cargo test -p e2e` in this workspace: `LENSCAST_SERVER_BIN`, `LENSCAST_DIST`,
//! `LENSCAST_STATIC`, `CHROMEDRIVER`, `CHROMIUM`. Tests using the harness are `#[ignore]`d
//! (they need the built frontend and Chromium) and run by `cargo xtask test`.

pub mod mjpeg;
pub mod y4m;

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The workspace root (the e2e crate lives one folder below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives one folder below the workspace root")
        .to_path_buf()
}

/// `target/e2e/` under the workspace root: screenshots and generated videos go there.
pub fn artifacts_dir() -> Result<PathBuf> {
    let dir = workspace_root().join("target").join("e2e");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// Waits until something accepts TCP connections on `addr`, or `child` exits, or `timeout`.
async fn wait_listening(
    addr: SocketAddr,
    child: &mut Child,
    what: &str,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited before listening on {addr} ({status})");
        }
        if Instant::now() > deadline {
            bail!("{what} did not listen on {addr} within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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

/// The real `lenscast-server` running as a child process on a loopback port.
/// Dropping it kills the process.
pub struct Server {
    paths: ServerPaths,
    addr: SocketAddr,
    extra_args: Vec<String>,
    child: Option<Child>,
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
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let mut server = Self {
            paths,
            addr,
            extra_args: extra_args.iter().map(ToString::to_string).collect(),
            child: None,
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&mut self) -> Result<()> {
        let log = std::fs::File::create(
            artifacts_dir()?.join(format!("server-{}.log", self.addr.port())),
        )?;
        let mut child = Command::new(&self.paths.bin)
            .arg("--addr")
            .arg(self.addr.to_string())
            .arg("--dist")
            .arg(&self.paths.dist)
            .arg("--static")
            .arg(&self.paths.static_dir)
            // Room ids are MACs under this secret: the same file across `restart` is what lets
            // a room (and its links) outlive the process; it also keeps tests out of $HOME.
            .arg("--secret-file")
            .arg(artifacts_dir()?.join(format!("server-{}.secret", self.addr.port())))
            .args(&self.extra_args)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.paths.bin.display()))?;
        wait_listening(
            self.addr,
            &mut child,
            "lenscast-server",
            Duration::from_secs(15),
        )
        .await?;
        self.child = Some(child);
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
        self.child.is_some()
    }

    /// Kills the process and waits for it to exit (the port is free afterwards).
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.context("cannot kill lenscast-server")?;
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

/// How to start Chromium.
#[derive(Clone, Debug)]
pub struct BrowserOptions {
    /// Fake camera frames from this `.y4m`/`.mjpeg` file; `None`: Chromium's built-in
    /// 1280×720 test pattern.
    pub fake_video: Option<PathBuf>,
    /// Whether to add the fake camera flags at all.
    pub fake_camera: bool,
    /// Parameters of the built-in fake camera, e.g. `fps=30` (its default rate is 20 fps):
    /// `--use-fake-device-for-media-stream=<params>`.
    pub fake_camera_params: Option<String>,
    /// Browser window size in CSS pixels.
    pub window: (u32, u32),
    /// More Chromium flags.
    pub extra_args: Vec<String>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            fake_video: None,
            fake_camera: true,
            fake_camera_params: None,
            window: (1280, 800),
            extra_args: Vec::new(),
        }
    }
}

impl BrowserOptions {
    #[must_use]
    pub fn with_fake_video(mut self, path: impl Into<PathBuf>) -> Self {
        self.fake_video = Some(path.into());
        self
    }

    #[must_use]
    pub fn with_window(mut self, width: u32, height: u32) -> Self {
        self.window = (width, height);
        self
    }

    #[must_use]
    pub fn with_arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    fn chrome_args(&self, profile: &Path) -> Vec<String> {
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--autoplay-policy=no-user-gesture-required",
            // Keep timers and rAF at full speed although nobody looks at the window.
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={},{}", self.window.0, self.window.1));
        if self.fake_camera {
            args.push("--use-fake-ui-for-media-stream".into());
            args.push(match &self.fake_camera_params {
                Some(params) => format!("--use-fake-device-for-media-stream={params}"),
                None => "--use-fake-device-for-media-stream".into(),
            });
            if let Some(video) = &self.fake_video {
                args.push(format!(
                    "--use-file-for-fake-video-capture={}",
                    video.display()
                ));
            }
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }
}

/// A fresh, uniquely named folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills every process whose command line names `profile` as its `--user-data-dir`:
/// Chromium and its helpers. Chromium outlives chromedriver when a session is not closed
/// (a failing test returns early), and each [`Browser`] has its own profile folder, so this
/// only ever hits that browser's processes.
fn kill_profile_processes(profile: &Path) {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == needle.as_bytes())
        {
            let _ = std::process::Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// An RGBA8 image read back from the page.
#[derive(Clone, Debug)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Image {
    /// The pixel at (`x`, `y`) as `[r, g, b, a]`.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside {}x{}",
            self.width,
            self.height
        );
        let i = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// Mean `[r, g, b]` of the rectangle given as fractions of the image size
    /// (`x0..x1`, `y0..y1` in 0..=1).
    pub fn mean_rgb(&self, x0: f64, x1: f64, y0: f64, y1: f64) -> [f64; 3] {
        let w = f64::from(self.width);
        let h = f64::from(self.height);
        let (xa, xb) = ((x0 * w) as u32, ((x1 * w) as u32).min(self.width));
        let (ya, yb) = ((y0 * h) as u32, ((y1 * h) as u32).min(self.height));
        let mut sum = [0.0; 3];
        let mut n = 0.0;
        for y in ya..yb {
            for x in xa..xb {
                let p = self.pixel(x, y);
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
                n += 1.0;
            }
        }
        assert!(n > 0.0, "empty rectangle");
        sum.map(|s| s / n)
    }

    /// The largest |r−g|, |g−b|, |r−b| over all pixels: 0 for a gray image.
    pub fn max_channel_spread(&self) -> u8 {
        self.rgba
            .chunks_exact(4)
            .map(|p| {
                p[0].abs_diff(p[1])
                    .max(p[1].abs_diff(p[2]))
                    .max(p[0].abs_diff(p[2]))
            })
            .max()
            .unwrap_or(0)
    }
}

/// chromedriver plus one Chromium session. Call [`Browser::close`] at the end of a test;
/// dropping it (e.g. when a test fails early) kills chromedriver and Chromium anyway.
pub struct Browser {
    client: Client,
    _chromedriver: Child,
    profile: TempDir,
}

impl Browser {
    /// Starts chromedriver (`CHROMEDRIVER`, default `/usr/bin/chromedriver`) on a free port and
    /// opens a headless Chromium session (`CHROMIUM`, default `/usr/bin/chromium`).
    pub async fn launch(options: &BrowserOptions) -> Result<Self> {
        let driver = env_path("CHROMEDRIVER").unwrap_or_else(|| "/usr/bin/chromedriver".into());
        let chromium = env_path("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into());
        let port = free_port()?;
        let log = std::fs::File::create(artifacts_dir()?.join(format!("chromedriver-{port}.log")))?;
        let mut chromedriver = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", driver.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        wait_listening(
            addr,
            &mut chromedriver,
            "chromedriver",
            Duration::from_secs(15),
        )
        .await?;

        let profile = TempDir::new("lenscast-e2e-chromium")?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": options.chrome_args(&profile.0),
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://{addr}"))
            .await
            .context("cannot open a Chromium session through chromedriver")?;
        Ok(Self {
            client,
            _chromedriver: chromedriver,
            profile,
        })
    }

    /// The `WebDriver` client, for anything the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("cannot open {url}"))
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its result.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.client
            .execute(script, args)
            .await
            .with_context(|| format!("script failed: {script}"))
    }

    /// Polls `script` every 100 ms until it returns something other than `null`, `false`,
    /// `undefined`, `0` or `""`; returns that value. On timeout the error includes the page text.
    pub async fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(script, vec![]).await?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(value);
            }
            if Instant::now() > deadline {
                let text = self.page_text().await.unwrap_or_default();
                bail!("timed out after {timeout:?} waiting for {what}; page text:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's visible text (`document.body.innerText`).
    pub async fn page_text(&self) -> Result<String> {
        let value = self
            .eval(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The text of the element matching `selector`, or `None` if there is none.
    pub async fn text_of(&self, selector: &str) -> Result<Option<String>> {
        let value = self
            .eval(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![json!(selector)],
            )
            .await?;
        Ok(value.as_str().map(ToOwned::to_owned))
    }

    /// Clicks the element matching `selector` (through the DOM, so it works when it is scrolled
    /// out of view too).
    pub async fn click(&self, selector: &str) -> Result<()> {
        let found = self
            .eval(
                "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true;",
                vec![json!(selector)],
            )
            .await?;
        if found != Value::Bool(true) {
            bail!("no element matches {selector}");
        }
        Ok(())
    }

    /// The processed-frame counter the app exposes in `window.__lenscast_stats.frames`
    /// (0 when the app has not started a source).
    pub async fn frames_processed(&self) -> Result<u64> {
        let value = self
            .eval(
                "const s = window.__lenscast_stats; return s ? s.frames : 0;",
                vec![],
            )
            .await?;
        Ok(value.as_f64().unwrap_or(0.0) as u64)
    }

    /// Waits until at least `count` frames have been processed (on top of any already counted).
    pub async fn wait_for_frames(&self, count: u64, timeout: Duration) -> Result<()> {
        let script = format!(
            "const s = window.__lenscast_stats; return !!s && s.frames >= {};",
            self.frames_processed().await? + count
        );
        self.wait_for(&format!("{count} processed frames"), &script, timeout)
            .await
            .map(drop)
    }

    /// The app's live stats object (`window.__lenscast_stats`), `null` if absent.
    pub async fn stats(&self) -> Result<Value> {
        self.eval("return window.__lenscast_stats ? JSON.parse(JSON.stringify(window.__lenscast_stats)) : null;", vec![])
            .await
    }

    /// Reads the pixels of the canvas matching `selector` by drawing it onto a fresh 2D canvas.
    pub async fn canvas_image(&self, selector: &str) -> Result<Image> {
        const SCRIPT: &str = r"
            const c = document.querySelector(arguments[0]);
            if (!c || !c.width || !c.height) return null;
            const t = document.createElement('canvas');
            t.width = c.width; t.height = c.height;
            const g = t.getContext('2d');
            g.drawImage(c, 0, 0);
            const data = g.getImageData(0, 0, c.width, c.height).data;
            let bin = '';
            for (let i = 0; i < data.length; i += 0x8000) {
                bin += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
            }
            return { width: c.width, height: c.height, rgba: btoa(bin) };
        ";
        let value = self.eval(SCRIPT, vec![json!(selector)]).await?;
        if value.is_null() {
            bail!("no sized canvas matches {selector}");
        }
        let dim = |key: &str| -> Result<u32> {
            let n = value[key]
                .as_u64()
                .with_context(|| format!("canvas {key} missing"))?;
            Ok(u32::try_from(n)?)
        };
        let (width, height) = (dim("width")?, dim("height")?);
        let rgba = base64::engine::general_purpose::STANDARD
            .decode(value["rgba"].as_str().context("canvas pixels missing")?)
            .context("canvas pixels are not base64")?;
        if rgba.len() != (width * height * 4) as usize {
            bail!("canvas {width}x{height} returned {} bytes", rgba.len());
        }
        Ok(Image {
            width,
            height,
            rgba,
        })
    }

    /// The `#preview` canvas pixels.
    pub async fn preview_image(&self) -> Result<Image> {
        self.canvas_image("#preview").await
    }

    /// Saves a PNG screenshot of the page to `target/e2e/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("screenshot failed")?;
        let path = artifacts_dir()?.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the `WebDriver` session (closing Chromium); chromedriver ends on drop.
    pub async fn close(self) -> Result<()> {
        self.client
            .clone()
            .close()
            .await
            .context("cannot close the browser session")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_profile_processes(&self.profile.0);
    }
}
