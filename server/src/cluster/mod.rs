//! Several lenscast nodes joined through NATS core pub/sub (`--cluster-url`), so any node
//! serves any room. Without a cluster URL none of this runs.
//!
//! - [`bus`]: a frame on the bus (the JPEG unchanged, its origin in headers) and the count
//!   of frames lost on the way.
//! - [`presence`]: every node says once a second which rooms it has viewers or a publisher
//!   of; the others keep it for a few seconds. Cluster-wide viewer counts and "does any
//!   other node watch this room" come from there.
//! - `link`: one task per room in use on this node. It subscribes to the room's frames
//!   while the node has viewers and no publisher of it, feeding each arriving frame into the
//!   room as a local publisher would (framed once, every viewer served from it); it puts
//!   the local publisher's frames on the bus while another node watches; it answers
//!   snapshot requests for its publisher's room.
//! - `listen`: the node-wide subscriptions (presence, publisher announcements, ended
//!   rooms) and the presence ticker.
//!
//! A room ended on one node (`DELETE /api/rooms/{room}`) is ended on every node: the
//! ending node says so on the bus, each node's presence lists the ended rooms it holds (for
//! a node that was away from the broker then), and a node that hears of a publisher in a
//! room it holds as ended says so again.
//!
//! NATS core delivers at most once, to current subscribers only: exactly a live stream's
//! "latest frame" semantics. When the broker goes away, async-nats reconnects and
//! subscribes again by itself; meanwhile every node serves its own publishers' rooms to its
//! own viewers. A node also starts while the broker is away (it joins once it can), and
//! its frame limit follows whichever broker it is connected to (one bus message a frame).

mod bus;
mod link;
mod listen;
mod presence;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use async_nats::{Client, ConnectOptions, Event, connection::State};
use bytes::Bytes;
use protocol::{
    RoomState,
    cluster::{ENDED_SUBJECT, PublisherAnnounce, RoomEnded, snapshot_subject},
};
use thiserror::Error;
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    metrics::Metrics,
    room::{Room, lock},
    rooms::Rooms,
};

/// The longest node id (it travels in every frame's headers).
pub const MAX_NODE_ID: usize = 128;
/// How long a snapshot request waits for the publisher's node.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("node id {0:?} is not 1 to {MAX_NODE_ID} printable ASCII characters without spaces")]
    BadNodeId(String),
    #[error("cannot connect to the cluster at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("cannot subscribe to {subject}: {source}")]
    Subscribe {
        subject: &'static str,
        source: async_nats::SubscribeError,
    },
}

/// This node's membership in the cluster.
pub struct Cluster {
    pub node: String,
    client: Client,
    rooms: Arc<Rooms>,
    /// The node's room limit, for bringing a room back into memory to end it.
    max_rooms: usize,
    metrics: Arc<Metrics>,
    table: Mutex<presence::Table>,
    /// The running link task of each room in use here.
    links: Mutex<HashMap<String, JoinHandle<()>>>,
    /// Wakes the presence ticker to speak at once (a node starts or stops watching a room).
    speak: Arc<Notify>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    frame_limit: FrameLimit,
    /// The broker `max_payload` the frame limit was last fitted to (0: none yet).
    fitted_to: AtomicUsize,
}

/// The node's frame limit, shared with its publishers: `wanted` (`--max-frame-bytes`),
/// lowered in `current` while the broker's messages are smaller.
pub struct FrameLimit {
    pub wanted: usize,
    pub current: Arc<AtomicUsize>,
}

/// How long [`Cluster::join`] waits for a reachable broker before the node starts without
/// it; a broker that answers at all answers well within this.
const FIRST_CONNECT_WAIT: Duration = Duration::from_secs(3);

/// What [`Cluster::join`] needs of the node.
pub struct Membership {
    pub url: String,
    pub node: String,
    pub rooms: Arc<Rooms>,
    pub max_rooms: usize,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    pub frame_limit: FrameLimit,
}

impl Cluster {
    /// Connects to the broker and starts listening to the other nodes. A broker that is
    /// not reachable yet is not an error: the node serves its own rooms and joins the
    /// cluster in the background once the broker answers (so nodes and broker can start
    /// in any order).
    pub async fn join(m: Membership) -> Result<Arc<Self>, ClusterError> {
        if !bus::valid_node_id(&m.node) {
            return Err(ClusterError::BadNodeId(m.node));
        }
        let speak = Arc::new(Notify::new());
        let events = {
            let metrics = Arc::clone(&m.metrics);
            let speak = Arc::clone(&speak);
            move |event: Event| {
                let metrics = Arc::clone(&metrics);
                let speak = Arc::clone(&speak);
                async move {
                    match event {
                        Event::Connected => {
                            tracing::info!("cluster broker connected");
                            metrics.cluster.connected.set(1);
                            speak.notify_one();
                        }
                        Event::Disconnected => {
                            tracing::warn!("cluster broker lost; serving local rooms only");
                            metrics.cluster.connected.set(0);
                        }
                        other => tracing::debug!(event = %other, "cluster event"),
                    }
                }
            }
        };
        let client = ConnectOptions::new()
            .name(format!("lenscast {}", m.node))
            // A node never wants its own frames or presence back.
            .no_echo()
            // Frames are "latest wins": a deep queue would only add delay (64 is two
            // seconds of a 30 fps room).
            .subscription_capacity(64)
            .connection_timeout(Duration::from_secs(5))
            .ping_interval(Duration::from_secs(5))
            // Back within a second or two of the broker's return (remote viewers resume).
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(100 * attempts.min(20) as u64)
            })
            .event_callback(events)
            .retry_on_initial_connect()
            .connect(m.url.as_str())
            .await
            .map_err(|source| ClusterError::Connect {
                url: m.url.clone(),
                source,
            })?;
        // The broker's limits are known once its INFO arrived (max_payload 0 before).
        let started = Instant::now();
        while client.server_info().max_payload == 0 && started.elapsed() < FIRST_CONNECT_WAIT {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if client.server_info().max_payload == 0 {
            tracing::warn!(url = %m.url, "cluster broker not reachable yet: serving local rooms, joining when it answers");
        }
        let cluster = Arc::new(Self {
            node: m.node,
            client,
            rooms: m.rooms,
            max_rooms: m.max_rooms,
            metrics: m.metrics,
            table: Mutex::new(presence::Table::default()),
            links: Mutex::new(HashMap::new()),
            speak,
            shutdown: m.shutdown,
            tasks: m.tasks,
            frame_limit: m.frame_limit,
            fitted_to: AtomicUsize::new(0),
        });
        cluster.fit_frame_limit();
        listen::start(&cluster).await?;
        tracing::info!(node = %cluster.node, url = %m.url, "joined the cluster");
        Ok(cluster)
    }

    /// The broker's largest message, in bytes.
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }

    /// The largest JPEG that fits in one bus message.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_payload().saturating_sub(bus::HEADER_RESERVE)
    }

    /// Fits the node's frame limit to the connected broker's `max_payload`, when that is
    /// new (the first connection, or a broker back with other limits): lowered to one bus
    /// message, or back up to `--max-frame-bytes`. Says so once per change.
    fn fit_frame_limit(&self) {
        let max_payload = self.max_payload();
        if max_payload == 0 || self.fitted_to.swap(max_payload, Ordering::Relaxed) == max_payload {
            return;
        }
        let (fits, wanted) = (self.max_frame_bytes(), self.frame_limit.wanted);
        self.frame_limit
            .current
            .store(fits.min(wanted), Ordering::Relaxed);
        if fits < wanted {
            // Info, not a warning: with the defaults (2 MiB frames, a 1 MB broker) every node
            // says it, and 1 MB is still sixteen 720p frames.
            tracing::info!(
                "the broker's max_payload of {max_payload} bytes is below --max-frame-bytes {wanted}: frames are limited to {fits} bytes"
            );
        }
    }

    fn connected(&self) -> bool {
        self.client.connection_state() == State::Connected
    }

    /// A viewer joined `room` here: its link makes sure the frames come.
    pub fn viewer_joined(self: &Arc<Self>, room: &Arc<Room>) {
        self.ensure_link(room);
    }

    /// A publisher connected here: every other node closes its older publisher of the room.
    pub fn publisher_joined(self: &Arc<Self>, room: &Arc<Room>, generation: u64) {
        self.ensure_link(room);
        let announce = PublisherAnnounce {
            room: room.id.clone(),
            node: self.node.clone(),
            generation,
        };
        let client = self.client.clone();
        self.tasks.spawn(async move {
            // Serializing strings and integers cannot fail.
            let json = serde_json::to_vec(&announce).unwrap_or_default();
            if let Err(err) = client
                .publish(protocol::cluster::PUBLISHER_SUBJECT, json.into())
                .await
            {
                tracing::warn!(error = %err, "cannot announce the publisher to the cluster");
            }
        });
        self.speak.notify_one();
    }

    /// This node ended room `id`: every other node ends it too.
    pub fn room_ended(&self, id: &str) {
        let ended = RoomEnded {
            room: id.to_owned(),
            node: self.node.clone(),
        };
        let client = self.client.clone();
        self.tasks.spawn(async move {
            // Serializing strings cannot fail.
            let json = serde_json::to_vec(&ended).unwrap_or_default();
            if let Err(err) = client.publish(ENDED_SUBJECT, json.into()).await {
                // The presence still lists the room as ended: the others hear it there.
                tracing::warn!(room = %ended.room, error = %err, "cannot tell the cluster a room ended");
            }
        });
    }

    /// Ends room `id` here as a local `DELETE` would, because node `by` ended it; brought
    /// back into memory if needed, so that it reads as ended here too.
    fn end_here(&self, id: &str, by: &str) {
        // Another node's secret (a misconfigured cluster) makes ids this node never made.
        if !self.rooms.is_valid_id(id) || self.rooms.get(id).is_some_and(|r| r.is_ended()) {
            return;
        }
        if let Err(err) = self.rooms.end(id, self.max_rooms) {
            tracing::warn!(room = %id, error = %err, "cannot end a room ended elsewhere");
            return;
        }
        tracing::info!(room = %id, by = %by, "room ended on another node");
    }

    /// Starts the room's link task unless it runs.
    fn ensure_link(self: &Arc<Self>, room: &Arc<Room>) {
        let mut links = lock(&self.links);
        if links.get(&room.id).is_some_and(|task| !task.is_finished()) {
            return;
        }
        let task = self
            .tasks
            .spawn(link::run(Arc::clone(self), Arc::clone(room)));
        links.insert(room.id.clone(), task);
    }

    /// Ends the room's link if the room has neither viewers nor publisher here; called by
    /// the link itself, under the same lock as [`Cluster::ensure_link`], so a viewer that
    /// joins meanwhile either keeps the link or starts a new one.
    fn unlink_if_idle(&self, room: &Room) -> bool {
        let mut links = lock(&self.links);
        if room.local_viewers() > 0 || room.has_local_publisher() {
            return false;
        }
        links.remove(&room.id);
        true
    }

    /// `GET /api/rooms/{room}` across the cluster: `local` is this node's view (`None` if
    /// the room is not in memory here).
    pub fn room_state(&self, id: &str, local: Option<RoomState>) -> RoomState {
        let table = lock(&self.table);
        let mut state = match local {
            Some(state) => state,
            None => RoomState {
                viewers: u32::try_from(table.viewers(id)).unwrap_or(u32::MAX),
                ..RoomState::empty(id)
            },
        };
        // A node that dropped the ended room from memory still hears it from the others.
        state.ended |= table.ended(id);
        if !state.live
            && !state.ended
            && let Some((_, remote)) = table.publisher(id)
        {
            state.live = true;
            state.frames = remote.frames;
            state.fps = remote.fps;
            state.width = remote.width;
            state.height = remote.height;
        }
        state
    }

    /// The latest frame of room `id` from the node of its publisher; `None` if no node
    /// has one (or the broker is away).
    pub async fn snapshot(&self, id: &str) -> Option<Bytes> {
        if !self.connected() {
            return None;
        }
        let request = self.client.request(snapshot_subject(id), Bytes::new());
        match tokio::time::timeout(SNAPSHOT_WAIT, request).await {
            Ok(Ok(reply)) if !reply.payload.is_empty() => Some(reply.payload),
            Ok(Err(err)) => {
                tracing::debug!(room = %id, error = %err, "no snapshot from the cluster");
                None
            }
            // An empty answer (no frame yet) or none in time.
            Ok(Ok(_)) | Err(_) => None,
        }
    }

    /// Sets each of `rooms`' remote viewer count from the table, and this node's
    /// remote-viewer gauge.
    fn refresh_counts(&self, rooms: impl IntoIterator<Item = String>) {
        let table = lock(&self.table);
        for id in rooms {
            if let Some(room) = self.rooms.get(&id) {
                room.set_remote_viewers(table.viewers(&id));
            }
        }
        let remote: usize = self
            .rooms
            .in_use()
            .iter()
            .filter(|room| room.has_local_publisher())
            .map(|room| table.viewers(&room.id))
            .sum();
        self.metrics.cluster.remote_viewers.set(remote as i64);
    }

    /// Closes this node's publisher of `room` if the one on `node` with `generation` is
    /// newer (ties broken by node id, so two nodes never both keep theirs). If the room has
    /// ended here, `node` missed that (it was away from the broker): it is told again.
    fn yield_publisher(&self, room: &str, node: &str, generation: u64) {
        if node == self.node {
            return;
        }
        if let Some(room) = self.rooms.get(room) {
            if room.is_ended() {
                self.room_ended(&room.id);
                return;
            }
            let kicked =
                room.kick_publisher_if(|mine| (mine, self.node.as_str()) < (generation, node));
            if kicked {
                tracing::info!(room = %room.id, by = %node, "publisher replaced on another node");
            }
        }
    }
}

/// The host name and port, this node's id when `--node-id` is not given.
pub fn default_node_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "lenscast".to_owned());
    format!("{host}:{port}")
}
