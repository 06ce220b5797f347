//! The one frame buffer in wasm memory and every copy into or out of it.
//!
//! In: `VideoFrame.copyTo` writes straight into the buffer through a `Uint8Array` view of wasm
//! memory (no JS-side copy), or a canvas `ImageData` is copied in (fallback paths).
//! Out: `putImageData` from a view of the same memory. The buffer is reused frame after frame;
//! it only reallocates when the frame size grows.

use thiserror::Error;
use wasm_bindgen::{Clamped, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, ImageData};

use super::{bindings::VideoFrame, get_f64, js_error_message, object};

/// The frame's colour space as the converter knows it (BT.601 limited when unsaid).
fn color_space(frame: &VideoFrame) -> filters::yuv::ColorSpace {
    let space = frame.color_space();
    let matrix = js_sys::Reflect::get(&space, &"matrix".into())
        .ok()
        .and_then(|m| m.as_string());
    let full_range = js_sys::Reflect::get(&space, &"fullRange".into())
        .ok()
        .and_then(|f| f.as_bool())
        .unwrap_or(false);
    filters::yuv::ColorSpace {
        matrix: if matrix.as_deref() == Some("bt709") {
            filters::yuv::Matrix::Bt709
        } else {
            filters::yuv::Matrix::Bt601
        },
        full_range,
    }
}

/// Largest frame accepted from any source (8K UHD); bigger frames are refused, not allocated.
pub const MAX_PIXELS: u64 = 7680 * 4320;

#[derive(Clone, Debug, PartialEq, Error)]
pub enum CopyError {
    #[error("a {width}×{height} frame is empty or larger than 7680×4320")]
    BadSize { width: u32, height: u32 },
    #[error("the source gave {got} bytes for a {width}×{height} RGBA frame")]
    WrongLength { width: u32, height: u32, got: usize },
    #[error("the browser cannot convert this frame to RGBA: {0}")]
    Unsupported(String),
    #[error("copying the frame failed: {0}")]
    Browser(String),
}

/// RGBA8 pixels, `width * height * 4` bytes, tightly packed.
#[derive(Debug, Default)]
pub struct FrameBuffer {
    data: Vec<u8>,
    /// A frame's YUV planes on their way to `data` (the YUV copy path).
    yuv: Vec<u8>,
    width: u32,
    height: u32,
}

impl FrameBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn pixels(&self) -> &[u8] {
        &self.data
    }

    pub fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Sets the frame size, keeping the allocation when it is big enough.
    pub fn resize(&mut self, width: u32, height: u32) -> Result<(), CopyError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels == 0 || pixels > MAX_PIXELS {
            return Err(CopyError::BadSize { width, height });
        }
        self.width = width;
        self.height = height;
        self.data.resize((pixels * 4) as usize, 0);
        Ok(())
    }

    /// The pixels as a frame for the filters.
    pub fn frame(&mut self) -> filters::Frame<'_> {
        filters::Frame::new(&mut self.data, self.width, self.height)
            .expect("resize keeps data.len() == width * height * 4 with both non-zero")
    }

    /// A `Uint8Array` over the pixels inside wasm memory. It is only valid until wasm memory
    /// grows (which detaches the old `ArrayBuffer`), so it is made fresh for each copy.
    fn view(&mut self) -> js_sys::Uint8Array {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        js_sys::Uint8Array::new_with_byte_offset_and_length(
            &memory.buffer(),
            self.data.as_mut_ptr() as usize as u32,
            self.data.len() as u32,
        )
    }

    /// Copies `frame`'s visible pixels in as RGBA (`VideoFrame.copyTo` with format
    /// conversion, straight into wasm memory). Does not close `frame`.
    pub async fn copy_from_video_frame(&mut self, frame: &VideoFrame) -> Result<(), CopyError> {
        let rect = frame.visible_rect();
        let width = get_f64(&rect, "width").unwrap_or_default() as u32;
        let height = get_f64(&rect, "height").unwrap_or_default() as u32;
        self.resize(width, height)?;
        let options = object(&[
            ("format", JsValue::from_str("RGBA")),
            ("colorSpace", JsValue::from_str("srgb")),
        ]);
        let size = frame
            .allocation_size(&options)
            .map_err(|err| CopyError::Unsupported(js_error_message(&err)))?;
        if size as usize != self.data.len() {
            return Err(CopyError::WrongLength {
                width,
                height,
                got: size as usize,
            });
        }
        let promise = frame
            .copy_to(&self.view(), &options)
            .map_err(|err| CopyError::Unsupported(js_error_message(&err)))?;
        JsFuture::from(promise)
            .await
            .map_err(|err| CopyError::Browser(js_error_message(&err)))?;
        Ok(())
    }

    /// Copies `frame`'s visible pixels in its own 4:2:0 layout (no conversion by the
    /// browser, so in Chromium no wait for the page's main thread) and converts them to
    /// RGBA in wasm. `Unsupported` for formats other than `I420` and `NV12`.
    pub async fn copy_from_video_frame_yuv(&mut self, frame: &VideoFrame) -> Result<(), CopyError> {
        let format = frame.format().as_string().unwrap_or_default();
        let planar = match format.as_str() {
            "I420" => true,
            "NV12" => false,
            other => return Err(CopyError::Unsupported(format!("frame format {other:?}"))),
        };
        let rect = frame.visible_rect();
        let width = get_f64(&rect, "width").unwrap_or_default() as u32;
        let height = get_f64(&rect, "height").unwrap_or_default() as u32;
        self.resize(width, height)?;
        let options = js_sys::Object::new();
        let size = frame
            .allocation_size(&options)
            .map_err(|err| CopyError::Unsupported(js_error_message(&err)))?;
        // A 4:2:0 frame is 1.5 bytes per pixel (plus padding): refuse absurd sizes.
        if size > (self.data.len() as f64) {
            return Err(CopyError::WrongLength {
                width,
                height,
                got: size as usize,
            });
        }
        self.yuv.resize(size as usize, 0);
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        let view = js_sys::Uint8Array::new_with_byte_offset_and_length(
            &memory.buffer(),
            self.yuv.as_mut_ptr() as usize as u32,
            self.yuv.len() as u32,
        );
        let promise = frame
            .copy_to(&view, &options)
            .map_err(|err| CopyError::Unsupported(js_error_message(&err)))?;
        let layout = JsFuture::from(promise)
            .await
            .map_err(|err| CopyError::Browser(js_error_message(&err)))?;
        let plane = |i: u32| -> (usize, usize) {
            let entry = js_sys::Reflect::get_u32(&layout, i).unwrap_or_default();
            (
                get_f64(&entry, "offset").unwrap_or_default() as usize,
                get_f64(&entry, "stride").unwrap_or_default() as usize,
            )
        };
        let tail = |offset: usize| self.yuv.get(offset..).unwrap_or_default();
        let (y_offset, y_stride) = plane(0);
        let chroma = if planar {
            let ((u_offset, u_stride), (v_offset, v_stride)) = (plane(1), plane(2));
            filters::yuv::Chroma::Planar {
                u: tail(u_offset),
                u_stride,
                v: tail(v_offset),
                v_stride,
            }
        } else {
            let (uv_offset, stride) = plane(1);
            filters::yuv::Chroma::Interleaved {
                uv: tail(uv_offset),
                stride,
            }
        };
        filters::yuv::yuv420_to_rgba(
            (tail(y_offset), y_stride),
            chroma,
            (width, height),
            color_space(frame),
            &mut self.data,
        )
        .map_err(|err| CopyError::Browser(err.to_string()))
    }

    /// Copies the pixels of `image` (from `getImageData`) in.
    pub fn copy_from_image_data(&mut self, image: &ImageData) -> Result<(), CopyError> {
        let (width, height) = (image.width(), image.height());
        self.resize(width, height)?;
        // `ImageData::data()` would allocate a fresh Vec per frame; read the JS array instead.
        let data: js_sys::Uint8ClampedArray = js_sys::Reflect::get(image, &"data".into())
            .map_err(|err| CopyError::Browser(js_error_message(&err)))?
            .unchecked_into();
        if data.length() as usize != self.data.len() {
            return Err(CopyError::WrongLength {
                width,
                height,
                got: data.length() as usize,
            });
        }
        data.copy_to(&mut self.data);
        Ok(())
    }

    /// Copies the pixels out into a new `ImageData`.
    pub fn to_image_data(&self) -> Result<ImageData, JsValue> {
        // The constructor gets a view of wasm memory; `put_image_data` copies it at once.
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&self.data), self.width, self.height)
    }

    /// Draws the pixels at (0, 0) of `ctx`'s canvas.
    pub fn draw_to(&self, ctx: &CanvasRenderingContext2d) -> Result<(), JsValue> {
        ctx.put_image_data(&self.to_image_data()?, 0.0, 0.0)
    }
}
