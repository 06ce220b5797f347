//! One buffer sent to many sockets without copying it into each of them.
//!
//! A `write` copies its bytes into the socket's buffer: for an MJPEG frame going to a thousand
//! viewers that is a thousand copies of ~60 KB, the largest single cost of fan-out. Here the
//! frame is written once into an in-memory file (`memfd`), and each socket gets references to
//! the file's pages instead of a copy.
//!
//! The pages are also put once into a pipe ([`SharedFile`]'s page pipe). A whole frame goes to
//! a socket as `tee` (the page references into this thread's empty scratch pipe: a few pointer
//! copies) then `splice` (scratch pipe to socket). `sendfile` would do the same but look every
//! page up in the file again for every socket; the pipe pair costs about a quarter less CPU
//! per send at 1000 sockets (`cargo run --release -p server --example send_floor`). The rest of
//! a frame a socket could not take at once, and anything the pipes cannot carry, goes by
//! `sendfile` from the file.
//!
//! The file is never written again after [`SharedFile::new`]: pages in flight are referenced,
//! not copied, so changing them would change frames already "sent". Each frame gets its own
//! file, closed when the last viewer is done with the frame.
//!
//! Elsewhere than Linux, or where the kernel refuses (`memfd_create` or `sendfile` filtered
//! out, an old kernel), [`SharedFile::new`] fails or [`SharedFile::send_to`] reports
//! [`Unsupported`], and callers write the bytes themselves.

/// `sendfile` failed in a way that will not change: write the bytes instead.
#[derive(Debug)]
pub struct Unsupported;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::{
        cell::RefCell,
        io,
        os::fd::{AsFd, OwnedFd},
        sync::atomic::{AtomicBool, Ordering},
    };

    use rustix::{
        fs::{MemfdFlags, memfd_create, sendfile},
        io::Errno,
        pipe::{
            PipeFlags, SpliceFlags, fcntl_getpipe_size, fcntl_setpipe_size, pipe_with, splice, tee,
        },
    };

    use super::Unsupported;

    /// Set once `sendfile` has been refused: no use trying again for every frame.
    static REFUSED: AtomicBool = AtomicBool::new(false);
    /// Set once `splice` or `tee` has been refused: `sendfile` alone from then on.
    static PIPES_REFUSED: AtomicBool = AtomicBool::new(false);

    /// What a kernel or sandbox without a call (for this pair of files) says.
    fn is_refusal(err: Errno) -> bool {
        matches!(
            err,
            Errno::INVAL | Errno::NOSYS | Errno::PERM | Errno::OPNOTSUPP
        )
    }

    pub struct SharedFile {
        fd: OwnedFd,
        len: usize,
        /// The whole file in a pipe, when the pipes work here and it fits in one.
        pages: Option<PagePipe>,
    }

    impl SharedFile {
        pub fn new(bytes: &[u8]) -> io::Result<Self> {
            if REFUSED.load(Ordering::Relaxed) {
                return Err(io::ErrorKind::Unsupported.into());
            }
            let fd = memfd_create("lenscast-frame", MemfdFlags::CLOEXEC)?;
            let mut written = 0;
            while written < bytes.len() {
                written += rustix::io::write(&fd, &bytes[written..])?;
            }
            let pages = PagePipe::fill(&fd, bytes.len());
            Ok(Self {
                fd,
                len: bytes.len(),
                pages,
            })
        }

        pub fn size(&self) -> usize {
            self.len
        }

        #[cfg(test)]
        pub fn has_page_pipe(&self) -> bool {
            self.pages.is_some()
        }

        /// Sends bytes `offset..` of the file to the non-blocking `socket`; how many went.
        pub fn send_to(
            &self,
            socket: impl AsFd,
            offset: usize,
        ) -> Result<io::Result<usize>, Unsupported> {
            if offset == 0
                && let Some(pages) = &self.pages
                && let Some(sent) = pages.send(socket.as_fd(), self.len)
            {
                return Ok(sent);
            }
            let mut at = offset as u64;
            match sendfile(socket, &self.fd, Some(&mut at), self.len - offset) {
                Ok(sent) => Ok(Ok(sent)),
                Err(err) if offset == 0 && is_refusal(err) => {
                    if !REFUSED.swap(true, Ordering::Relaxed) {
                        tracing::warn!("sendfile is not available: viewers get copied frames");
                    }
                    Err(Unsupported)
                }
                Err(err) => Ok(Err(err.into())),
            }
        }
    }

    /// A pipe holding references to all of a file's pages, filled once and never drained:
    /// `tee` copies its references out without consuming them.
    struct PagePipe {
        /// The read end; the write end is closed once the pipe is full.
        pipe: OwnedFd,
        capacity: usize,
    }

    /// Makes `pipe` hold at least `bytes` (where the system allows it); its capacity.
    fn with_capacity(pipe: &OwnedFd, bytes: usize) -> Option<usize> {
        let now = fcntl_getpipe_size(pipe).ok()?;
        if now >= bytes {
            return Some(now);
        }
        fcntl_setpipe_size(pipe, bytes).ok()
    }

    impl PagePipe {
        fn fill(file: &OwnedFd, len: usize) -> Option<Self> {
            if PIPES_REFUSED.load(Ordering::Relaxed) || len == 0 {
                return None;
            }
            let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).ok()?;
            // A page a slot: the file's pages start at offset 0, so they fill whole slots
            // (`splice` below notices if they take more).
            let capacity = with_capacity(&write, len.div_ceil(4096) * 4096)?;
            let mut at = 0_u64;
            while at < len as u64 {
                let rest = len - at as usize;
                match splice(
                    file,
                    Some(&mut at),
                    &write,
                    None,
                    rest,
                    SpliceFlags::NONBLOCK,
                ) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(err) => {
                        if is_refusal(err) {
                            PIPES_REFUSED.store(true, Ordering::Relaxed);
                        }
                        // EAGAIN: the file's pages took more slots than planned.
                        return None;
                    }
                }
            }
            Some(Self {
                pipe: read,
                capacity,
            })
        }

        /// `tee` + `splice` of the whole file to `socket`; `None` when the pipes cannot do
        /// it now (then nothing was sent).
        fn send(
            &self,
            socket: std::os::fd::BorrowedFd<'_>,
            len: usize,
        ) -> Option<io::Result<usize>> {
            let sent = SCRATCH.try_with(|slot| {
                let mut slot = slot.try_borrow_mut().ok()?;
                match &*slot {
                    ScratchSlot::Ready(scratch) if scratch.capacity >= self.capacity => {}
                    ScratchSlot::Unavailable => return None,
                    ScratchSlot::Ready(_) | ScratchSlot::Empty => {
                        *slot = Scratch::new(self.capacity).map_or_else(
                            || {
                                // Out of pipes (the per-user pipe memory limit, or file
                                // descriptors): this thread uses `sendfile` from now on
                                // rather than trying again for every send.
                                tracing::debug!("no scratch pipe: this thread sends with sendfile");
                                ScratchSlot::Unavailable
                            },
                            ScratchSlot::Ready,
                        );
                    }
                }
                let ScratchSlot::Ready(scratch) = &*slot else {
                    return None;
                };
                match tee(&self.pipe, &scratch.write, len, SpliceFlags::NONBLOCK) {
                    Ok(teed) if teed == len => {}
                    result => {
                        if let Err(err) = result
                            && is_refusal(err)
                        {
                            PIPES_REFUSED.store(true, Ordering::Relaxed);
                        }
                        // Whatever went into the scratch pipe goes with it.
                        *slot = ScratchSlot::Empty;
                        return None;
                    }
                }
                let sent = splice(
                    &scratch.read,
                    None,
                    socket,
                    None,
                    len,
                    SpliceFlags::NONBLOCK,
                );
                if sent != Ok(len) {
                    // The rest of the frame sits in the scratch pipe; the next send needs an
                    // empty one. Rare: only a socket with a full buffer takes part of a frame.
                    *slot = ScratchSlot::Empty;
                }
                #[cfg(test)]
                if let Ok(n) = sent {
                    PIPE_BYTES.set(PIPE_BYTES.get() + n);
                }
                match sent {
                    Err(err) if is_refusal(err) => {
                        PIPES_REFUSED.store(true, Ordering::Relaxed);
                        None
                    }
                    sent => Some(sent.map_err(io::Error::from)),
                }
            });
            // No thread-local any more (the thread is ending): `sendfile` will do.
            sent.ok().flatten()
        }
    }

    /// A thread's empty pipe between a [`PagePipe`] and a socket.
    struct Scratch {
        read: OwnedFd,
        write: OwnedFd,
        capacity: usize,
    }

    impl Scratch {
        fn new(capacity: usize) -> Option<Self> {
            let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).ok()?;
            let capacity = with_capacity(&write, capacity)?;
            Some(Self {
                read,
                write,
                capacity,
            })
        }
    }

    /// A thread's scratch pipe, if it has one.
    enum ScratchSlot {
        Empty,
        Ready(Scratch),
        /// Making one failed: this thread does without.
        Unavailable,
    }

    thread_local! {
        /// Used only inside one synchronous send: never held across an `.await`.
        static SCRATCH: RefCell<ScratchSlot> = const { RefCell::new(ScratchSlot::Empty) };
    }

    #[cfg(test)]
    thread_local! {
        /// Bytes this thread sent through the pipes (not by `sendfile`).
        pub static PIPE_BYTES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::io;

    use super::Unsupported;

    pub struct SharedFile(std::convert::Infallible);

    impl SharedFile {
        pub fn new(_bytes: &[u8]) -> io::Result<Self> {
            Err(io::ErrorKind::Unsupported.into())
        }

        pub fn size(&self) -> usize {
            match self.0 {}
        }

        pub fn send_to<S>(
            &self,
            _socket: S,
            _offset: usize,
        ) -> Result<io::Result<usize>, Unsupported> {
            match self.0 {}
        }
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
use imp::PIPE_BYTES;
/// A frame's bytes in an in-memory file, ready to be sent to any number of sockets.
pub use imp::SharedFile;

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::{
        io::Read,
        net::{TcpListener, TcpStream},
    };

    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    fn connected() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let sender = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (receiver, _) = listener.accept().expect("accept");
        (sender, receiver)
    }

    fn read_all(mut receiver: TcpStream) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut got = Vec::new();
            receiver.read_to_end(&mut got).expect("read");
            got
        })
    }

    /// Sends the file from `from` to its end over a non-blocking socket, waiting as needed.
    fn send_rest(file: &SharedFile, socket: &TcpStream, mut from: usize) {
        while from < file.size() {
            match file.send_to(socket, from).expect("sendfile available") {
                Ok(n) => from += n,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(err) => panic!("send: {err}"),
            }
        }
    }

    #[test]
    fn whole_files_of_any_size_go_through_the_page_pipe_to_many_sockets() {
        for len in [1, 4095, 4096, 62_700, 300_000] {
            let bytes = pattern(len);
            let file = SharedFile::new(&bytes).expect("memfd on Linux");
            assert!(file.has_page_pipe(), "{len} bytes fit a pipe");
            let before = PIPE_BYTES.get();
            for _ in 0..3 {
                let (sender, receiver) = connected();
                let reader = read_all(receiver);
                sender.set_nonblocking(true).expect("non-blocking");
                send_rest(&file, &sender, 0);
                drop(sender);
                assert!(reader.join().expect("reader") == bytes, "{len} bytes");
            }
            // Not `sendfile` all along: fresh sockets take a frame's first bytes from the pipe.
            assert!(
                PIPE_BYTES.get() - before >= 3 * len.min(60_000),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn what_a_full_socket_did_not_take_never_reaches_another_socket() {
        // Small frames leave room in the scratch pipe, where leftovers could hide.
        for len in [1_000, 62_700] {
            let old = pattern(len);
            let new: Vec<u8> = old.iter().map(|b| b ^ 0x55).collect();
            let (old_file, new_file) = (
                SharedFile::new(&old).expect("memfd on Linux"),
                SharedFile::new(&new).expect("memfd on Linux"),
            );
            assert!(old_file.has_page_pipe() && new_file.has_page_pipe());
            let (full, full_receiver) = connected();
            full.set_nonblocking(true).expect("non-blocking");
            // Nobody reads yet: whole frames until the socket's buffers are full.
            let mut whole = 0;
            let cut = loop {
                match old_file.send_to(&full, 0).expect("sendfile available") {
                    Ok(n) if n == len => whole += 1,
                    Ok(n) => break n,
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break 0,
                    Err(err) => panic!("send: {err}"),
                }
                assert!(whole < 1_000_000, "the socket never filled up");
            };
            // Another socket, another frame: nothing of the old one may come first.
            let (other, other_receiver) = connected();
            let other_reader = read_all(other_receiver);
            other.set_nonblocking(true).expect("non-blocking");
            let before = PIPE_BYTES.get();
            for _ in 0..3 {
                send_rest(&new_file, &other, 0);
            }
            assert!(
                PIPE_BYTES.get() - before >= len,
                "after the cut send the pipes work again"
            );
            drop(other);
            let got = other_reader.join().expect("reader");
            assert!(
                got.len() == 3 * len && got.chunks(len).all(|f| f == new),
                "{len}"
            );

            // The full socket still gets the rest of its frame, then whole ones.
            let reader = read_all(full_receiver);
            send_rest(&old_file, &full, cut);
            send_rest(&old_file, &full, 0);
            drop(full);
            let got = reader.join().expect("reader");
            assert_eq!(got.len(), (whole + 2) * len, "{len}-byte frames");
            assert!(got.chunks(len).all(|f| f == old), "{len}-byte frames");
        }
    }

    #[test]
    fn the_file_reaches_a_socket_byte_for_byte_from_any_offset() {
        let bytes = pattern(300_000);
        let file = SharedFile::new(&bytes).expect("memfd on Linux");
        assert_eq!(file.size(), bytes.len());
        let (sender, receiver) = connected();
        let reader = read_all(receiver);
        // A blocking socket: each call sends something; start past the first byte, as a
        // viewer whose previous write was cut short does.
        let mut sent = 1;
        while sent < file.size() {
            let n = file
                .send_to(&sender, sent)
                .unwrap_or_else(|Unsupported| panic!("sendfile refused"))
                .expect("sendfile");
            assert!(n > 0);
            sent += n;
        }
        drop(sender);
        assert!(reader.join().expect("reader") == bytes[1..]);
    }
}
