//! What one 62.7 KB send to a loopback socket costs the sending thread on this machine, by
//! itself: the floor under the fan-out's "µs of CPU per frame sent" (BENCHMARKS.md).
//!
//! 1000 connected socket pairs; a reader thread drains them all; the sender sends one frame
//! to each socket per round, 30 rounds a second, in one of three ways: `write` (a copy per
//! socket), `sendfile` from one in-memory file per frame, or the server's own
//! [`SharedFile::send_to`] (the file's pages `tee`d from a pipe and `splice`d to the socket).
//! It prints the sender thread's CPU per send, from `/proc/thread-self/schedstat`, the clock
//! `lenscast-loadgen` reads too: each run, then the median of the runs.
//!
//! `cargo run --release -p server --example send_floor`

#[cfg(target_os = "linux")]
mod floor {
    use std::{
        io::{Read, Write},
        net::{TcpListener, TcpStream},
        time::Duration,
    };

    use server::stream::SharedFile;

    const SOCKETS: usize = 1000;
    const FRAME: usize = 62_700;
    const ROUNDS: usize = 90;
    const RUNS: usize = 6;

    #[derive(Clone, Copy)]
    enum Way {
        Write,
        Sendfile,
        Server,
    }

    fn thread_cpu_ns() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .expect("Linux /proc/thread-self/schedstat")
    }

    fn sendfile_all(socket: &TcpStream, file: &std::os::fd::OwnedFd) {
        let mut at = 0_u64;
        while at < FRAME as u64 {
            let rest = FRAME - at as usize;
            rustix::fs::sendfile(socket, file, Some(&mut at), rest).expect("sendfile");
        }
    }

    /// The sender's µs of CPU per send, over `ROUNDS` rounds to every socket.
    fn run(way: Way) -> f64 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let mut senders = Vec::with_capacity(SOCKETS);
        let mut receivers = Vec::with_capacity(SOCKETS);
        for _ in 0..SOCKETS {
            receivers.push(TcpStream::connect(addr).expect("connect"));
            let (sender, _) = listener.accept().expect("accept");
            sender.set_nodelay(true).expect("nodelay");
            senders.push(sender);
        }
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0_u8; FRAME];
            for _ in 0..ROUNDS {
                for socket in &mut receivers {
                    socket.read_exact(&mut buf).expect("read a frame");
                }
            }
        });
        let frame = vec![0x5A_u8; FRAME];
        let mut spent = 0;
        for _ in 0..ROUNDS {
            // A new file per frame, as the server makes one per published frame (not timed).
            let shared = SharedFile::new(&frame).expect("memfd");
            // The same kind of file for plain `sendfile`, as the server used before.
            let plain =
                rustix::fs::memfd_create("frame", rustix::fs::MemfdFlags::CLOEXEC).expect("memfd");
            let mut written = 0;
            while written < FRAME {
                written += rustix::io::write(&plain, &frame[written..]).expect("write memfd");
            }
            let start = thread_cpu_ns();
            for socket in &mut senders {
                match way {
                    Way::Write => socket.write_all(&frame).expect("write"),
                    Way::Sendfile => sendfile_all(socket, &plain),
                    Way::Server => {
                        let mut sent = 0;
                        while sent < FRAME {
                            let result = shared.send_to(&*socket, sent);
                            sent += result.expect("sendfile available").expect("send");
                        }
                    }
                }
            }
            spent += thread_cpu_ns() - start;
            std::thread::sleep(Duration::from_millis(33));
        }
        reader.join().expect("reader");
        spent as f64 / 1000.0 / (ROUNDS * SOCKETS) as f64
    }

    fn median(mut runs: Vec<f64>) -> f64 {
        runs.sort_by(f64::total_cmp);
        f64::midpoint(runs[(runs.len() - 1) / 2], runs[runs.len() / 2])
    }

    pub fn main() {
        if let Err(err) = rlimit::increase_nofile_limit(4 * SOCKETS as u64) {
            eprintln!("cannot raise the open-file limit: {err}");
        }
        println!("{SOCKETS} loopback sockets, {FRAME} B each; sender's µs of CPU per send:");
        let (mut write, mut sendfile, mut server) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            write.push(run(Way::Write));
            sendfile.push(run(Way::Sendfile));
            server.push(run(Way::Server));
            println!(
                "  write {:.2}  sendfile {:.2}  tee+splice (server) {:.2}",
                write[write.len() - 1],
                sendfile[sendfile.len() - 1],
                server[server.len() - 1]
            );
        }
        println!(
            "median of {RUNS}: write {:.2}  sendfile {:.2}  tee+splice (server) {:.2}",
            median(write),
            median(sendfile),
            median(server)
        );
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    floor::main();
    #[cfg(not(target_os = "linux"))]
    eprintln!("send_floor measures Linux's sendfile and splice; nothing to do here");
}
