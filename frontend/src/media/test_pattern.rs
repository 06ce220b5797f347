//! The synthetic source: a moving pattern with a visible frame counter, drawn on a detached
//! canvas, so everything (filters, broadcast, tests) works without a camera.
//!
//! Layout, top to bottom: the top 60 % holds seven fixed colour bars ([`BARS`]; tests check
//! their luma), the rest a dark band with a sweeping gradient, a bouncing ball and the counter.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::glue::object;

/// The fixed bars, left to right (75 % colour bars).
pub const BARS: [[u8; 3]; 7] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
];

/// Fraction of the height covered by [`BARS`].
pub const BARS_HEIGHT: f64 = 0.6;

pub struct TestPattern {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    width: u32,
    height: u32,
}

impl TestPattern {
    pub fn new(width: u32, height: u32) -> Result<Self, JsValue> {
        let document = web_sys::window()
            .and_then(|window| window.document())
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let canvas: HtmlCanvasElement = document.create_element("canvas")?.unchecked_into();
        canvas.set_width(width);
        canvas.set_height(height);
        // Read back every frame: keep the canvas in CPU memory.
        let options = object(&[("willReadFrequently", true.into()), ("alpha", false.into())]);
        let ctx: CanvasRenderingContext2d = canvas
            .get_context_with_context_options("2d", &options)?
            .ok_or_else(|| JsValue::from_str("no 2d context"))?
            .unchecked_into();
        Ok(Self {
            canvas,
            ctx,
            width,
            height,
        })
    }

    pub fn canvas(&self) -> &HtmlCanvasElement {
        &self.canvas
    }

    /// Draws frame `number` at `elapsed_ms` since the source started.
    pub fn paint(&self, number: u64, elapsed_ms: f64) {
        let ctx = &self.ctx;
        let w = f64::from(self.width);
        let h = f64::from(self.height);
        let bars_h = (h * BARS_HEIGHT).round();
        let bar_w = w / BARS.len() as f64;
        for (i, [r, g, b]) in BARS.iter().enumerate() {
            ctx.set_fill_style_str(&format!("rgb({r},{g},{b})"));
            let x0 = (i as f64 * bar_w).round();
            let x1 = ((i + 1) as f64 * bar_w).round();
            ctx.fill_rect(x0, 0.0, x1 - x0, bars_h);
        }

        // The moving band.
        let band_h = h - bars_h;
        ctx.set_fill_style_str("rgb(18,20,28)");
        ctx.fill_rect(0.0, bars_h, w, band_h);
        let t = elapsed_ms / 1000.0;
        let sweep = (t * 0.25).fract() * (w + w / 3.0) - w / 3.0;
        let gradient = ctx.create_linear_gradient(sweep, 0.0, sweep + w / 3.0, 0.0);
        let _ = gradient.add_color_stop(0.0, "rgba(70,110,255,0)");
        let _ = gradient.add_color_stop(0.5, "rgba(70,110,255,0.55)");
        let _ = gradient.add_color_stop(1.0, "rgba(70,110,255,0)");
        ctx.set_fill_style_canvas_gradient(&gradient);
        ctx.fill_rect(0.0, bars_h, w, band_h);

        // A ball bouncing along the band.
        let radius = band_h * 0.18;
        let span = w - 2.0 * radius;
        let phase = (t * 0.4).fract() * 2.0;
        let x = radius + span * if phase < 1.0 { phase } else { 2.0 - phase };
        let y = bars_h + band_h * 0.72;
        ctx.begin_path();
        let _ = ctx.arc(x, y, radius, 0.0, std::f64::consts::TAU);
        ctx.set_fill_style_str("rgb(255,176,32)");
        ctx.fill();

        // The counter: the same number the frame loop reports as the frame number.
        let font_px = (band_h * 0.2).max(10.0);
        ctx.set_font(&format!(
            "700 {font_px:.0}px ui-monospace, Menlo, Consolas, monospace"
        ));
        ctx.set_text_baseline("middle");
        ctx.set_fill_style_str("rgb(245,245,245)");
        let _ = ctx.fill_text(
            &format!("frame {number:06}  ·  {t:.2} s"),
            w * 0.04,
            bars_h + band_h * 0.3,
        );
    }

    /// The current pixels (`getImageData`).
    pub fn image_data(&self) -> Result<ImageData, JsValue> {
        self.ctx
            .get_image_data(0.0, 0.0, f64::from(self.width), f64::from(self.height))
    }
}
