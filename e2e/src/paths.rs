//! Where things are: the workspace, the artifacts folder, free ports and paths from the
//! environment.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

/// The workspace root (the e2e crate lives one folder below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives one folder below the workspace root")
        .to_path_buf()
}

/// `target/e2e/` under the workspace root: screenshots, logs and generated videos go there.
pub fn artifacts_dir() -> Result<PathBuf> {
    let dir = workspace_root().join("target").join("e2e");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// The path in environment variable `var`, if it is set and not empty.
pub fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The benchmarks' measuring window: `LENSCAST_BENCH_SECS` seconds, or `default_secs`.
pub fn bench_window(default_secs: u64) -> std::time::Duration {
    let secs = std::env::var("LENSCAST_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_secs);
    std::time::Duration::from_secs(secs)
}
