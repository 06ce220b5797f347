//! The MJPEG client side: a viewer's `multipart/x-mixed-replace` body, checked byte by byte.
//!
//! The server's framing (`protocol::mjpeg`): the body opens with a boundary line; each part
//! is `Content-Type: image/jpeg`, `Content-Length`, a blank line, the JPEG, then CRLF and the
//! next boundary line. [`Parser`] follows exactly that and says what it saw as [`Event`]s,
//! with no I/O and no allocation per part, so the same code serves a test that wants every
//! JPEG whole ([`Reader`]) and a load generator that only looks at a JPEG's first bytes and
//! drops the rest unread ([`ChunkedParser::skip`]).

mod chunked;
mod parser;
mod reader;

pub use chunked::ChunkedParser;
pub use parser::{Error, Event, MAX_JPEG, Parser, boundary_of, part_of};
pub use reader::{Part, Reader};
