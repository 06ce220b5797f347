//! `cargo xtask bench e2e` (not written yet).

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(_ctx: &Ctx) -> Result<()> {
    anyhow::bail!("the e2e benchmark is not written yet")
}
