//! Long-running children (the dev server, `trunk serve`), each stopped together with whatever
//! it started.
//!
//! trunk runs cargo, which runs rustc: stopping trunk alone could leave those behind. So each
//! child leads a process group of its own, and a signal to the group reaches them all. Those
//! groups are out of the terminal's foreground group, so Ctrl-C reaches only xtask, which stops
//! the groups itself ([`catch_stop_signals`]); a SIGINT sent to xtask alone does the same.

use std::{
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    thread::sleep,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};

use crate::steps::show;

/// How long a group has to exit after SIGINT before it gets SIGKILL.
const GRACE: Duration = Duration::from_secs(10);

static STOP: AtomicBool = AtomicBool::new(false);

/// From now on Ctrl-C, SIGTERM and SIGHUP only raise the flag [`stop_requested`] reads: xtask
/// must outlive them to stop its children.
pub fn catch_stop_signals() -> Result<()> {
    ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")
}

pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// A child leading its own process group; dropping it stops the group.
pub struct Group {
    name: &'static str,
    child: Child,
    stopped: bool,
}

impl Group {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Result<Self> {
        println!("$ {}", show(cmd));
        // No stdin: a process outside the terminal's foreground group that reads it is stopped.
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", show(cmd)))?;
        Ok(Self {
            name,
            child,
            stopped: false,
        })
    }

    /// An error once the child has exited: it is meant to run until stopped.
    pub fn ensure_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited ({status})", self.name);
        }
        Ok(())
    }

    fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.child.id()).expect("pids fit in i32");
        // ESRCH (the group is gone) is the outcome we want anyway.
        let _ = killpg(Pid::from_raw(pid), signal);
    }
}

/// Stops the groups as Ctrl-C in a terminal would (SIGINT), all at once so they shut down in
/// parallel; whatever is left after [`GRACE`] gets SIGKILL.
pub fn stop_all(groups: &mut [&mut Group]) {
    for group in groups.iter().filter(|group| !group.stopped) {
        group.signal(Signal::SIGINT);
    }
    let deadline = Instant::now() + GRACE;
    for group in groups.iter_mut().filter(|group| !group.stopped) {
        while Instant::now() < deadline && matches!(group.child.try_wait(), Ok(None)) {
            sleep(Duration::from_millis(50));
        }
        // Also after the leader exited: a grandchild (a cargo build under trunk) may linger.
        group.signal(Signal::SIGKILL);
        let _ = group.child.wait();
        group.stopped = true;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        stop_all(&mut [self]);
    }
}
