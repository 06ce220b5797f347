//! What a stream's tasks need from the server, apart from its room.

use std::{sync::Arc, time::Duration};

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::metrics::Metrics;

/// What the fan-out's tasks need from the server.
#[derive(Clone)]
pub struct Services {
    /// Cancelled when the stream must end: the server shuts down (or, for one room's
    /// streams, the room ends; see [`Services::ending_with`]).
    pub shutdown: CancellationToken,
    pub metrics: Arc<Metrics>,
    pub tasks: TaskTracker,
    /// How long a viewer may accept no bytes before it is dropped.
    pub write_timeout: Duration,
}

impl Services {
    /// The same services, ending when `token` is cancelled instead (a room's closing token,
    /// which is a child of the shutdown token).
    pub fn ending_with(&self, token: CancellationToken) -> Self {
        Self {
            shutdown: token,
            ..self.clone()
        }
    }
}
