//! What a stream's tasks need from the server, apart from its room.

use std::{sync::Arc, time::Duration};

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::metrics::Metrics;

/// What the fan-out's tasks need from the server.
#[derive(Clone)]
pub struct Services {
    pub shutdown: CancellationToken,
    pub metrics: Arc<Metrics>,
    pub tasks: TaskTracker,
    /// How long a viewer may accept no bytes before it is dropped.
    pub write_timeout: Duration,
}
