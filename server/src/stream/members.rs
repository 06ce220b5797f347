//! The member list of one room's fan-out: the data a [`crate::room::Room`] holds, apart from
//! the pass that works on it ([`super::fanout`]), so that rooms need not know how frames
//! are sent.

use std::sync::{
    Arc, Mutex, MutexGuard, PoisonError,
    atomic::{AtomicBool, Ordering},
};

use tokio::{net::TcpStream, sync::Notify};
use tokio_util::sync::CancellationToken;

/// The members of one room's fan-out (a field of [`crate::room::Room`]).
#[derive(Default)]
pub struct Fanout {
    pub(super) inner: Mutex<Inner>,
    /// Told when the last member in the list hangs up, so an idle pass can end.
    pub(super) emptied: Notify,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) members: Vec<Member>,
    /// Whether a pass task is running for the room.
    pub(super) running: bool,
}

pub(super) struct Member {
    pub(super) stream: Arc<TcpStream>,
    /// Set when the viewer hung up or its socket failed.
    pub(super) gone: Gone,
    /// The last frame sent in full (0: none yet).
    pub(super) last_seq: u64,
}

/// Whether a member's viewer is gone. The pass checks it for every member and frame, so that
/// is one atomic load; the member's own tasks wait for it.
#[derive(Clone, Default)]
pub(super) struct Gone(Arc<GoneState>);

#[derive(Default)]
struct GoneState {
    flag: AtomicBool,
    token: CancellationToken,
}

impl Gone {
    pub(super) fn set(&self) {
        self.0.flag.store(true, Ordering::Release);
        self.0.token.cancel();
    }

    pub(super) fn is_set(&self) -> bool {
        self.0.flag.load(Ordering::Acquire)
    }

    pub(super) async fn wait(&self) {
        self.0.token.cancelled().await;
    }
}

pub(super) fn lock(fanout: &Fanout) -> MutexGuard<'_, Inner> {
    // Critical sections only move members in or out of the list.
    fanout.inner.lock().unwrap_or_else(PoisonError::into_inner)
}
