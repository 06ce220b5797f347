//! One room's link to the bus, a task that lives while the room has viewers or a publisher
//! on this node:
//! - with viewers and no publisher here, it subscribes to the room's frames and feeds each
//!   into the room exactly as a local publisher's frame (`Room::publish`: framed once,
//!   every viewer, zero-copy ones included, served from that one copy);
//! - with the publisher here, it puts each frame on the bus while another node watches,
//!   and answers snapshot requests.

use std::sync::Arc;

use async_nats::{Message, Subscriber};
use futures_util::StreamExt;
use protocol::cluster::{frame_subject, snapshot_subject};

use super::{
    Cluster,
    bus::{Arrival, FrameOrigin, Gaps},
};
use crate::{jpeg, room::Room, stream::wire::Frame};

/// Logs a refused message at most this often per room.
const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The next message of an optional subscription; pending forever without one.
async fn next(sub: &mut Option<Subscriber>) -> Option<Message> {
    match sub {
        Some(sub) => sub.next().await,
        None => std::future::pending().await,
    }
}

/// Subscribes to `subject` if `want` and not yet, unsubscribes if not `want`; returns
/// whether anything changed.
async fn keep(cluster: &Cluster, sub: &mut Option<Subscriber>, want: bool, subject: &str) -> bool {
    match (want, sub.is_some()) {
        (true, false) => match cluster.client.subscribe(subject.to_owned()).await {
            Ok(new) => {
                *sub = Some(new);
                true
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot subscribe to a room on the bus");
                false
            }
        },
        (false, true) => {
            if let Some(mut old) = sub.take() {
                let _ = old.unsubscribe().await;
            }
            true
        }
        _ => false,
    }
}

pub async fn run(cluster: Arc<Cluster>, room: Arc<Room>) {
    let mut viewers = room.viewer_count();
    let mut publisher = room.local_publisher();
    let mut frames = room.frames();
    let mut frame_sub = None;
    let mut snapshot_sub = None;
    let mut gaps = Gaps::default();
    let mut last_warning: Option<tokio::time::Instant> = None;
    let mut was_publishing = false;
    let (frames_at, snapshots_at) = (frame_subject(&room.id), snapshot_subject(&room.id));
    loop {
        let generation = *publisher.borrow_and_update();
        if generation.is_some() && !was_publishing {
            // Only frames published from now on go out.
            frames.borrow_and_update();
        }
        was_publishing = generation.is_some();
        let local_viewers = *viewers.borrow_and_update();
        let want_frames = local_viewers > 0 && generation.is_none();
        if keep(&cluster, &mut frame_sub, want_frames, &frames_at).await {
            // The publisher's node should hear at once that this node now watches.
            cluster.speak.notify_one();
        }
        keep(
            &cluster,
            &mut snapshot_sub,
            generation.is_some(),
            &snapshots_at,
        )
        .await;
        if local_viewers == 0 && generation.is_none() {
            if cluster.unlink_if_idle(&room) {
                break;
            }
            continue;
        }
        tokio::select! {
            () = cluster.shutdown.cancelled() => break,
            changed = viewers.changed() => if changed.is_err() { break },
            changed = publisher.changed() => if changed.is_err() { break },
            Some(message) = next(&mut frame_sub) => {
                receive(&cluster, &room, &message, &mut gaps, &mut last_warning);
                // Frames that crossed the bus together arrive together: let the room's
                // fan-out take this one before the next replaces it (a local publisher's
                // frames are spaced by its socket reads the same way).
                tokio::task::yield_now().await;
            }
            Some(request) = next(&mut snapshot_sub) => {
                if let Some(reply) = request.reply {
                    let jpeg = room.latest().map(|f| f.jpeg.clone()).unwrap_or_default();
                    let _ = cluster.client.publish(reply, jpeg).await;
                }
            }
            changed = frames.changed(), if generation.is_some() => {
                if changed.is_err() {
                    break;
                }
                let frame = frames.borrow_and_update().clone();
                if let (Some(frame), Some(generation)) = (frame, generation) {
                    forward(&cluster, &room, &frames_at, &frame, generation).await;
                }
            }
        }
    }
    if let Some(mut sub) = frame_sub {
        let _ = sub.unsubscribe().await;
    }
    if let Some(mut sub) = snapshot_sub {
        let _ = sub.unsubscribe().await;
    }
}

/// Puts the local publisher's frame on the bus if another node watches the room.
async fn forward(cluster: &Cluster, room: &Room, subject: &str, frame: &Frame, generation: u64) {
    if !cluster.connected() || super::lock(&cluster.table).watching_nodes(&room.id) == 0 {
        return;
    }
    let origin = FrameOrigin {
        node: cluster.node.clone(),
        generation,
        seq: frame.seq,
    };
    let bytes = frame.jpeg.len() as u64;
    match cluster
        .client
        .publish_with_headers(subject.to_owned(), origin.headers(), frame.jpeg.clone())
        .await
    {
        Ok(()) => {
            cluster.metrics.cluster.frames_out.inc();
            cluster.metrics.cluster.bytes_out.inc_by(bytes);
        }
        // The frame limit is lowered to the broker's at startup, so this is a broker that
        // changed its limit since: say so, never drop silently.
        Err(err) => {
            tracing::warn!(room = %room.id, bytes, error = %err, "frame not put on the bus");
        }
    }
}

/// A frame from the bus into the room, as if published here.
fn receive(
    cluster: &Cluster,
    room: &Room,
    message: &Message,
    gaps: &mut Gaps,
    last_warning: &mut Option<tokio::time::Instant>,
) {
    let Some(origin) = FrameOrigin::of(message) else {
        warn_now(
            last_warning,
            room,
            "frame without its origin headers ignored",
        );
        return;
    };
    if origin.node == cluster.node {
        return;
    }
    let data = &message.payload;
    // The sending node checked it; a node with another idea of a frame must not break
    // this one's viewers' streams.
    if memchr::memmem::find(data, protocol::mjpeg::DELIMITER).is_some() {
        warn_now(last_warning, room, "frame with the stream boundary ignored");
        return;
    }
    let Ok(dims) = jpeg::inspect(data, u32::MAX) else {
        warn_now(last_warning, room, "frame that is not a JPEG ignored");
        return;
    };
    match gaps.arrive(&origin) {
        Arrival::Stale => return,
        Arrival::InOrder { missing } => {
            cluster.metrics.cluster.frames_missing.inc_by(missing);
        }
    }
    cluster.metrics.cluster.frames_in.inc();
    cluster.metrics.cluster.bytes_in.inc_by(data.len() as u64);
    room.publish(data, dims);
}

fn warn_now(last: &mut Option<tokio::time::Instant>, room: &Room, what: &str) {
    if last.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
        *last = Some(tokio::time::Instant::now());
        tracing::warn!(room = %room.id, "{what}");
    }
}
