//! The node-wide side of the cluster: this node's presence once a second (and at once when
//! it starts or stops watching a room), the other nodes' presence into the table, and
//! publisher announcements.

use std::sync::Arc;

use async_nats::Subscriber;
use futures_util::StreamExt;
use protocol::cluster::{
    ENDED_SUBJECT, PRESENCE_SUBJECT, PUBLISHER_SUBJECT, Presence, PublisherAnnounce, RoomEnded,
    RoomPresence,
};
use tokio::time::{Instant, MissedTickBehavior};

use super::{Cluster, ClusterError, presence};
use crate::room::lock;

/// The most ended rooms a node's presence lists (1000 ids are about 35 KB, split over
/// several messages like the rooms when the broker's messages are smaller).
const MAX_ENDED_IN_PRESENCE: usize = 1000;

/// Subscribes to presence, announcements and ended rooms, and starts the tasks that handle
/// them.
pub async fn start(cluster: &Arc<Cluster>) -> Result<(), ClusterError> {
    let subscribe = |subject: &'static str| async move {
        cluster
            .client
            .subscribe(subject)
            .await
            .map_err(|source| ClusterError::Subscribe { subject, source })
    };
    let presence = subscribe(PRESENCE_SUBJECT).await?;
    let announcements = subscribe(PUBLISHER_SUBJECT).await?;
    let ended = subscribe(ENDED_SUBJECT).await?;
    cluster
        .tasks
        .spawn(hear_presence(Arc::clone(cluster), presence));
    cluster
        .tasks
        .spawn(hear_announcements(Arc::clone(cluster), announcements));
    cluster.tasks.spawn(hear_ended(Arc::clone(cluster), ended));
    cluster.tasks.spawn(speak(Arc::clone(cluster)));
    Ok(())
}

async fn hear_presence(cluster: Arc<Cluster>, mut sub: Subscriber) {
    loop {
        let message = tokio::select! {
            () = cluster.shutdown.cancelled() => break,
            message = sub.next() => match message {
                Some(message) => message,
                None => break,
            },
        };
        // A node that sends something else is ignored, never trusted halfway.
        let Ok(heard) = serde_json::from_slice::<Presence>(&message.payload) else {
            tracing::debug!("unreadable presence message ignored");
            continue;
        };
        if heard.node == cluster.node {
            continue;
        }
        // A room that ended while this node was away from the broker: end it now if this
        // node holds it (one it does not hold reads as ended from the table, and a
        // publisher that revives it here is told by the node that holds it ended).
        for id in heard.ended.iter().take(MAX_ENDED_IN_PRESENCE) {
            if cluster.rooms.get(id).is_some_and(|room| !room.is_ended()) {
                cluster.end_here(id, &heard.node);
            }
        }
        // Two publishers can outlive a lost announcement (a broker outage): the newer wins
        // as soon as the nodes hear each other again.
        for room in &heard.rooms {
            if let Some(generation) = room.publisher {
                cluster.yield_publisher(&room.room, &heard.node, generation);
            }
        }
        let touched = lock(&cluster.table).update(heard, Instant::now());
        cluster.refresh_counts(touched);
    }
}

async fn hear_announcements(cluster: Arc<Cluster>, mut sub: Subscriber) {
    loop {
        let message = tokio::select! {
            () = cluster.shutdown.cancelled() => break,
            message = sub.next() => match message {
                Some(message) => message,
                None => break,
            },
        };
        if let Ok(announce) = serde_json::from_slice::<PublisherAnnounce>(&message.payload) {
            cluster.yield_publisher(&announce.room, &announce.node, announce.generation);
        }
    }
}

async fn hear_ended(cluster: Arc<Cluster>, mut sub: Subscriber) {
    loop {
        let message = tokio::select! {
            () = cluster.shutdown.cancelled() => break,
            message = sub.next() => match message {
                Some(message) => message,
                None => break,
            },
        };
        if let Ok(ended) = serde_json::from_slice::<RoomEnded>(&message.payload)
            && ended.node != cluster.node
        {
            cluster.end_here(&ended.room, &ended.node);
        }
    }
}

/// This node's rooms in use, and the ended rooms it holds, as the others should see them.
fn local_presence(cluster: &Cluster) -> Presence {
    let rooms = cluster
        .rooms
        .in_use()
        .into_iter()
        .map(|room| {
            let state = room.state();
            RoomPresence {
                viewers: u32::try_from(room.local_viewers()).unwrap_or(u32::MAX),
                publisher: *room.local_publisher().borrow(),
                frames: state.frames,
                fps: state.fps,
                width: state.width,
                height: state.height,
                room: state.room,
            }
        })
        .collect();
    Presence {
        node: cluster.node.clone(),
        rooms,
        ended: cluster.rooms.ended(MAX_ENDED_IN_PRESENCE),
        part: 0,
        parts: 1,
    }
}

/// Says this node's presence every [`presence::INTERVAL`], or at once when woken, and
/// forgets nodes that went quiet.
async fn speak(cluster: Arc<Cluster>) {
    let mut tick = tokio::time::interval(presence::INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cluster.shutdown.cancelled() => break,
            _ = tick.tick() => {}
            () = cluster.speak.notified() => {}
        }
        let expired = lock(&cluster.table).expire(Instant::now());
        cluster.refresh_counts(expired);
        if !cluster.connected() {
            continue;
        }
        cluster.fit_frame_limit();
        // Headroom below the broker's limit for the message's own framing.
        let budget = cluster.max_payload().saturating_sub(1024).max(1024);
        for json in presence::split(&local_presence(&cluster), budget) {
            if let Err(err) = cluster.client.publish(PRESENCE_SUBJECT, json.into()).await {
                tracing::debug!(error = %err, "presence not sent");
            }
        }
    }
}
