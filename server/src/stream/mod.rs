//! Delivering a room's MJPEG stream to one viewer. [`respond`] is the one entry point; how
//! the frames then travel stays private to this module.
//!
//! - [`wire`]: the bytes: a published JPEG framed once ([`wire::Frame`]) and the fixed chunks
//!   around the parts. It knows nothing of rooms or viewers.
//! - `viewer`: one viewer's place in its room's frame sequence (newest frame only).
//! - Three ways to write the stream, picked by [`respond`]:
//!   - `fanout` (plain HTTP/1.1 without `?fps`, the common case): the socket is taken over
//!     from hyper after the response head (`handoff`) and joins its room's member list
//!     ([`members`]); one pass per frame offers the frame to every member, from one
//!     in-memory copy (`zerocopy`), through `socket`'s sends.
//!   - `socket` alone (plain HTTP/1.1 with `?fps`): a task of its own on its own clock.
//!   - `body` (HTTP/1.0, TLS, HTTP/2): hyper writes the frames as a response body.

pub(crate) mod handoff;
pub(crate) mod members;
pub(crate) mod wire;

mod body;
mod fanout;
mod services;
mod socket;
mod viewer;
mod zerocopy;

use std::{convert::Infallible, marker::PhantomData};

use axum::{
    body::Body,
    http::{HeaderName, Version, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;

pub use fanout::ZERO_COPY_MIN_MEMBERS;
pub(crate) use services::Services;
pub use zerocopy::SharedFile;

use crate::{room::ViewerGuard, write_deadline::WriteDeadline};
use handoff::Handoff;

/// The response that starts a stream.
///
/// It is deliberately not `Send`. When the socket is handed over, hyper must write the head
/// and nothing else, so the handler may await nothing between [`respond`] and returning its
/// response. axum only takes handlers whose futures are `Send`, and a future that holds a
/// non-`Send` value across an `.await` is not: the compiler keeps that rule.
#[must_use = "return it from the handler at once"]
pub(crate) struct Streaming {
    response: Response,
    _not_send: PhantomData<*const ()>,
}

impl IntoResponse for Streaming {
    fn into_response(self) -> Response {
        self.response
    }
}

/// A publisher's bytes opened directly in a tab (the stream or a snapshot): never a document
/// that runs anything.
pub(crate) const IMAGE_CSP: &str = "default-src 'none'; sandbox";

/// The stream's headers, also the whole answer to a `HEAD`.
fn headers() -> [(HeaderName, &'static str); 4] {
    [
        (header::CONTENT_TYPE, protocol::mjpeg::CONTENT_TYPE),
        (header::CACHE_CONTROL, "no-store"),
        (HeaderName::from_static("x-accel-buffering"), "no"),
        // Opened directly in a tab, a stream is never a document that runs anything.
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ),
    ]
}

/// What a stream would be, without becoming a viewer for a moment. A body of unknown length,
/// as GET's is: an empty one would add `Content-Length: 0`.
pub(crate) fn head() -> Response {
    let none = futures_util::stream::empty::<Result<Bytes, Infallible>>();
    (headers(), Body::from_stream(none)).into_response()
}

/// Streams room frames to the viewer that `guard` counts, capped at `fps` if given.
///
/// A plain HTTP/1.1 connection (which carries a [`Handoff`]) is taken over after the head and
/// written by the server itself, zero-copy; anything else gets a hyper body, which arms its
/// connection's write `deadline` while it lives.
pub(crate) fn respond(
    guard: ViewerGuard,
    fps: Option<f64>,
    version: Version,
    (handoff, deadline): (Option<Handoff>, Option<WriteDeadline>),
    services: &Services,
) -> Streaming {
    // The stream ends the way it does at shutdown when its room ends, too.
    let services = &services.ending_with(guard.room.closing());
    let body = match handoff {
        Some(handoff) if version == Version::HTTP_11 => {
            let services = services.clone();
            handoff.after_head(move |socket| {
                if fps.is_none() {
                    fanout::join(socket, guard, &services);
                } else {
                    let viewer = viewer::Viewer::new(
                        guard,
                        fps,
                        services.shutdown.clone(),
                        services.metrics,
                    );
                    services.tasks.spawn(socket::serve_capped_viewer(
                        socket,
                        viewer,
                        services.write_timeout,
                    ));
                }
            });
            // Never yields: hyper writes the head only, then gives the socket up.
            Body::from_stream(futures_util::stream::pending::<Result<Bytes, Infallible>>())
        }
        _ => body::viewer_body(
            viewer::Viewer::new(
                guard,
                fps,
                services.shutdown.clone(),
                std::sync::Arc::clone(&services.metrics),
            ),
            deadline.as_ref().map(WriteDeadline::arm),
        ),
    };
    Streaming {
        response: (headers(), body).into_response(),
        _not_send: PhantomData,
    }
}
