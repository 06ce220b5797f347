//! Watching the page's main thread from outside: `longtask` entries (tasks over 50 ms),
//! blocking it with a busy loop, and a viewer that timestamps every frame it receives so
//! its rate can be read over any window (before, during and after a block).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use anyhow::Result;
use tokio::task::JoinHandle;

use crate::{Browser, mjpeg::MjpegReader};

/// Starts collecting the page's long tasks (`PerformanceObserver`, type `longtask`).
pub async fn observe_long_tasks(browser: &Browser) -> Result<()> {
    browser
        .eval(
            "window.__lenscast_longtasks = [];
             new PerformanceObserver(list => {
                 for (const e of list.getEntries()) window.__lenscast_longtasks.push(e.duration);
             }).observe({type: 'longtask'});",
            vec![],
        )
        .await?;
    Ok(())
}

/// Long tasks since the last call (or since [`observe_long_tasks`]): `(count, total ms)`.
pub async fn take_long_tasks(browser: &Browser) -> Result<(u64, f64)> {
    let value = browser
        .eval(
            "const t = window.__lenscast_longtasks || []; window.__lenscast_longtasks = [];
             return [t.length, t.reduce((a, b) => a + b, 0)];",
            vec![],
        )
        .await?;
    Ok((
        value[0].as_u64().unwrap_or(0),
        value[1].as_f64().unwrap_or(0.0),
    ))
}

/// Runs a busy loop on the page's main thread for `duration` (returns when it ends).
pub async fn block_main_thread(browser: &Browser, duration: Duration) -> Result<()> {
    browser
        .eval(
            "const end = performance.now() + arguments[0]; while (performance.now() < end) {}",
            vec![serde_json::json!(duration.as_millis() as u64)],
        )
        .await?;
    Ok(())
}

/// A viewer reading a `stream.mjpg` in the background, keeping each frame's arrival time.
pub struct TimedViewer {
    times: Arc<Mutex<Vec<SystemTime>>>,
    task: JoinHandle<()>,
}

impl TimedViewer {
    /// Opens `url` and reads until dropped (or the stream ends).
    pub async fn open(url: &str) -> Result<Self> {
        let mut reader = MjpegReader::open(url).await?;
        let times: Arc<Mutex<Vec<SystemTime>>> = Arc::default();
        let task = {
            let times = Arc::clone(&times);
            tokio::spawn(async move {
                while let Ok(part) = reader.next_part(Duration::from_secs(30)).await {
                    times.lock().expect("not poisoned").push(part.received);
                }
            })
        };
        Ok(Self { times, task })
    }

    /// Frames received so far.
    pub fn count(&self) -> usize {
        self.times.lock().expect("not poisoned").len()
    }

    /// Frames per second received between `from` and `to`.
    pub fn fps_between(&self, from: SystemTime, to: SystemTime) -> f64 {
        let seconds = to.duration_since(from).unwrap_or_default().as_secs_f64();
        if seconds <= 0.0 {
            return 0.0;
        }
        let frames = self
            .times
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|&&t| t >= from && t < to)
            .count();
        frames as f64 / seconds
    }

    /// The longest gap between two frames received between `from` and `to`.
    pub fn longest_gap(&self, from: SystemTime, to: SystemTime) -> Duration {
        let times = self.times.lock().expect("not poisoned");
        let inside: Vec<_> = times.iter().filter(|&&t| t >= from && t < to).collect();
        inside
            .windows(2)
            .map(|w| w[1].duration_since(*w[0]).unwrap_or_default())
            .max()
            .unwrap_or_default()
    }
}

impl Drop for TimedViewer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
