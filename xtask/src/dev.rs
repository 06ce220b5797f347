//! `cargo xtask dev`: the debug server on :8080 and `trunk serve` (live reload) on :8081; one
//! Ctrl-C stops both.
//!
//! trunk serves the app and passes everything else the app links to on to the server (the
//! `[[proxy]]` entries of Trunk.toml): `/api/`, `/ws/`, and the viewer page `/watch/{room}`
//! with its `/static/` files, so share links and QR codes made on :8081 work there. Its debug
//! build goes to `target/dev/dist` (`target/dev-check/dist` for a check), never over the
//! release build in `dist/` that `cargo xtask run` serves.
//!
//! `--check` tests all that (a step of `cargo xtask test`): it starts both on free ports, waits
//! for trunk's first build, then through trunk makes a room, publishes to it over a WebSocket,
//! loads its viewer page and that page's files, and stops both.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    thread::sleep,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};

use crate::{
    children::{self, Group},
    http,
    steps::{Ctx, run},
};

/// trunk's first debug build of the frontend compiles every wasm dependency: minutes on a
/// cold cache and two cores.
const FIRST_BUILD_TIMEOUT: Duration = Duration::from_mins(15);

/// Where the server listens in Trunk.toml's `[[proxy]]` backends.
const TRUNK_TOML_SERVER: &str = "127.0.0.1:8080";

pub struct Options {
    /// trunk's port (default 8081).
    pub port: Option<u16>,
    /// The server's port (default 8080).
    pub server_port: Option<u16>,
    pub check: bool,
}

pub fn dev(ctx: &Ctx, options: &Options) -> Result<()> {
    // A check picks free ports so it runs beside a dev loop, or anything else on 8080/8081.
    let port = |given: Option<u16>, default| match given {
        Some(port) => Ok(port),
        None if options.check => free_port(),
        None => Ok(default),
    };
    let app = SocketAddr::from((Ipv4Addr::LOCALHOST, port(options.port, 8081)?));
    let server_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port(options.server_port, 8080)?));

    run(ctx
        .cargo()
        .args(["build", "--package", "server", "--bin", "lenscast-server"]))?;
    // Under the workspace root even with another CARGO_TARGET_DIR: trunk runs cargo in the
    // config's folder, and cargo finds .cargo/config.toml (the wasm rustflags) only above it.
    // A check has its own, so it never clears the build of a dev loop running beside it.
    let dev_dir = ctx.root.join(if options.check {
        "target/dev-check"
    } else {
        "target/dev"
    });
    let config = trunk_config(ctx, &dev_dir, server_addr)?;
    let dist = dev_dir.join("dist");
    // trunk swaps in a new build only once it succeeds: a failed first build would serve the
    // last session's app (and let a check pass on it).
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .with_context(|| format!("cannot remove the last dev build in {}", dist.display()))?;
    }
    let static_dir = ctx.root.join("static");

    children::catch_stop_signals()?;
    let mut server = Group::spawn(
        "lenscast-server",
        ctx.cmd(ctx.target_dir().join("debug/lenscast-server"))
            .arg("--addr")
            .arg(server_addr.to_string())
            // The dev build, so :8080 shows the same app as :8081 (without live reload).
            .arg("--dist")
            .arg(&dist)
            .arg("--static")
            .arg(&static_dir)
            // The app's pages come from trunk's origin, which the server would refuse as
            // another site's for room creation and publishing.
            .arg("--cors-origin")
            .arg(format!(
                "http://{app},http://localhost:{port}",
                port = app.port()
            )),
    )?;
    let mut trunk = Group::spawn(
        "trunk serve",
        ctx.cmd("trunk")
            .arg("--config")
            .arg(&config)
            .args(["serve", "--offline", "--port"])
            .arg(app.port().to_string())
            .arg("--dist")
            .arg(&dist)
            // The frontend and the filters it compiles in: an edit to either rebuilds.
            .arg("--watch")
            .arg(ctx.root.join("frontend"))
            .arg("--watch")
            .arg(ctx.root.join("filters"))
            .arg(ctx.root.join("frontend/index.html")),
    )?;

    let outcome = if options.check {
        check(app, &dist, &static_dir, &mut [&mut server, &mut trunk])
    } else {
        println!(
            "\nlenscast dev: open http://{app}/ once trunk has built the app \
             (server on http://{server_addr}/); Ctrl-C stops both\n"
        );
        wait(&mut [&mut server, &mut trunk])
    };
    children::stop_all(&mut [&mut server, &mut trunk]);
    outcome
}

/// Trunk.toml with the server's address in its proxies, written to `dir/Trunk.toml`.
///
/// trunk takes one proxy from its command line and reads the others only from a config file,
/// so a server port other than 8080 needs a config file of its own. Trunk.toml stays the one
/// list of what is proxied (and what a bare `trunk serve` beside `cargo run -p server` uses).
/// Relative paths in it would now resolve against `dir`: `dev` passes its paths to trunk as
/// absolute ones on the command line.
fn trunk_config(ctx: &Ctx, dir: &Path, server: SocketAddr) -> Result<PathBuf> {
    let original = std::fs::read_to_string(ctx.root.join("Trunk.toml"))?;
    ensure!(
        original.contains(TRUNK_TOML_SERVER),
        "Trunk.toml: no proxy to {TRUNK_TOML_SERVER} to point at the dev server"
    );
    let config = format!(
        "# Made by `cargo xtask dev` from Trunk.toml: the server is on {server}.\n\n{}",
        original.replace(TRUNK_TOML_SERVER, &server.to_string())
    );
    std::fs::create_dir_all(dir)?;
    let path = dir.join("Trunk.toml");
    std::fs::write(&path, config).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn free_port() -> Result<u16> {
    // Free the moment the listener closes; taken again by the child a moment later.
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Until Ctrl-C (`Ok`) or until a child exits on its own (an error).
fn wait(groups: &mut [&mut Group]) -> Result<()> {
    loop {
        if children::stop_requested() {
            println!("\nlenscast dev: stopping the server and trunk");
            return Ok(());
        }
        for group in groups.iter_mut() {
            group.ensure_running()?;
        }
        sleep(Duration::from_millis(200));
    }
}

/// What a developer does first: open the app, make a room, open its share link.
fn check(app: SocketAddr, dist: &Path, static_dir: &Path, groups: &mut [&mut Group]) -> Result<()> {
    let started = Instant::now();
    let ready = |res: &http::Response| res.status == 200 && contains(&res.body, b"_bg.wasm");
    loop {
        ensure!(!children::stop_requested(), "stopped before the check ran");
        for group in groups.iter_mut() {
            group.ensure_running()?;
        }
        if http::request(app, "GET", "/").is_ok_and(|res| ready(&res)) {
            break;
        }
        if started.elapsed() > FIRST_BUILD_TIMEOUT {
            bail!("trunk has not served the app on {app} after {FIRST_BUILD_TIMEOUT:?}");
        }
        sleep(Duration::from_secs(1));
    }
    println!(
        "dev check: trunk serves the app on {app} after {:.0?}",
        started.elapsed()
    );
    ensure!(
        dist.join("index.html").is_file(),
        "trunk's dev build is not in {}",
        dist.display()
    );

    let res = http::request(app, "POST", "/api/rooms")?;
    ensure!(
        res.status == 201,
        "POST /api/rooms through {app}: {} (want 201 from the server)",
        res.status
    );
    let room: serde_json::Value =
        serde_json::from_slice(&res.body).context("POST /api/rooms: the answer is not JSON")?;
    let field = |name: &str| {
        room[name]
            .as_str()
            .with_context(|| format!("POST /api/rooms: no {name} in the answer"))
    };
    let (id, token, watch_url) = (field("room")?, field("publish_token")?, field("watch_url")?);
    println!("dev check: POST /api/rooms through {app}: 201, share link {watch_url}");

    // Publishing is a WebSocket: trunk answers the handshake itself and then connects to the
    // server, so only the server saying the room is live proves the connection went through.
    let publish = format!("/ws/rooms/{id}/publish?token={token}");
    let _publisher = http::websocket(app, &publish)?;
    let live = || {
        http::request(app, "GET", &format!("/api/rooms/{id}")).is_ok_and(|res| {
            serde_json::from_slice::<serde_json::Value>(&res.body)
                .is_ok_and(|state| state["live"] == true)
        })
    };
    let asked = Instant::now();
    while !live() {
        ensure!(
            asked.elapsed() < Duration::from_secs(30),
            "a publisher on {publish} through {app}: the server never saw it (room not live)"
        );
        sleep(Duration::from_millis(200));
    }
    println!("dev check: WebSocket {publish} through {app}: the room is live");

    // The server sends static/watch.html as it is: anything else (the app's index.html, which
    // trunk answers for paths it does not proxy) fails.
    let page = std::fs::read(static_dir.join("watch.html"))?;
    expect_file(app, watch_url, &page)?;
    let assets = static_paths(&String::from_utf8_lossy(&page));
    ensure!(
        !assets.is_empty(),
        "static/watch.html loads nothing from /static/: the check would miss that proxy"
    );
    for path in &assets {
        let file = path.trim_start_matches("/static/");
        expect_file(app, path, &std::fs::read(static_dir.join(file))?)?;
    }
    println!(
        "dev check: passed in {:.0?} (app, room, publisher, viewer page and {} of its files \
         through {app})",
        started.elapsed(),
        assets.len()
    );
    Ok(())
}

/// `GET path` through `app` answers 200 with exactly `want`.
fn expect_file(app: SocketAddr, path: &str, want: &[u8]) -> Result<()> {
    let res = http::request(app, "GET", path)?;
    ensure!(
        res.status == 200 && res.body == want,
        "GET {path} through {app}: {} with {} bytes, want 200 with the server's {} bytes",
        res.status,
        res.body.len(),
        want.len()
    );
    println!("dev check: GET {path} through {app}: 200, the server's file");
    Ok(())
}

/// The `"/static/…"` URLs in a page, in order, without repeats.
fn static_paths(page: &str) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for (start, _) in page.match_indices("\"/static/") {
        let rest = &page[start + 1..];
        let path = &rest[..rest.find('"').unwrap_or(rest.len())];
        if !paths.iter().any(|known| known == path) {
            paths.push(path.to_owned());
        }
    }
    paths
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::static_paths;

    #[test]
    fn static_paths_finds_each_file_once() {
        let page =
            r#"<link href="/static/a.css"><img src="/static/a.css"><script src="/static/b.js">"#;
        assert_eq!(static_paths(page), ["/static/a.css", "/static/b.js"]);
    }
}
