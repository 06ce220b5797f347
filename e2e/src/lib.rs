//! Harness for the browser end-to-end tests: the real server binary, headless Chromium
//! driven through chromedriver (`WebDriver`, via `fantoccini`), and a fake camera fed from a
//! Y4M file of known colours.
//!
//! Modules, by concern:
//! - [`server`]: [`Server`] runs `lenscast-server` as a child process on a free loopback
//!   port (through `testkit::process`); it can be killed and restarted on the same port
//!   (reconnect tests). [`ServerPaths`] finds the binary and the built frontend.
//! - [`browser`]: [`Browser`] starts chromedriver and one headless Chromium session with a
//!   fake camera ([`BrowserOptions`]); helpers wait for page conditions, read the `#preview`
//!   canvas ([`Browser::preview_image`]) and save screenshots to `target/e2e/`
//!   ([`Browser::screenshot`]).
//! - [`a11y`]: finds controls the way assistive technology and users do, by role and
//!   accessible name as Chromium computes them (`WebDriver`'s computed role and label).
//! - [`gate`]: [`gate::GatedProxy`], an HTTP proxy before the server that logs what the
//!   browser fetched and holds chosen downloads until the test lets them through.
//! - [`images`]: [`Image`], the pixels read back from a canvas, and colour statistics.
//! - [`main_thread`]: long tasks on the page's main thread, blocking it, and a viewer that
//!   times every frame (the worker tests and the frontend bench).
//! - [`mjpeg`]: reads a room's `stream.mjpg` as an independent viewer (`testkit`'s parser).
//! - [`viewport`]: an exact CSS viewport (desktop or phone) for layout checks.
//! - [`y4m`]: writes test videos: vertical colour bars of [`y4m::BARS`] with known luma.
//! - [`paths`]: the workspace, `target/e2e/` ([`artifacts_dir`]), free ports, environment.
//!
//! Temporary folders (Chromium profiles) come from `testkit::temp`.
//!
//! Everything is found through environment variables with fallbacks that work from a plain
//! `cargo test -p e2e` in this workspace: `LENSCAST_SERVER_BIN`, `LENSCAST_DIST`,
//! `LENSCAST_STATIC`, `CHROMEDRIVER`, `CHROMIUM`. Tests using the harness are `#[ignore]`d
//! (they need the built frontend and Chromium) and run by `cargo xtask test`.

pub mod a11y;
pub mod browser;
pub mod gate;
pub mod images;
pub mod main_thread;
pub mod mjpeg;
pub mod paths;
pub mod server;
pub mod share;
pub mod viewport;
pub mod y4m;

pub use browser::{Browser, BrowserOptions};
pub use images::Image;
pub use paths::{artifacts_dir, free_port, workspace_root};
pub use server::{Server, ServerPaths};
