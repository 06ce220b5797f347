//! The stream as a hyper response body, for the connections the server does not take over
//! (HTTP/1.0, TLS, HTTP/2): the prologue, then the newest frame whenever the connection can
//! take one.

use std::convert::Infallible;

use axum::body::Body;
use bytes::Bytes;
use protocol::mjpeg::BOUNDARY_LINE;

use crate::{stream::viewer::Viewer, write_deadline::Armed};

/// A viewer's response body for hyper to write: the prologue, then the newest frame
/// whenever the connection can take one, until the viewer leaves or the server shuts down.
/// While it lives, `deadline` drops the connection if it takes no bytes for the viewer write
/// timeout (without one, e.g. with no connection to time, there is no deadline).
pub fn viewer_body(viewer: Viewer, deadline: Option<Armed>) -> Body {
    let prologue = futures_util::stream::once(async { Bytes::from_static(BOUNDARY_LINE) });
    let frames =
        futures_util::stream::unfold((viewer, deadline), |(mut viewer, deadline)| async move {
            let frame = viewer.next_frame().await?;
            Some((frame.part.clone(), (viewer, deadline)))
        });
    Body::from_stream(futures_util::StreamExt::map(
        futures_util::StreamExt::chain(prologue, frames),
        Ok::<_, Infallible>,
    ))
}
