//! The app's viewer link, as the broadcast tests read it from the page.

use std::time::Duration;

use anyhow::{Context, Result};

use crate::{Browser, Server};

/// The text of `#share-link` once the page shows it (waiting up to `wait`).
pub async fn share_link(browser: &Browser, wait: Duration) -> Result<String> {
    let link = browser
        .wait_for(
            "the share link",
            "const e = document.querySelector('#share-link'); return e ? e.textContent.trim() : null;",
            wait,
        )
        .await?;
    Ok(link.as_str().unwrap_or_default().to_owned())
}

/// `http://127.0.0.1:P/watch/ROOM` → the room's `stream.mjpg` URL on `server`.
pub fn stream_url(server: &Server, link: &str) -> Result<String> {
    let room = link
        .rsplit_once("/watch/")
        .map(|(_, room)| room)
        .filter(|room| !room.is_empty())
        .with_context(|| format!("{link} is not a /watch/ link"))?;
    Ok(server.url(&protocol::rooms::stream_path(room)))
}
