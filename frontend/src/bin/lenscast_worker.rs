//! Entry point of the frame workers' wasm binary (trunk builds it as a worker; see
//! `frontend::worker`). The page's first message says which role this worker plays.

fn main() {
    frontend::worker::entry::run();
}
