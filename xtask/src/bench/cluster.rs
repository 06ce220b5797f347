//! `cargo xtask bench cluster`: nodes joined by NATS, printed, not asserted.
//!
//! After `setup` (which installs nats-server if missing), builds the release `lenscast-server` and
//! `lenscast-loadgen` as `bench server` does, then runs `lenscast-loadgen cluster`: a
//! nats-server and three nodes on loopback, one 30 fps 720p publisher on node a, viewers
//! split evenly over a, b and c, at 3 × 100 and 3 × 300. Three tables: frames per viewer as
//! a share of published (min and median, local and remote), latency p50/p99 local and
//! remote and what the hop adds, a fresh remote viewer's time to first frame; each node's
//! and the broker's CPU and RSS and CPU per frame sent; the broker's bytes against frames ×
//! size × watching nodes. Extra arguments in `LENSCAST_CLUSTER_ARGS` (e.g.
//! `--per-node 50 --seconds 3`). Only when named.

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(ctx: &Ctx) -> Result<()> {
    super::server::run_loadgen(ctx, &["cluster"], "LENSCAST_CLUSTER_ARGS")
}
