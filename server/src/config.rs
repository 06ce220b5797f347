//! Every limit the server enforces, with its default.

use std::{num::NonZeroU32, time::Duration};

use ipnet::IpNet;

use crate::secret::Secret;

/// Limits and options of one server. The binary fills it from flags and `LENSCAST_*` variables.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest accepted JPEG, in bytes (a bigger WebSocket message closes the publisher with 1009).
    pub max_frame_bytes: usize,
    /// Largest accepted width and height of a JPEG, in pixels.
    pub max_frame_dim: u32,
    /// Rooms that may exist at once; `POST /api/rooms` answers 503 past it.
    pub max_rooms: usize,
    /// Open MJPEG streams per room; more answer 503.
    pub max_viewers_per_room: usize,
    /// Open MJPEG streams per client address (IPv4, or IPv6 /64); more answer 429.
    pub max_viewers_per_address: usize,
    /// Open connections (plain or TLS) per client address (trusted proxies exempt); more are
    /// answered 429 and closed (over TLS: closed before the handshake). Streams taken over
    /// from hyper count as viewers instead.
    pub max_connections_per_address: usize,
    /// Frames per second one publisher may send on average (bursts of twice as many are
    /// fine); faster frames are dropped and the publisher is told so.
    pub max_publish_fps: NonZeroU32,
    /// `POST /api/rooms` per client address (IPv4, or IPv6 /64) and minute, all of which
    /// may come at once; more answer 429 with `Retry-After`.
    pub max_rooms_per_minute: NonZeroU32,
    /// A room with no publisher and no viewer for this long is removed.
    pub room_idle: Duration,
    /// How long a client may take to send a request's head (over TLS: also its first bytes
    /// after the handshake); then the connection is closed (a client that connects and sends
    /// nothing holds nothing).
    pub request_head_timeout: Duration,
    /// A viewer whose connection accepts no bytes for this long is dropped: a stalled
    /// client must not pin the frame it stalled on (and its in-memory file) forever.
    pub viewer_write_timeout: Duration,
    /// The most a publisher's WebSocket queues for a client that does not read. Replies past
    /// it are dropped and pongs coalesced, so a ping flood cannot grow memory.
    pub max_ws_write_buffer_bytes: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the per-client limits
    /// and the log); empty means the TCP peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Origins allowed to call the HTTP API from other sites; empty means same-origin only.
    pub cors_origins: Vec<String>,
    /// The key of room ids and publish tokens: the same secret after a restart keeps every
    /// room link and token working. The default is a fresh one (rooms end with the process);
    /// the binary loads a persistent one with [`Secret::load_or_create`].
    pub secret: Secret,
    /// NATS servers (`nats://HOST:PORT`, comma-separated) joining this node to the others
    /// that share the secret; `None` is a single server on its own.
    pub cluster_url: Option<String>,
    /// This node's name in the cluster, logs and metrics; `None` is the host name and
    /// port.
    pub node_id: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_bytes: 2 * 1024 * 1024,
            max_frame_dim: 4096,
            max_rooms: 1000,
            max_viewers_per_room: 5000,
            max_viewers_per_address: 256,
            max_connections_per_address: 512,
            max_publish_fps: NonZeroU32::new(60).expect("60 is not zero"),
            max_rooms_per_minute: NonZeroU32::new(30).expect("30 is not zero"),
            room_idle: Duration::from_mins(10),
            request_head_timeout: Duration::from_secs(30),
            viewer_write_timeout: Duration::from_secs(30),
            max_ws_write_buffer_bytes: 64 * 1024,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            secret: Secret::from_bytes(rand::random()),
            cluster_url: None,
            node_id: None,
        }
    }
}
