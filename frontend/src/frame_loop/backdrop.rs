//! The picture `segment-replace` can put behind the person instead of its colour: the user
//! picks an image file, the page decodes it (the browser decodes off the main thread; the
//! page only reads back at most [`MAX_SIDE`] a side, once), and the pixels go where the
//! frames are (the filter worker, or this page's own loop) to be fitted to the frame there.
//! A link cannot carry a picture: whoever opens it sees the stage's colour until they pick.

use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ImageBitmap, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

/// The largest picture file read (a photo is a few MB).
pub const MAX_FILE_BYTES: f64 = 40.0 * 1024.0 * 1024.0;
/// Pictures are scaled down to at most this long a side: the frame is at most 1080p, and
/// the fitted copy is made from this.
pub const MAX_SIDE: u32 = 1920;

/// Decoded RGBA pixels; compared by identity (a new pick is a new picture).
#[derive(Clone, Debug)]
pub struct Picture(Rc<Pixels>);

pub struct Pixels {
    pub rgba: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pixels({}x{})", self.width, self.height)
    }
}

impl PartialEq for Picture {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Picture {
    pub fn new(rgba: Vec<u8>, width: u32, height: u32) -> Self {
        Self(Rc::new(Pixels {
            rgba,
            width,
            height,
        }))
    }

    pub fn pixels(&self) -> &Pixels {
        &self.0
    }

    /// The pipeline's copy (`None` if the pixels do not make a picture).
    pub fn backdrop(&self) -> Option<filters::matte::Backdrop> {
        let p = &self.0;
        filters::matte::Backdrop::new(p.rgba.clone(), p.width, p.height).ok()
    }
}

/// The scale that brings `width × height` within [`MAX_SIDE`] (never up).
fn within(width: u32, height: u32) -> (u32, u32) {
    let longest = width.max(height).max(1);
    if longest <= MAX_SIDE {
        return (width.max(1), height.max(1));
    }
    let scale = |side: u32| {
        ((u64::from(side) * u64::from(MAX_SIDE) + u64::from(longest) / 2) / u64::from(longest))
            .max(1) as u32
    };
    (scale(width), scale(height))
}

/// Decodes the image file `blob` into RGBA (scaled within [`MAX_SIDE`]); the error says
/// why it cannot be used.
pub async fn decode(blob: &Blob) -> Result<Picture, String> {
    if blob.size() > MAX_FILE_BYTES {
        return Err(format!(
            "the picture is {:.0} MB; at most {:.0} MB",
            blob.size() / 1e6,
            MAX_FILE_BYTES / 1e6
        ));
    }
    let window = web_sys::window().ok_or("no window")?;
    let promise = window
        .create_image_bitmap_with_blob(blob)
        .map_err(|e| crate::glue::js_error_message(&e))?;
    let bitmap: ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| "the file is not a picture this browser can read".to_owned())?
        .unchecked_into();
    let result = read_back(&bitmap);
    bitmap.close();
    result.map_err(|e| crate::glue::js_error_message(&e))
}

fn read_back(bitmap: &ImageBitmap) -> Result<Picture, JsValue> {
    let (width, height) = within(bitmap.width(), bitmap.height());
    let canvas = OffscreenCanvas::new(width, height)?;
    let ctx: OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .unchecked_into();
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(
        bitmap,
        0.0,
        0.0,
        f64::from(width),
        f64::from(height),
    )?;
    let data = ctx.get_image_data(0.0, 0.0, f64::from(width), f64::from(height))?;
    Ok(Picture::new(data.data().0, width, height))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn large_pictures_are_scaled_within_the_limit_and_small_ones_kept() {
        assert_eq!(within(640, 480), (640, 480));
        assert_eq!(within(MAX_SIDE, 10), (MAX_SIDE, 10));
        assert_eq!(within(3840, 2160), (1920, 1080));
        assert_eq!(within(1000, 4000), (480, 1920));
        assert_eq!(within(100_000, 1), (1920, 1));
        assert_eq!(within(0, 0), (1, 1));
    }
}
