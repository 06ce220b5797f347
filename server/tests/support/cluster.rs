//! Several in-process nodes (`server::run` on 127.0.0.1:0, each with `cluster_url`) joined
//! through a real `nats-server` on free ports, and a publisher that keeps sending frames.

use std::time::Duration;

use futures_util::SinkExt;
use server::{Config, secret::Secret};
use testkit::nats::NatsServer;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::{Publisher, TestServer};

/// The one secret all nodes of a test share.
pub fn shared_secret() -> Secret {
    Secret::from_bytes([7; 32])
}

/// A node's config: joined to `broker`, named `node`.
pub fn node_config(broker: &NatsServer, node: &str) -> Config {
    Config {
        cluster_url: Some(broker.url()),
        node_id: Some(node.to_owned()),
        secret: shared_secret(),
        ..Config::default()
    }
}

pub async fn broker() -> NatsServer {
    NatsServer::start().await.expect("nats-server starts")
}

/// `n` nodes named a, b, c… on `broker`.
pub async fn nodes(broker: &NatsServer, n: usize) -> Vec<TestServer> {
    let mut nodes = Vec::new();
    for name in ["a", "b", "c", "d"].into_iter().take(n) {
        nodes.push(TestServer::with(node_config(broker, name)).await);
    }
    nodes
}

/// A publisher sending `frame(i)` every `every` in a task of its own until stopped; the
/// task gives the socket back.
pub struct Streaming {
    pub stop: CancellationToken,
    pub task: JoinHandle<Publisher>,
}

impl Streaming {
    pub fn start(mut publisher: Publisher, every: Duration, frame: fn(u32) -> Vec<u8>) -> Self {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            let mut i = 0;
            loop {
                tokio::select! {
                    () = token.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let jpeg = frame(i);
                i += 1;
                if publisher
                    .ws
                    .send(Message::Binary(jpeg.into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            publisher
        });
        Self { stop, task }
    }

    pub async fn stop(self) -> Publisher {
        self.stop.cancel();
        self.task.await.expect("publisher task")
    }
}

/// A small real JPEG, different for each `i`.
pub fn small_frame(i: u32) -> Vec<u8> {
    testkit::jpeg::pattern(64, 48, i, false)
}
