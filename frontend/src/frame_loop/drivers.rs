//! Drivers pull frames from a source into the [`Engine`]. Each owns everything it started
//! (tracks, reader, callbacks, timers) and releases it on drop.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use gloo::timers::callback::Interval;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{MediaStream, MediaStreamTrack, ReadableStream, ReadableStreamDefaultReader};

use super::{Engine, FramePath, process_video_frame};
use crate::{
    glue::{
        bindings::{TrackProcessor, VideoElementExt, VideoFrame},
        get_f64, now_ms, object,
    },
    media::{camera, test_pattern::TestPattern, video::HiddenVideo},
};

/// A running source. Dropping it stops the source.
pub enum Driver {
    Processor(ProcessorDriver),
    Video(VideoDriver),
    Pattern(PatternDriver),
}

/// `MediaStreamTrackProcessor`: frames are read as `VideoFrame`s (on the page, or in the
/// filter worker from the processor's readable stream transferred there).
pub struct ProcessorDriver {
    cancelled: Rc<Cell<bool>>,
    reader: ReadableStreamDefaultReader,
    stream: Option<MediaStream>,
}

/// The self-rescheduling frame callback, shared with itself.
type SharedCallback = Rc<RefCell<Option<Closure<dyn FnMut(f64, JsValue)>>>>;

/// A frame waiting for the engine, with its capture time and number.
type Waiting = Rc<RefCell<Option<(VideoFrame, f64, u64)>>>;

impl ProcessorDriver {
    pub fn start(
        engine: Rc<RefCell<Engine>>,
        stream: MediaStream,
        track: &MediaStreamTrack,
    ) -> Result<Self, JsValue> {
        let readable = open_processor(track)?;
        let fps = camera::frame_rate(track);
        let mut driver = Self::from_readable(engine, &readable, fps)?;
        driver.stream = Some(stream);
        Ok(driver)
    }

    /// Reads the frames of a processor's `readable` (which may have been transferred from
    /// the page). `fps` is the rate the source says it delivers, for counting the frames
    /// the processor dropped before we could read them.
    pub fn from_readable(
        engine: Rc<RefCell<Engine>>,
        readable: &ReadableStream,
        fps: Option<f64>,
    ) -> Result<Self, JsValue> {
        let reader: ReadableStreamDefaultReader = readable.get_reader().unchecked_into();
        let cancelled = Rc::new(Cell::new(false));
        spawn_local(read_frames(
            engine,
            reader.clone(),
            Rc::clone(&cancelled),
            fps,
        ));
        Ok(Self {
            cancelled,
            reader,
            stream: None,
        })
    }
}

/// A `MediaStreamTrackProcessor` for `track`; its `readable` yields `VideoFrame`s.
pub fn open_processor(track: &MediaStreamTrack) -> Result<ReadableStream, JsValue> {
    // A small buffer: the reader drains it at once and does its own newest-only dropping.
    // Frames the processor drops while the reader is held up are counted from the gaps
    // in the frames' timestamps.
    let processor = TrackProcessor::new(&object(&[
        ("track", track.into()),
        ("maxBufferSize", 4.into()),
    ]))?;
    Ok(processor.readable())
}

async fn read_frames(
    engine: Rc<RefCell<Engine>>,
    reader: ReadableStreamDefaultReader,
    cancelled: Rc<Cell<bool>>,
    fps: Option<f64>,
) {
    let waiting: Waiting = Rc::default();
    let busy = Rc::new(Cell::new(false));
    let mut number = 0;
    let mut last_timestamp: Option<f64> = None;
    while let Ok(result) = JsFuture::from(reader.read()).await {
        let done = js_sys::Reflect::get(&result, &"done".into())
            .ok()
            .and_then(|done| done.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let Ok(frame) = js_sys::Reflect::get(&result, &"value".into()) else {
            break;
        };
        let frame: VideoFrame = frame.unchecked_into();
        if cancelled.get() {
            frame.close();
            break;
        }
        let timestamp = frame.timestamp();
        let missed = match (last_timestamp, fps) {
            (Some(last), Some(fps)) => missed_frames(timestamp - last, fps),
            _ => 0,
        };
        last_timestamp = Some(timestamp);
        number += 1 + missed;
        let captured = now_ms();
        {
            let totals = &mut engine.borrow_mut().stats.totals;
            totals.captured += 1 + missed;
            totals.dropped += missed;
        }
        if busy.get() {
            let replaced = waiting.borrow_mut().replace((frame, captured, number));
            if let Some((old, ..)) = replaced {
                old.close();
                engine.borrow_mut().stats.totals.dropped += 1;
            }
            continue;
        }
        busy.set(true);
        spawn_local(process_frames(
            Rc::clone(&engine),
            (frame, captured, number),
            Rc::clone(&waiting),
            Rc::clone(&busy),
            Rc::clone(&cancelled),
        ));
    }
    if let Some((frame, ..)) = waiting.borrow_mut().take() {
        frame.close();
    }
}

/// Frames a source running at `fps` delivered between two frames `gap_us` microseconds
/// apart (their timestamps) that never reached the reader: the processor drops frames
/// while nobody reads, and those count as delivered and dropped.
pub fn missed_frames(gap_us: f64, fps: f64) -> u64 {
    if !(fps.is_finite() && fps > 0.0 && gap_us.is_finite() && gap_us > 0.0) {
        return 0;
    }
    let periods = gap_us * fps / 1e6;
    // A gap of over a minute is a paused source, not a thousand lost frames.
    if periods > 60.0 * fps {
        return 0;
    }
    // A frame late by up to 3/4 of a period is jitter (a loaded machine delays capture),
    // not a lost frame: only gaps of 1.75 periods and more count one.
    (periods - 0.75).floor().max(0.0) as u64
}

/// Processes `first`, then whatever frame is waiting when it is done, until none is.
async fn process_frames(
    engine: Rc<RefCell<Engine>>,
    first: (VideoFrame, f64, u64),
    waiting: Waiting,
    busy: Rc<Cell<bool>>,
    cancelled: Rc<Cell<bool>>,
) {
    let mut next = Some(first);
    while let Some((mut frame, mut captured, mut number)) = next {
        // The mask of the last frame's input first (it lags by one frame, never more); a
        // newer frame that came meanwhile replaces this one.
        let gate = engine.borrow().mask_gate();
        if let Some(gate) = gate {
            let _ = JsFuture::from(gate).await;
            if let Some(newer) = waiting.borrow_mut().take() {
                frame.close();
                engine.borrow_mut().stats.totals.dropped += 1;
                (frame, captured, number) = newer;
            }
        }
        if !cancelled.get() {
            process_video_frame(&engine, &frame, captured, number).await;
        }
        frame.close();
        next = waiting.borrow_mut().take();
    }
    busy.set(false);
}

impl Drop for ProcessorDriver {
    fn drop(&mut self) {
        self.cancelled.set(true);
        // Ends the pending read (it resolves as done) and releases the track's frames.
        let _ = self.reader.cancel();
        if let Some(stream) = &self.stream {
            camera::stop(stream);
        }
    }
}

/// A `<video>` element read on each new frame (`requestVideoFrameCallback`, or
/// `requestAnimationFrame` where that is missing).
pub struct VideoDriver {
    video: Rc<HiddenVideo>,
    stream: Option<MediaStream>,
    handle: Rc<Cell<Option<i32>>>,
    callback: SharedCallback,
    uses_video_callback: bool,
}

impl VideoDriver {
    /// Starts reading `video` (already playing). `stream` is stopped on drop, if given.
    pub fn start(
        engine: Rc<RefCell<Engine>>,
        video: HiddenVideo,
        stream: Option<MediaStream>,
    ) -> Self {
        let uses_video_callback = crate::glue::bindings::has_video_frame_callback();
        engine.borrow_mut().stats.totals.path = if uses_video_callback {
            FramePath::VideoCallback
        } else {
            FramePath::AnimationFrame
        };
        let video = Rc::new(video);
        let handle: Rc<Cell<Option<i32>>> = Rc::default();
        let callback: SharedCallback = Rc::default();
        let mut last_presented: Option<u64> = None;
        let mut last_time = -1.0;
        let mut number = 0_u64;
        let closure = {
            let video = Rc::clone(&video);
            let handle = Rc::clone(&handle);
            let callback = Rc::clone(&callback);
            Closure::<dyn FnMut(f64, JsValue)>::new(move |_now: f64, metadata: JsValue| {
                let element = video.element();
                let mut engine = engine.borrow_mut();
                if uses_video_callback {
                    // presentedFrames counts every frame shown; gaps are frames we missed.
                    let presented = get_f64(&metadata, "presentedFrames").unwrap_or(0.0) as u64;
                    if let Some(last) = last_presented {
                        let missed = presented.saturating_sub(last).saturating_sub(1);
                        engine.stats.totals.dropped += missed;
                        engine.stats.totals.captured += missed;
                    }
                    last_presented = Some(presented);
                    number = presented;
                    engine.stats.totals.captured += 1;
                    engine.process_video(element, now_ms(), number);
                } else {
                    let time = element.current_time();
                    if (time - last_time).abs() > f64::EPSILON {
                        last_time = time;
                        number += 1;
                        engine.stats.totals.captured += 1;
                        engine.process_video(element, now_ms(), number);
                    }
                }
                drop(engine);
                if let Some(callback) = callback.borrow().as_ref() {
                    handle.set(Some(schedule(element, callback, uses_video_callback)));
                }
            })
        };
        handle.set(Some(schedule(
            video.element(),
            &closure,
            uses_video_callback,
        )));
        *callback.borrow_mut() = Some(closure);
        Self {
            video,
            stream,
            handle,
            callback,
            uses_video_callback,
        }
    }
}

fn schedule(
    video: &web_sys::HtmlVideoElement,
    callback: &Closure<dyn FnMut(f64, JsValue)>,
    uses_video_callback: bool,
) -> i32 {
    if uses_video_callback {
        video
            .unchecked_ref::<VideoElementExt>()
            .request_video_frame_callback(callback.as_ref().unchecked_ref()) as i32
    } else {
        web_sys::window()
            .and_then(|window| {
                window
                    .request_animation_frame(callback.as_ref().unchecked_ref())
                    .ok()
            })
            .unwrap_or_default()
    }
}

impl Drop for VideoDriver {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            if self.uses_video_callback {
                self.video
                    .element()
                    .unchecked_ref::<VideoElementExt>()
                    .cancel_video_frame_callback(handle as u32);
            } else if let Some(window) = web_sys::window() {
                let _ = window.cancel_animation_frame(handle);
            }
        }
        // Breaks the closure's reference cycle (it holds `callback` itself).
        self.callback.borrow_mut().take();
        if let Some(stream) = &self.stream {
            camera::stop(stream);
        }
    }
}

/// The synthetic test pattern, painted at the chosen frame rate.
pub struct PatternDriver {
    _timer: Interval,
}

impl PatternDriver {
    pub fn start(engine: Rc<RefCell<Engine>>, pattern: TestPattern, fps: u32) -> Self {
        engine.borrow_mut().stats.totals.path = FramePath::Pattern;
        let fps = f64::from(fps.max(1));
        let start = now_ms();
        let mut produced = 0_u64;
        // Tick twice per frame period and paint when a frame is due, so the rate holds even
        // though timers are not exact; frames that fell due while the page was busy are
        // skipped (and counted as dropped), never painted late in a burst.
        let period = ((500.0 / fps) as u32).max(4);
        let timer = Interval::new(period, move || {
            let now = now_ms();
            let due = ((now - start) * fps / 1000.0) as u64 + 1;
            if due <= produced {
                return;
            }
            let mut engine = engine.borrow_mut();
            let missed = due - produced - 1;
            engine.stats.totals.captured += missed + 1;
            engine.stats.totals.dropped += missed;
            produced = due;
            engine.process_painted(pattern.size(), now, due, |rgba| {
                pattern.paint(rgba, due, now - start);
            });
        });
        Self { _timer: timer }
    }
}

#[cfg(test)]
mod tests {
    use super::missed_frames;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn gaps_count_whole_lost_frames_not_jitter() {
        let period = 1e6 / 30.0;
        assert_eq!(missed_frames(period, 30.0), 0);
        assert_eq!(missed_frames(period * 1.5, 30.0), 0);
        assert_eq!(missed_frames(period * 2.0, 30.0), 1);
        assert_eq!(missed_frames(period * 3.1, 30.0), 2);
        assert_eq!(missed_frames(120e6, 30.0), 0);
        assert_eq!(missed_frames(period * 2.0, f64::NAN), 0);
        assert_eq!(missed_frames(-5.0, 30.0), 0);
    }
}
