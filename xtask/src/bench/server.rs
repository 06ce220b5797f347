//! `cargo xtask bench server` (not written yet).

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(_ctx: &Ctx) -> Result<()> {
    anyhow::bail!("the server benchmark is not written yet")
}
