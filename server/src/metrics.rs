//! Prometheus metrics (`GET /metrics`), kept in `prometheus-client` atomics.

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// The kind of input the server turned away, one counter each.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Rejection {
    /// A binary message that is not one JPEG (closed with 1003).
    NotJpeg,
    /// A frame over the byte or dimension limit (closed with 1009).
    TooLarge,
    /// A text message that is not UTF-8 (closed with 1007), not JSON, or not an object
    /// with a `type`.
    BadText,
    /// A WebSocket frame that breaks the protocol (closed with 1002).
    BadProtocol,
    /// Room creation or a publisher socket from a page of another origin (403).
    ForeignOrigin,
    /// Publish without a token (401).
    MissingToken,
    /// Publish with a wrong token (403).
    WrongToken,
    /// A path with an unknown or malformed room id (404).
    UnknownRoom,
    /// `POST /api/rooms` past the room limit (503).
    RoomLimit,
    /// A viewer past the per-room limit (503).
    ViewerLimit,
    /// A stream past the per-address limit (429).
    AddressViewerLimit,
    /// A connection past the per-address limit (429, then closed).
    ConnectionLimit,
    /// A frame sent faster than the publisher's frame rate limit (dropped).
    FrameRate,
    /// `POST /api/rooms` past the per-client rate (429).
    RoomRate,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectionLabels {
    kind: Rejection,
}

/// All counters and gauges, cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    pub rooms: Gauge,
    pub publishers: Gauge,
    pub viewers: Gauge,
    pub viewers_joined: Counter,
    pub rooms_evicted: Counter,
    pub frames_in: Counter,
    pub bytes_in: Counter,
    pub frames_out: Counter,
    pub bytes_out: Counter,
    pub frames_dropped: Counter,
    pub bytes_zero_copy: Counter,
    pub cluster: ClusterMetrics,
    rejected: Family<RejectionLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lenscast");
        let rooms = Gauge::default();
        let publishers = Gauge::default();
        let viewers = Gauge::default();
        let viewers_joined = Counter::default();
        let rooms_evicted = Counter::default();
        let frames_in = Counter::default();
        let bytes_in = Counter::default();
        let frames_out = Counter::default();
        let bytes_out = Counter::default();
        let frames_dropped = Counter::default();
        let bytes_zero_copy = Counter::default();
        let rejected = Family::<RejectionLabels, Counter>::default();
        registry.register("rooms", "Rooms that exist", rooms.clone());
        registry.register("publishers", "Connected publishers", publishers.clone());
        registry.register("viewers", "Open MJPEG streams", viewers.clone());
        registry.register(
            "viewers_joined",
            "MJPEG streams opened since start",
            viewers_joined.clone(),
        );
        registry.register(
            "rooms_evicted",
            "Unused rooms dropped from memory to make space for another (their ids stay valid)",
            rooms_evicted.clone(),
        );
        registry.register(
            "frames_in",
            "JPEG frames accepted from publishers",
            frames_in.clone(),
        );
        registry.register(
            "bytes_in",
            "JPEG bytes accepted from publishers",
            bytes_in.clone(),
        );
        registry.register(
            "frames_out",
            "Frames written to MJPEG viewers",
            frames_out.clone(),
        );
        registry.register(
            "bytes_out",
            "Multipart bytes written to MJPEG viewers",
            bytes_out.clone(),
        );
        registry.register(
            "frames_dropped",
            "Frames a slow viewer skipped because a newer one replaced them",
            frames_dropped.clone(),
        );
        registry.register(
            "bytes_zero_copy",
            "Stream bytes sent to viewers from a frame's shared in-memory file (tee/splice or sendfile), not copied per viewer",
            bytes_zero_copy.clone(),
        );
        registry.register("rejected", "Inputs turned away, by kind", rejected.clone());
        let cluster = ClusterMetrics::register(&mut registry);
        Self {
            registry,
            rooms,
            publishers,
            viewers,
            viewers_joined,
            rooms_evicted,
            frames_in,
            bytes_in,
            frames_out,
            bytes_out,
            frames_dropped,
            bytes_zero_copy,
            cluster,
            rejected,
        }
    }

    pub fn reject(&self, kind: Rejection) {
        self.rejected.get_or_create(&RejectionLabels { kind }).inc();
    }

    /// The `OpenMetrics` text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        encode(&mut out, &self.registry).expect("formatting into a String never fails");
        out
    }
}

/// The cluster's figures (`--cluster-url`); all 0 on a server on its own.
#[derive(Default)]
pub struct ClusterMetrics {
    pub connected: Gauge,
    pub frames_out: Counter,
    pub bytes_out: Counter,
    pub frames_in: Counter,
    pub bytes_in: Counter,
    pub frames_missing: Counter,
    pub remote_viewers: Gauge,
}

impl ClusterMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "cluster_connected",
            "1 while this node is connected to the cluster's NATS broker, else 0",
            m.connected.clone(),
        );
        registry.register(
            "cluster_bus_frames_out",
            "Frames this node's publishers put on the bus for other nodes",
            m.frames_out.clone(),
        );
        registry.register(
            "cluster_bus_bytes_out",
            "JPEG bytes this node put on the bus",
            m.bytes_out.clone(),
        );
        registry.register(
            "cluster_bus_frames_in",
            "Frames this node received from the bus for its viewers",
            m.frames_in.clone(),
        );
        registry.register(
            "cluster_bus_bytes_in",
            "JPEG bytes this node received from the bus",
            m.bytes_in.clone(),
        );
        registry.register(
            "cluster_frames_missing",
            "Frames that never arrived from the bus (gaps in a publisher's sequence)",
            m.frames_missing.clone(),
        );
        registry.register(
            "cluster_remote_viewers",
            "Viewers on other nodes of the rooms whose publisher is on this node",
            m.remote_viewers.clone(),
        );
        m
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
