//! The canvases the loop draws on: a page `<canvas>` (main-thread loop) or an
//! `OffscreenCanvas` (in the filter worker: the page's `#preview` after
//! `transferControlToOffscreen()`, or a detached one for read-back).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData, OffscreenCanvas};

use crate::glue::object;

/// A canvas element of the page or an offscreen canvas.
pub enum Canvas {
    Element(HtmlCanvasElement),
    Offscreen(OffscreenCanvas),
}

impl Canvas {
    fn size(&self) -> (u32, u32) {
        match self {
            Self::Element(canvas) => (canvas.width(), canvas.height()),
            Self::Offscreen(canvas) => (canvas.width(), canvas.height()),
        }
    }

    fn set_size(&self, width: u32, height: u32) {
        match self {
            Self::Element(canvas) => {
                canvas.set_width(width);
                canvas.set_height(height);
            }
            Self::Offscreen(canvas) => {
                canvas.set_width(width);
                canvas.set_height(height);
            }
        }
    }

    /// The page element, when this is one (the native JPEG encoder draws from it).
    pub fn element(&self) -> Option<&HtmlCanvasElement> {
        match self {
            Self::Element(canvas) => Some(canvas),
            Self::Offscreen(_) => None,
        }
    }
}

/// A 2D canvas and its context.
pub struct Surface {
    pub canvas: Canvas,
    /// For an offscreen canvas this is its `OffscreenCanvasRenderingContext2D`, typed as the
    /// element's context: the two share every method the loop calls (`putImageData`,
    /// `drawImage`, `getImageData`), and web-sys calls methods by name.
    pub ctx: CanvasRenderingContext2d,
}

impl Surface {
    /// Wraps `canvas`; `read_back` asks for a CPU-side canvas (for `getImageData`).
    pub fn new(canvas: Canvas, read_back: bool) -> Result<Self, JsValue> {
        let options = object(&[
            ("willReadFrequently", read_back.into()),
            ("alpha", false.into()),
        ]);
        let ctx = match &canvas {
            Canvas::Element(element) => element.get_context_with_context_options("2d", &options)?,
            Canvas::Offscreen(offscreen) => {
                offscreen.get_context_with_context_options("2d", &options)?
            }
        }
        .ok_or_else(|| JsValue::from_str("canvas has no 2d context"))?
        .unchecked_into();
        Ok(Self { canvas, ctx })
    }

    /// A detached canvas for reading frames back: an element on a page, an
    /// `OffscreenCanvas` in a worker.
    pub fn detached() -> Result<Self, JsValue> {
        match web_sys::window().and_then(|window| window.document()) {
            Some(document) => Self::new(
                Canvas::Element(document.create_element("canvas")?.unchecked_into()),
                true,
            ),
            None => Self::new(Canvas::Offscreen(OffscreenCanvas::new(1, 1)?), true),
        }
    }

    /// Makes the canvas `width`×`height` (which clears it) if it is not already.
    pub fn fit(&self, width: u32, height: u32) {
        if self.canvas.size() != (width, height) {
            self.canvas.set_size(width, height);
        }
    }

    /// Pixels of the whole canvas.
    pub fn read(&self) -> Result<ImageData, JsValue> {
        let (width, height) = self.canvas.size();
        self.ctx
            .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
    }
}
