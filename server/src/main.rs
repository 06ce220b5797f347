//! `lenscast-server`: flags and environment into a [`server::Config`], then serve.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{ArgAction, Parser, builder::FalseyValueParser};
use server::{
    AppState, Config,
    secret::{self, Origin, Secret},
    tls::TlsSource,
};
use tokio::net::TcpSocket;

/// lenscast server: rooms, WebSocket ingest of JPEG frames, MJPEG fan-out to viewers.
#[derive(Parser)]
#[command(name = "lenscast-server", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "LENSCAST_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder of the built frontend, served at `/`.
    #[arg(long, env = "LENSCAST_DIST", default_value = "dist")]
    dist: PathBuf,
    /// Folder of the viewer page and its files, served at `/static/`.
    #[arg(long = "static", env = "LENSCAST_STATIC", default_value = "static")]
    static_dir: PathBuf,
    /// Largest accepted JPEG frame in bytes.
    #[arg(long, env = "LENSCAST_MAX_FRAME_BYTES", default_value_t = Config::default().max_frame_bytes)]
    max_frame_bytes: usize,
    /// Largest accepted frame width and height in pixels.
    #[arg(long, env = "LENSCAST_MAX_FRAME_DIM", default_value_t = Config::default().max_frame_dim)]
    max_frame_dim: u32,
    /// Rooms that may exist at once.
    #[arg(long, env = "LENSCAST_MAX_ROOMS", default_value_t = Config::default().max_rooms)]
    max_rooms: usize,
    /// Viewers (open MJPEG streams) per room.
    #[arg(long, env = "LENSCAST_MAX_VIEWERS_PER_ROOM", default_value_t = Config::default().max_viewers_per_room)]
    max_viewers_per_room: usize,
    /// Open MJPEG streams per client address (IPv4, or IPv6 /64); more get 429.
    #[arg(long, env = "LENSCAST_MAX_VIEWERS_PER_ADDRESS", default_value_t = Config::default().max_viewers_per_address)]
    max_viewers_per_address: usize,
    /// Open connections (plain or TLS) per client address (trusted proxies exempt); more are
    /// refused (429 on plain HTTP, closed before the handshake on TLS).
    #[arg(long, env = "LENSCAST_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = Config::default().max_connections_per_address)]
    max_connections_per_address: usize,
    /// Frames per second one publisher may send on average (bursts of twice as many are
    /// fine); faster frames are dropped.
    #[arg(long, env = "LENSCAST_MAX_PUBLISH_FPS", default_value_t = Config::default().max_publish_fps)]
    max_publish_fps: NonZeroU32,
    /// Rooms one client address may create per minute (all at once if it likes); more get 429.
    #[arg(long, env = "LENSCAST_MAX_ROOMS_PER_MINUTE", default_value_t = Config::default().max_rooms_per_minute)]
    max_rooms_per_minute: NonZeroU32,
    /// Seconds a room without publisher and viewers is kept.
    #[arg(long, env = "LENSCAST_ROOM_IDLE_SECS", default_value_t = Config::default().room_idle.as_secs())]
    room_idle_secs: u64,
    /// Seconds a client may take to send a request's head before its connection is closed.
    #[arg(long, env = "LENSCAST_REQUEST_HEAD_TIMEOUT_SECS", default_value_t = Config::default().request_head_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    request_head_timeout_secs: u64,
    /// Seconds a viewer may accept no stream bytes before it is dropped (freeing its frame).
    #[arg(long, env = "LENSCAST_VIEWER_WRITE_TIMEOUT_SECS", default_value_t = Config::default().viewer_write_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    viewer_write_timeout_secs: u64,
    /// Bytes the server queues for a publisher that does not read its socket; past them,
    /// replies are dropped and pongs coalesced.
    #[arg(long, env = "LENSCAST_MAX_WS_WRITE_BUFFER_BYTES", default_value_t = Config::default().max_ws_write_buffer_bytes, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    max_ws_write_buffer_bytes: usize,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For`
    /// names the client, for the per-client limits; none means the TCP peer is the client.
    #[arg(long = "trusted-proxy", env = "LENSCAST_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins allowed to call the API from other sites (comma-separated, `*` for any);
    /// none means same-origin only.
    #[arg(
        long = "cors-origin",
        env = "LENSCAST_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// PEM certificate chain for https (with --tls-key).
    #[arg(long, env = "LENSCAST_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for https (with --tls-cert).
    #[arg(long, env = "LENSCAST_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve https with a certificate made at start for this machine's names.
    #[arg(long, env = "LENSCAST_TLS_SELF_SIGNED", action = ArgAction::SetTrue,
          value_parser = FalseyValueParser::new(), conflicts_with = "tls_cert")]
    tls_self_signed: bool,
    // A plain string, not a doc comment: the help shows the paths as they are.
    #[arg(
        long,
        env = "LENSCAST_SECRET_FILE",
        help = "File holding the server secret (64 hex digits), the key of room ids and \
                publish tokens: with the same secret, rooms and their links survive a \
                restart. Created (mode 0600) if missing. Default: \
                $XDG_STATE_HOME/lenscast/secret, else $HOME/.local/state/lenscast/secret. \
                The variable LENSCAST_SECRET (64 hex digits) overrides it."
    )]
    secret_file: Option<PathBuf>,
    /// NATS servers joining this node to the others that share its secret
    /// (`nats://HOST:PORT`, comma-separated); none runs a single server on its own.
    #[arg(long, env = "LENSCAST_CLUSTER_URL")]
    cluster_url: Option<String>,
    /// This node's name in the cluster, logs and metrics [default: host name and port].
    #[arg(long, env = "LENSCAST_NODE_ID")]
    node_id: Option<String>,
}

/// An address range (`10.0.0.0/8`) or a single address (`10.0.0.1`).
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor an address/prefix range"))
}

/// The secret from `LENSCAST_SECRET`, else from the secret file (made if missing), else
/// (no file can be written) a fresh one that lives as long as this process.
fn load_secret(file: Option<PathBuf>) -> anyhow::Result<Secret> {
    // Only an environment variable, never a flag: command lines are visible to every user.
    if let Some(hex) = std::env::var_os("LENSCAST_SECRET").filter(|v| !v.is_empty()) {
        let hex = hex
            .into_string()
            .map_err(|_| anyhow::anyhow!("LENSCAST_SECRET is not 64 hex digits"))?;
        tracing::info!("server secret from LENSCAST_SECRET");
        return Ok(Secret::from_hex(&hex, "in LENSCAST_SECRET")?);
    }
    let Some(path) = file.or_else(secret::default_path) else {
        tracing::warn!(
            "no secret file (HOME unset, no --secret-file); rooms will not survive a restart"
        );
        return Ok(Secret::random()?);
    };
    let (secret, origin) = Secret::load_or_create(&path)?;
    match origin {
        Origin::Loaded => tracing::info!(path = %path.display(), "server secret loaded"),
        Origin::Created => tracing::info!(path = %path.display(), "server secret created"),
        Origin::Ephemeral => {}
    }
    Ok(secret)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries only the `listening on` line scripts wait for.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    // Every viewer is a socket: the default soft limit (often 1024) is far too low.
    if let Err(err) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %err, "cannot raise the open-file limit");
    }
    let secret = load_secret(args.secret_file).context("server secret")?;
    let config = Config {
        max_frame_bytes: args.max_frame_bytes,
        max_frame_dim: args.max_frame_dim,
        max_rooms: args.max_rooms,
        max_viewers_per_room: args.max_viewers_per_room,
        max_viewers_per_address: args.max_viewers_per_address,
        max_connections_per_address: args.max_connections_per_address,
        max_publish_fps: args.max_publish_fps,
        max_rooms_per_minute: args.max_rooms_per_minute,
        room_idle: Duration::from_secs(args.room_idle_secs),
        request_head_timeout: Duration::from_secs(args.request_head_timeout_secs),
        viewer_write_timeout: Duration::from_secs(args.viewer_write_timeout_secs),
        max_ws_write_buffer_bytes: args.max_ws_write_buffer_bytes,
        trusted_proxies: args.trusted_proxies,
        cors_origins: args.cors_origins,
        secret,
        cluster_url: args.cluster_url.filter(|u| !u.is_empty()),
        node_id: args.node_id.filter(|n| !n.is_empty()),
    };
    let tls = match (args.tls_cert, args.tls_key, args.tls_self_signed) {
        (Some(cert), Some(key), _) => Some(TlsSource::Files { cert, key }),
        (_, _, true) => Some(TlsSource::SelfSigned),
        _ => None,
    };
    let listener = bind(args.addr).with_context(|| format!("cannot listen on {}", args.addr))?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config, args.dist, args.static_dir);
    match tls {
        None => {
            announce("http", addr);
            server::run(listener, state, shutdown_signal()).await?;
        }
        Some(source) => {
            let tls = server::tls::config(&source, addr).await?;
            announce("https", addr);
            server::run_tls(listener.into_std()?, tls, state, shutdown_signal()).await?;
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// A listener that can rebind at once after a restart (`SO_REUSEADDR`), with a backlog
/// deep enough for a crowd of viewers arriving together.
fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

fn announce(scheme: &str, addr: SocketAddr) {
    // Scripts and tests wait for this exact line on stdout.
    println!("listening on {scheme}://{addr}");
    tracing::info!("listening on {scheme}://{addr}");
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_ranges_or_single_addresses() {
        assert_eq!(
            parse_net("10.0.0.0/8").map(|n| n.to_string()),
            Ok("10.0.0.0/8".into())
        );
        assert_eq!(
            parse_net("10.0.0.1").map(|n| n.to_string()),
            Ok("10.0.0.1/32".into())
        );
        assert_eq!(
            parse_net("::1").map(|n| n.to_string()),
            Ok("::1/128".into())
        );
        assert!(parse_net("proxy.local").is_err());
        assert!(parse_net("10.0.0.0/33").is_err());
    }
}
