//! A hidden, muted `<video>` element that plays a file or a camera stream for the
//! `requestVideoFrameCallback` path. It is attached to the document (off-screen), since
//! detached videos may not present frames; dropping it stops playback and removes it.

use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream};

use crate::glue::js_error_message;

pub struct HiddenVideo {
    video: HtmlVideoElement,
}

impl HiddenVideo {
    fn new() -> Result<Self, JsValue> {
        let document = web_sys::window()
            .and_then(|window| window.document())
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let video: HtmlVideoElement = document.create_element("video")?.unchecked_into();
        video.set_muted(true);
        video.set_attribute("muted", "")?;
        video.set_attribute("playsinline", "")?;
        video.set_attribute("aria-hidden", "true")?;
        video.set_class_name("hidden-source");
        document
            .body()
            .ok_or_else(|| JsValue::from_str("no body"))?
            .append_child(&video)?;
        Ok(Self { video })
    }

    /// A video showing a live stream.
    pub fn for_stream(stream: &MediaStream) -> Result<Self, JsValue> {
        let this = Self::new()?;
        this.video.set_src_object(Some(stream));
        Ok(this)
    }

    /// A video playing `url` (an object URL of a local file) in a loop.
    pub fn for_url(url: &str) -> Result<Self, JsValue> {
        let this = Self::new()?;
        this.video.set_loop(true);
        this.video.set_src(url);
        Ok(this)
    }

    pub fn element(&self) -> &HtmlVideoElement {
        &self.video
    }

    /// Starts playback; resolves once it plays (or fails with the browser's reason).
    pub async fn play(&self) -> Result<(), String> {
        let promise = self.video.play().map_err(|err| js_error_message(&err))?;
        JsFuture::from(promise)
            .await
            .map(drop)
            .map_err(|err| js_error_message(&err))
    }

    /// The decoded size (0×0 before metadata is known).
    pub fn size(&self) -> (u32, u32) {
        (self.video.video_width(), self.video.video_height())
    }
}

impl Drop for HiddenVideo {
    fn drop(&mut self) {
        let _ = self.video.pause();
        self.video.set_src_object(None);
        let _ = self.video.remove_attribute("src");
        // Loading the now empty source releases the decoder.
        self.video.load();
        self.video.remove();
    }
}

/// A video file the user picked, as an object URL (released when the last clone is dropped).
#[derive(Clone, Debug)]
pub struct LocalFile(Rc<LocalFileInner>);

#[derive(Debug)]
struct LocalFileInner {
    url: String,
    name: String,
}

impl LocalFile {
    pub fn new(file: &web_sys::File) -> Result<Self, JsValue> {
        let url = web_sys::Url::create_object_url_with_blob(file)?;
        Ok(Self(Rc::new(LocalFileInner {
            url,
            name: file.name(),
        })))
    }

    pub fn url(&self) -> &str {
        &self.0.url
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }
}

impl PartialEq for LocalFile {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Drop for LocalFileInner {
    fn drop(&mut self) {
        let _ = web_sys::Url::revoke_object_url(&self.url);
    }
}
