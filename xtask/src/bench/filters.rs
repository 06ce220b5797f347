//! `cargo xtask bench filters` (not written yet).

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(_ctx: &Ctx) -> Result<()> {
    anyhow::bail!("the filters benchmark is not written yet")
}
