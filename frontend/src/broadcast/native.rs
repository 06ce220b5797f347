//! The browser's own JPEG encoder: the preview canvas is drawn (scaled by the browser)
//! onto an `OffscreenCanvas`, and `convertToBlob` encodes it asynchronously. The resulting
//! `Blob` goes to the WebSocket as it is, never copied through wasm memory.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlCanvasElement, ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

use super::stamp;

pub struct NativeEncoder {
    canvas: OffscreenCanvas,
    ctx: OffscreenCanvasRenderingContext2d,
}

impl NativeEncoder {
    pub fn new() -> Result<Self, JsValue> {
        let canvas = OffscreenCanvas::new(1, 1)?;
        let ctx = canvas
            .get_context("2d")?
            .ok_or_else(|| JsValue::from_str("OffscreenCanvas has no 2d context"))?
            .dyn_into::<OffscreenCanvasRenderingContext2d>()?;
        Ok(Self { canvas, ctx })
    }

    /// Copies the top-left `src_w`×`src_h` of `src` at `dst_w`×`dst_h`, paints the stamp,
    /// and starts encoding; the promise resolves to a `Blob`. The copy happens now, so
    /// the caller may draw the next frame on `src` right away.
    #[allow(clippy::too_many_arguments)]
    pub fn begin(
        &self,
        src: &HtmlCanvasElement,
        (src_w, src_h): (u32, u32),
        (dst_w, dst_h): (u32, u32),
        stamp_ms: Option<u64>,
        quality: f64,
    ) -> Result<Promise, JsValue> {
        if self.canvas.width() != dst_w || self.canvas.height() != dst_h {
            self.canvas.set_width(dst_w);
            self.canvas.set_height(dst_h);
        }
        self.ctx
            .draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                src,
                0.0,
                0.0,
                f64::from(src_w),
                f64::from(src_h),
                0.0,
                0.0,
                f64::from(dst_w),
                f64::from(dst_h),
            )?;
        if let Some(value) = stamp_ms {
            for (x, side, white) in stamp::blocks(value, dst_w) {
                self.ctx.set_fill_style_str(if white { "#fff" } else { "#000" });
                self.ctx.fill_rect(f64::from(x), 0.0, f64::from(side), f64::from(side));
            }
        }
        let options = ImageEncodeOptions::new();
        options.set_type("image/jpeg");
        options.set_quality(quality.clamp(0.01, 1.0));
        self.canvas.convert_to_blob_with_options(&options)
    }
}
