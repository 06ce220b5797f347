//! What every handler shares: [`AppState`].

use std::{
    path::PathBuf,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    capability::Keys,
    cluster::Cluster,
    config::Config,
    limits::{LogEvery, RoomCreation},
    metrics::Metrics,
    per_address::{AddressSlots, ConnectionGate},
    rooms::Rooms,
    stream::Services,
};

/// Everything the handlers share.
pub struct AppState {
    pub config: Config,
    pub(crate) rooms: Arc<Rooms>,
    pub(crate) metrics: Arc<Metrics>,
    /// The link to the other nodes, once [`crate::run`] joined them (`--cluster-url`).
    pub(crate) cluster: OnceLock<Arc<Cluster>>,
    /// The largest frame accepted: `config.max_frame_bytes`, lowered to fit the broker's
    /// payload limit in a cluster.
    frame_limit: Arc<AtomicUsize>,
    /// Rooms created per client address.
    pub(crate) room_creation: RoomCreation,
    /// Streams per client address.
    pub(crate) viewer_slots: AddressSlots,
    /// Connections (plain and TLS) per client address.
    pub(crate) connection_gate: Arc<ConnectionGate>,
    /// Warnings about wrong publish tokens, which anyone can send at will.
    pub(crate) wrong_token_log: LogEvery,
    /// Cancelled when the server shuts down: viewers' streams end, publishers get 1001.
    pub(crate) shutdown: CancellationToken,
    /// Publisher sockets and taken-over viewer sockets, which live outside the HTTP
    /// connection's own bookkeeping.
    pub(crate) tasks: TaskTracker,
    pub(crate) dist: PathBuf,
    pub(crate) static_dir: PathBuf,
}

impl AppState {
    pub fn new(config: Config, dist: PathBuf, static_dir: PathBuf) -> Arc<Self> {
        let metrics = Arc::new(Metrics::new());
        let shutdown = CancellationToken::new();
        Arc::new(Self {
            rooms: Arc::new(
                Rooms::new(Keys::new(&config.secret), Arc::clone(&metrics))
                    .with_shutdown(shutdown.clone()),
            ),
            cluster: OnceLock::new(),
            frame_limit: Arc::new(AtomicUsize::new(config.max_frame_bytes)),
            room_creation: RoomCreation::new(config.max_rooms_per_minute),
            viewer_slots: AddressSlots::new(config.max_viewers_per_address),
            connection_gate: Arc::new(ConnectionGate::new(
                config.max_connections_per_address,
                config.trusted_proxies.clone(),
                Arc::clone(&metrics),
            )),
            wrong_token_log: LogEvery::new(Duration::from_secs(10)),
            config,
            metrics,
            shutdown,
            tasks: TaskTracker::new(),
            dist,
            static_dir,
        })
    }

    /// The largest frame a publisher may send now.
    pub fn max_frame_bytes(&self) -> usize {
        self.frame_limit.load(Ordering::Relaxed)
    }

    /// The frame limit as the cluster adjusts it to the broker's message size.
    pub(crate) fn frame_limit(&self) -> crate::cluster::FrameLimit {
        crate::cluster::FrameLimit {
            wanted: self.config.max_frame_bytes,
            current: Arc::clone(&self.frame_limit),
        }
    }

    pub(crate) fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.get()
    }

    /// Rooms with in-memory state (the rest of the valid ids cost nothing).
    pub fn rooms_in_memory(&self) -> usize {
        self.rooms.len()
    }

    /// Whether room `id` has in-memory state now.
    pub fn room_in_memory(&self, id: &str) -> bool {
        self.rooms.get(id).is_some()
    }

    /// What a stream's tasks need.
    pub(crate) fn stream_services(&self) -> Services {
        Services {
            shutdown: self.shutdown.clone(),
            metrics: Arc::clone(&self.metrics),
            tasks: self.tasks.clone(),
            write_timeout: self.config.viewer_write_timeout,
        }
    }
}
