//! Headless Chromium driven through chromedriver (`WebDriver`, via `fantoccini`):
//! [`BrowserOptions`] say how to start it (fake camera, window size, flags), [`Browser`] is
//! one session with helpers that wait for page conditions, run scripts, read canvases and
//! save screenshots.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use testkit::temp::TempDir;
use tokio::process::{Child, Command};

use crate::{
    images::Image,
    paths::{artifacts_dir, env_path, free_port},
};

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

/// Waits until something accepts TCP connections on `addr`, or `child` exits, or `timeout`.
/// chromedriver announces nothing a script can rely on, so its port is polled (the server,
/// which does, is waited for by its announcement: `testkit::process`).
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

        let profile = testkit::temp::temp_dir("e2e-chromium");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": options.chrome_args(profile.path()),
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
        kill_profile_processes(self.profile.path());
    }
}
