//! What the server's tests, the browser tests (`e2e`) and the load generator (`loadgen`)
//! share, so each exists once. Never a dependency of anything shipped: the server takes it
//! only as a dev-dependency; `e2e` and `loadgen` are test and bench tools themselves.
//!
//! - [`mjpeg`]: the one MJPEG client parser. A sans-I/O [`mjpeg::Parser`] checks the
//!   `multipart/x-mixed-replace` framing byte by byte without allocating;
//!   [`mjpeg::ChunkedParser`] puts HTTP/1.1 chunked decoding in front of it for raw TCP
//!   readers (the load generator); [`mjpeg::Reader`] reads a response body stream from any
//!   HTTP client and hands out whole JPEGs.
//! - [`process`]: the one way to start and stop the real `lenscast-server` binary: flags and
//!   environment, the address it announces on stdout, SIGTERM or kill, its logs.
//! - [`nats`]: a real NATS broker (`nats-server`) on free ports, killed and restarted at will.
//! - [`jpeg`]: real JPEGs to publish.
//! - [`temp`]: temporary folders that clean up after themselves.
//! - [`onnx`]: tiny ONNX models written by hand (a protobuf writer), for "your own model".
//!   The only module on wasm32 (the `segment` crate's tests run there too).

#[cfg(not(target_arch = "wasm32"))]
pub mod jpeg;
#[cfg(not(target_arch = "wasm32"))]
pub mod mjpeg;
#[cfg(not(target_arch = "wasm32"))]
pub mod nats;
pub mod onnx;
#[cfg(not(target_arch = "wasm32"))]
pub mod process;
#[cfg(not(target_arch = "wasm32"))]
pub mod temp;
