//! One buffer sent to many sockets without copying it into each of them.
//!
//! A `write` copies its bytes into the socket's buffer: for an MJPEG frame going to a thousand
//! viewers that is a thousand copies of ~60 KB, the largest single cost of fan-out. Here the
//! frame is written once into an in-memory file (`memfd`), and `sendfile` hands the file's
//! pages to each socket by reference.
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
        io,
        os::fd::{AsFd, OwnedFd},
        sync::atomic::{AtomicBool, Ordering},
    };

    use rustix::{
        fs::{MemfdFlags, memfd_create, sendfile},
        io::Errno,
    };

    use super::Unsupported;

    /// Set once `sendfile` has been refused: no use trying again for every frame.
    static REFUSED: AtomicBool = AtomicBool::new(false);

    pub struct SharedFile {
        fd: OwnedFd,
        len: usize,
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
            Ok(Self {
                fd,
                len: bytes.len(),
            })
        }

        pub fn size(&self) -> usize {
            self.len
        }

        /// Sends bytes `offset..` of the file to the non-blocking `socket`; how many went.
        pub fn send_to(
            &self,
            socket: impl AsFd,
            offset: usize,
        ) -> Result<io::Result<usize>, Unsupported> {
            let mut at = offset as u64;
            match sendfile(socket, &self.fd, Some(&mut at), self.len - offset) {
                Ok(sent) => Ok(Ok(sent)),
                // What a kernel or sandbox without `sendfile` (for this pair of files) says.
                Err(Errno::INVAL | Errno::NOSYS | Errno::PERM | Errno::OPNOTSUPP)
                    if offset == 0 =>
                {
                    if !REFUSED.swap(true, Ordering::Relaxed) {
                        tracing::warn!("sendfile is not available: viewers get copied frames");
                    }
                    Err(Unsupported)
                }
                Err(err) => Ok(Err(err.into())),
            }
        }
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

/// A frame's bytes in an in-memory file, ready to be sent to any number of sockets.
pub use imp::SharedFile;

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::{
        io::Read,
        net::{TcpListener, TcpStream},
    };

    use super::*;

    #[test]
    fn the_file_reaches_a_socket_byte_for_byte_from_any_offset() {
        let bytes: Vec<u8> = (0..300_000_u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let file = SharedFile::new(&bytes).expect("memfd on Linux");
        assert_eq!(file.size(), bytes.len());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let sender = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut receiver, _) = listener.accept().expect("accept");
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            receiver.read_to_end(&mut got).expect("read");
            got
        });
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
