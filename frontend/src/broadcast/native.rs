//! The browser's own JPEG encoder: the preview canvas is drawn (scaled by the browser)
//! onto an `OffscreenCanvas`, and `convertToBlob` encodes it asynchronously. The resulting
//! `Blob` goes to the WebSocket as it is, never copied through wasm memory.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    HtmlCanvasElement, ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d,
};

use super::stamp;

pub struct NativeEncoder {
    canvas: OffscreenCanvas,
    ctx: OffscreenCanvasRenderingContext2d,
    /// Where pixels from wasm memory are put first, when there is no page canvas to draw
    /// from (in the sender worker); made on first use.
    source: Option<(OffscreenCanvas, OffscreenCanvasRenderingContext2d)>,
}

fn context(canvas: &OffscreenCanvas) -> Result<OffscreenCanvasRenderingContext2d, JsValue> {
    canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("OffscreenCanvas has no 2d context"))?
        .dyn_into::<OffscreenCanvasRenderingContext2d>()
        .map_err(JsValue::from)
}

impl NativeEncoder {
    pub fn new() -> Result<Self, JsValue> {
        let canvas = OffscreenCanvas::new(1, 1)?;
        let ctx = context(&canvas)?;
        Ok(Self {
            canvas,
            ctx,
            source: None,
        })
    }

    /// [`NativeEncoder::begin`] for RGBA8 pixels (`src_w`×`src_h`, no padding) in wasm
    /// memory instead of a page canvas.
    pub fn begin_rgba(
        &mut self,
        rgba: &[u8],
        (src_w, src_h): (u32, u32),
        dst: (u32, u32),
        stamp_ms: Option<u64>,
        quality: f64,
    ) -> Result<Promise, JsValue> {
        // The constructor gets a view of wasm memory; `put_image_data` copies it at once.
        let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
            wasm_bindgen::Clamped(rgba),
            src_w,
            src_h,
        )?;
        self.begin_image(&image, dst, stamp_ms, quality)
    }

    /// [`NativeEncoder::begin`] for an `ImageData` (in the sender worker: a view of the
    /// buffer the filter worker transferred, so the pixels never pass through wasm). They
    /// are put on an `OffscreenCanvas` of their size, then drawn scaled on the output.
    pub fn begin_image(
        &mut self,
        image: &web_sys::ImageData,
        (dst_w, dst_h): (u32, u32),
        stamp_ms: Option<u64>,
        quality: f64,
    ) -> Result<Promise, JsValue> {
        let (src_w, src_h) = (image.width(), image.height());
        if self.source.is_none() {
            let canvas = OffscreenCanvas::new(src_w, src_h)?;
            let ctx = context(&canvas)?;
            self.source = Some((canvas, ctx));
        }
        let (source, source_ctx) = self.source.as_ref().expect("set just above");
        if source.width() != src_w || source.height() != src_h {
            source.set_width(src_w);
            source.set_height(src_h);
        }
        source_ctx.put_image_data(image, 0.0, 0.0)?;
        self.resize(dst_w, dst_h);
        self.ctx.draw_image_with_offscreen_canvas_and_dw_and_dh(
            source,
            0.0,
            0.0,
            f64::from(dst_w),
            f64::from(dst_h),
        )?;
        self.finish(dst_w, stamp_ms, quality)
    }

    /// [`NativeEncoder::begin`] for an `ImageBitmap` (in the sender worker: a snapshot of
    /// the filter worker's preview canvas), drawn scaled on the output by the browser.
    pub fn begin_bitmap(
        &self,
        bitmap: &web_sys::ImageBitmap,
        (dst_w, dst_h): (u32, u32),
        stamp_ms: Option<u64>,
        quality: f64,
    ) -> Result<Promise, JsValue> {
        self.resize(dst_w, dst_h);
        self.ctx.draw_image_with_image_bitmap_and_dw_and_dh(
            bitmap,
            0.0,
            0.0,
            f64::from(dst_w),
            f64::from(dst_h),
        )?;
        self.finish(dst_w, stamp_ms, quality)
    }

    fn resize(&self, dst_w: u32, dst_h: u32) {
        if self.canvas.width() != dst_w || self.canvas.height() != dst_h {
            self.canvas.set_width(dst_w);
            self.canvas.set_height(dst_h);
        }
    }

    /// Paints the stamp and starts encoding what the output canvas shows.
    fn finish(&self, dst_w: u32, stamp_ms: Option<u64>, quality: f64) -> Result<Promise, JsValue> {
        if let Some(value) = stamp_ms {
            for (x, side, white) in stamp::blocks(value, dst_w) {
                self.ctx
                    .set_fill_style_str(if white { "#fff" } else { "#000" });
                self.ctx
                    .fill_rect(f64::from(x), 0.0, f64::from(side), f64::from(side));
            }
        }
        let options = ImageEncodeOptions::new();
        options.set_type("image/jpeg");
        options.set_quality(quality.clamp(0.01, 1.0));
        self.canvas.convert_to_blob_with_options(&options)
    }

    /// Copies the top-left `src_w`×`src_h` of `src` at `dst_w`×`dst_h`, paints the stamp,
    /// and starts encoding; the promise resolves to a `Blob`. The copy happens now, so
    /// the caller may draw the next frame on `src` right away.
    pub fn begin(
        &self,
        src: &HtmlCanvasElement,
        (src_w, src_h): (u32, u32),
        (dst_w, dst_h): (u32, u32),
        stamp_ms: Option<u64>,
        quality: f64,
    ) -> Result<Promise, JsValue> {
        self.resize(dst_w, dst_h);
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
        self.finish(dst_w, stamp_ms, quality)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::wasm_bindgen_test;
    use web_sys::{Blob, CanvasRenderingContext2d};

    #[wasm_bindgen_test]
    async fn encodes_a_scaled_stamped_canvas_to_jpeg() {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .expect("a browser page");
        let canvas: HtmlCanvasElement = document
            .create_element("canvas")
            .expect("canvas")
            .dyn_into()
            .expect("a canvas element");
        canvas.set_width(1280);
        canvas.set_height(720);
        let ctx: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .expect("2d")
            .dyn_into()
            .expect("2d context");
        ctx.set_fill_style_str("#808080");
        ctx.fill_rect(0.0, 0.0, 1280.0, 720.0);

        let encoder = NativeEncoder::new().expect("OffscreenCanvas in Chromium");
        let t = 1_795_000_123_456;
        let promise = encoder
            .begin(&canvas, (1280, 720), (640, 360), Some(t), 0.8)
            .expect("encode starts");
        let blob: Blob = JsFuture::from(promise)
            .await
            .expect("encode finishes")
            .dyn_into()
            .expect("a Blob");
        assert_eq!(blob.type_(), "image/jpeg");
        let bytes =
            js_sys::Uint8Array::new(&JsFuture::from(blob.array_buffer()).await.expect("bytes"))
                .to_vec();
        assert_eq!(bytes[..2], [0xFF, 0xD8]);

        // The stamp was painted at the output size: read it back from the offscreen canvas.
        let image = encoder
            .ctx
            .get_image_data(0.0, 0.0, 640.0, 360.0)
            .expect("pixels")
            .data()
            .0;
        let luma: Vec<u8> = image.chunks_exact(4).map(|p| p[0]).collect();
        assert_eq!(stamp::read_luma(&luma, 640, 360), Some(t));
    }
}
