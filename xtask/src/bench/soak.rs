//! `cargo xtask bench soak`: one server for ten minutes under a hostile mix, printed, not
//! asserted.
//!
//! Builds the release `lenscast-server` and `lenscast-loadgen` as `bench server` does, then
//! runs `lenscast-loadgen soak`: 500 canary viewers of a 30 fps room, plus 50 stalled viewers
//! on it, a publisher that never reads in another room and a ping flood in a third; a row of
//! server RSS, open files and canary frames every 10 s; the hostile clients stop for the last
//! minute; then a summary against the targets (the canary gets ≥ 99% of its frames, RSS ends
//! within 10% of the start, open files return to the baseline). Extra arguments for the soak
//! can be given in `LENSCAST_SOAK_ARGS` (e.g. `--minutes 2`). Not part of `bench` without
//! suites: it takes ten minutes.

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(ctx: &Ctx) -> Result<()> {
    super::server::run_loadgen(ctx, &["soak"], "LENSCAST_SOAK_ARGS")
}
