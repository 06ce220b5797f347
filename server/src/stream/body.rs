//! The stream as a hyper response body, for the connections the server does not take over
//! (HTTP/1.0, TLS, HTTP/2): the prologue, then the newest frame whenever the connection can
//! take one.

use std::convert::Infallible;

use axum::body::Body;
use bytes::Bytes;
use protocol::mjpeg::BOUNDARY_LINE;

use crate::stream::viewer::Viewer;

/// A viewer's response body for hyper to write: the prologue, then the newest frame
/// whenever the connection can take one, until the viewer leaves or the server shuts down.
pub fn viewer_body(viewer: Viewer) -> Body {
    let prologue = futures_util::stream::once(async { Bytes::from_static(BOUNDARY_LINE) });
    let frames = futures_util::stream::unfold(viewer, |mut viewer| async move {
        let frame = viewer.next_frame().await?;
        Some((frame.part.clone(), viewer))
    });
    Body::from_stream(futures_util::StreamExt::map(
        futures_util::StreamExt::chain(prologue, frames),
        Ok::<_, Infallible>,
    ))
}
