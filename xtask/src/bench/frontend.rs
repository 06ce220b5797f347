//! `cargo xtask bench frontend` (not written yet).

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(_ctx: &Ctx) -> Result<()> {
    anyhow::bail!("the frontend benchmark is not written yet")
}
