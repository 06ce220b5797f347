//! A room's plain-HTTP/1.1 viewers, sent each frame in one pass.
//!
//! Once a send costs no copy ([`super::zerocopy`]), waking one task per viewer per frame
//! costs as much as the send itself. So the room's taken-over viewers without an `?fps` cap
//! are members of its fan-out ([`super::members`]): one task waits for the room's next frame
//! and offers it to every member in turn, never waiting for any of them.
//!
//! A member whose socket cannot take the whole frame at once leaves the pass: a task of its
//! own finishes that frame when the socket drains, sends the newest frame if one came
//! meanwhile, and rejoins. So a slow viewer costs the others nothing and still never gets a
//! cut, repeated or stale frame. New viewers start the same way: the prologue and the
//! current frame from their own task, then they join.
//!
//! Each member also has a task that only waits for the viewer to hang up, so the room's
//! viewer count drops even while no frames flow; it holds the viewer's place in the count.

use std::{io, mem, sync::Arc};

use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::{
    room::{Room, ViewerGuard},
    stream::{
        members::{Fanout, Gone, Member, lock},
        services::Services,
        socket,
        viewer::FramesOut,
        wire::{Frame, LAST_CHUNK, PROLOGUE_CHUNK},
    },
};

/// Adds a viewer's socket, whose response head is already sent, to its room's fan-out.
pub fn join(stream: TcpStream, guard: ViewerGuard, services: &Services) {
    let room = Arc::clone(&guard.room);
    let member = Member {
        stream: Arc::new(stream),
        gone: Gone::default(),
        last_seq: 0,
    };
    services.tasks.spawn(watch_presence(
        Arc::clone(&member.stream),
        member.gone.clone(),
        guard,
        services.shutdown.clone(),
    ));
    services
        .tasks
        .spawn(catch_up(room, member, Backlog::Prologue, services.clone()));
}

/// Holds the viewer's place in the room until it hangs up (or the server shuts down).
async fn watch_presence(
    stream: Arc<TcpStream>,
    gone: Gone,
    guard: ViewerGuard,
    shutdown: CancellationToken,
) {
    tokio::select! {
        () = socket::left(&stream) => gone.set(),
        () = gone.wait() => {}
        // The pass ends the body; the count no longer matters.
        () = shutdown.cancelled() => return,
    }
    // A member waiting in the list is dropped now, not at the next frame, which may never come.
    let fanout = &guard.room.fanout;
    let mut inner = lock(fanout);
    inner.members.retain(|m| !Arc::ptr_eq(&m.stream, &stream));
    if inner.members.is_empty() {
        fanout.emptied.notify_one();
    }
}

/// What a member must finish before it can join the pass.
enum Backlog {
    Prologue,
    /// A frame and how many bytes of its chunk are already sent.
    Frame(Arc<Frame>, usize),
}

/// A member's own task: sends its backlog however long the socket takes, then rejoins the
/// pass, first sending the newest frame if it is newer than the last one sent.
async fn catch_up(room: Arc<Room>, mut member: Member, mut backlog: Backlog, services: Services) {
    loop {
        let sent = tokio::select! {
            biased;
            () = member.gone.wait() => return,
            // Mid-part: the body cannot be ended cleanly, the socket just closes.
            () = services.shutdown.cancelled() => return,
            sent = send_backlog(&member.stream, &backlog, &services) => sent,
        };
        if let Err(err) = sent {
            tracing::debug!(error = %err, "viewer connection failed");
            member.gone.set();
            return;
        }
        match rejoin(&room, member, &services) {
            Ok(()) => return,
            Err((behind, frame)) => {
                member = behind;
                let mut out = FramesOut::default();
                out.add(member.last_seq, &frame, false);
                out.record(&services.metrics);
                member.last_seq = frame.seq;
                backlog = Backlog::Frame(frame, 0);
            }
        }
    }
}

/// A viewer that takes none of it for [`Services::write_timeout`] fails here, which drops it
/// and with it the frame it held.
async fn send_backlog(
    stream: &TcpStream,
    backlog: &Backlog,
    services: &Services,
) -> io::Result<()> {
    let timeout = services.write_timeout;
    match backlog {
        Backlog::Prologue => socket::write_all(stream, PROLOGUE_CHUNK, timeout).await,
        Backlog::Frame(frame, from) => {
            let zero_copy = socket::send_rest(stream, frame, *from, timeout).await?;
            services.metrics.bytes_zero_copy.inc_by(zero_copy as u64);
            Ok(())
        }
    }
}

/// Puts `member` into the pass, unless the room has a newer frame than the member's last:
/// then the member comes back with that frame, to send it first.
///
/// Under the list's lock, so no frame slips between: a pass takes the list only after the
/// frame it sends is the room's latest, so a member joining after that sees the frame here.
fn rejoin(
    room: &Arc<Room>,
    member: Member,
    services: &Services,
) -> Result<(), (Member, Arc<Frame>)> {
    let mut inner = lock(&room.fanout);
    if let Some(newer) = room.latest().filter(|f| f.seq > member.last_seq) {
        return Err((member, newer));
    }
    inner.members.push(member);
    if !inner.running {
        inner.running = true;
        services
            .tasks
            .spawn(run_pass(Arc::clone(room), services.clone()));
    }
    Ok(())
}

/// Marks the room's pass as ended if its task ends any other way than by finding no
/// members (a panic): the next member to join starts a new one instead of waiting forever.
struct PassRunning<'a> {
    fanout: &'a Fanout,
    ended_normally: bool,
}

impl Drop for PassRunning<'_> {
    fn drop(&mut self) {
        if !self.ended_normally {
            lock(self.fanout).running = false;
        }
    }
}

/// The room's pass: each new frame to every member, until no member is left.
async fn run_pass(room: Arc<Room>, services: Services) {
    let fanout = &room.fanout;
    let mut running = PassRunning {
        fanout,
        ended_normally: false,
    };
    let mut frames = room.frames();
    // Members are filtered by sequence number: the current frame is offered at once.
    frames.mark_changed();
    loop {
        tokio::select! {
            biased;
            () = services.shutdown.cancelled() => {
                end_bodies(&mut lock(fanout).members);
                return;
            }
            changed = frames.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = fanout.emptied.notified() => {}
        }
        let frame = frames.borrow_and_update().clone();
        let members = mem::take(&mut lock(fanout).members);
        let mut kept = match frame {
            Some(frame) => send_to_all(&room, &frame, members, &services).await,
            None => members,
        };
        // Members that joined meanwhile come after the ones kept.
        let mut inner = lock(fanout);
        kept.append(&mut inner.members);
        inner.members = kept;
        if inner.members.is_empty() {
            inner.running = false;
            running.ended_normally = true;
            return;
        }
    }
}

/// Members per task of a pass (measured: 64 gave the lowest tail latency at 1000 and 2000
/// viewers on two cores, against one task per pass or one per thread).
const MEMBERS_PER_TASK: usize = 64;

/// Members from which a pass sends from a shared file rather than copying the frame into
/// each socket. Making the file costs about 100 µs here, a copy about 5 µs.
pub const ZERO_COPY_MIN_MEMBERS: usize = 16;

/// How many tasks share a pass over `members` members (at least one, even for none).
fn pass_tasks(members: usize) -> usize {
    members.div_ceil(MEMBERS_PER_TASK).max(1)
}

/// Offers `frame` to `members`, split into tasks of a few dozen members when there are
/// many: the runtime's threads share them out, so the last viewer does not wait for all the
/// others on one core, and a thread held up by one socket holds up only its part. Returns
/// the members that took the frame in full.
async fn send_to_all(
    room: &Arc<Room>,
    frame: &Arc<Frame>,
    mut members: Vec<Member>,
    services: &Services,
) -> Vec<Member> {
    if members.len() >= ZERO_COPY_MIN_MEMBERS {
        // Made once, before any member needs it; members that take the frame later (from
        // their own task) use it too.
        let _ = frame.shared_file();
    }
    let tasks = pass_tasks(members.len());
    if tasks == 1 {
        return send_to_part(room, frame, members, services);
    }
    // Every part is a task of its own, this one included: the runtime runs the task spawned
    // last on this thread, where no other thread can take it, so a part sent from here
    // would run before the others instead of beside them.
    let per_task = members.len().div_ceil(tasks);
    let mut parts = Vec::with_capacity(tasks);
    while !members.is_empty() {
        let part = members.split_off(members.len().saturating_sub(per_task));
        let (room, frame, services) = (Arc::clone(room), Arc::clone(frame), services.clone());
        parts.push(tokio::spawn(async move {
            send_to_part(&room, &frame, part, &services)
        }));
    }
    let mut kept = Vec::new();
    for part in parts {
        match part.await {
            Ok(mut part) => kept.append(&mut part),
            Err(err) => tracing::error!(error = %err, "a fan-out task failed"),
        }
    }
    kept
}

fn send_to_part(
    room: &Arc<Room>,
    frame: &Arc<Frame>,
    members: Vec<Member>,
    services: &Services,
) -> Vec<Member> {
    let mut out = FramesOut::default();
    let mut kept = Vec::with_capacity(members.len());
    for mut member in members {
        match offer(&mut member, frame, &mut out) {
            Offer::Sent => kept.push(member),
            Offer::Partial(sent) => {
                let backlog = Backlog::Frame(Arc::clone(frame), sent);
                services.tasks.spawn(catch_up(
                    Arc::clone(room),
                    member,
                    backlog,
                    services.clone(),
                ));
            }
            Offer::Gone => {}
        }
    }
    out.record(&services.metrics);
    kept
}

enum Offer {
    Sent,
    /// The socket took this many bytes (maybe none) and no more for now.
    Partial(usize),
    Gone,
}

fn offer(member: &mut Member, frame: &Arc<Frame>, out: &mut FramesOut) -> Offer {
    if member.gone.is_set() {
        return Offer::Gone;
    }
    if frame.seq <= member.last_seq {
        return Offer::Sent;
    }
    out.add(member.last_seq, frame, false);
    member.last_seq = frame.seq;
    match socket::send_now(&member.stream, frame) {
        Ok(sent) => {
            out.bytes_zero_copy += sent.zero_copy;
            if sent.bytes == frame.chunk.len() {
                Offer::Sent
            } else {
                Offer::Partial(sent.bytes)
            }
        }
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Offer::Partial(0),
        Err(err) => {
            tracing::debug!(error = %err, "viewer connection failed");
            member.gone.set();
            Offer::Gone
        }
    }
}

/// At shutdown: the last chunk to every member whose socket takes it now, then no more.
fn end_bodies(members: &mut Vec<Member>) {
    for member in members.drain(..) {
        if member.gone.is_set() {
            continue;
        }
        if member.stream.try_write(LAST_CHUNK).ok() == Some(LAST_CHUNK.len()) {
            let _ = socket2::SockRef::from(&*member.stream).shutdown(std::net::Shutdown::Write);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_has_one_task_per_few_dozen_members_and_never_none() {
        assert_eq!(pass_tasks(0), 1);
        assert_eq!(pass_tasks(1), 1);
        assert_eq!(pass_tasks(MEMBERS_PER_TASK), 1);
        assert_eq!(pass_tasks(MEMBERS_PER_TASK + 1), 2);
        assert_eq!(pass_tasks(1000), 1000_usize.div_ceil(MEMBERS_PER_TASK));
    }
}
