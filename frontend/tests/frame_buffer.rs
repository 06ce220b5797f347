//! Pixels in and out of wasm memory, in a real browser: `ImageData` in, `VideoFrame.copyTo`
//! in, `putImageData` out, and a filter in between.

use frontend::{
    frame_loop::Surface,
    glue::{
        bindings::VideoFrame,
        frame_buffer::{CopyError, FrameBuffer, MAX_PIXELS},
        object,
    },
};
use wasm_bindgen::{Clamped, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::ImageData;

wasm_bindgen_test_configure!(run_in_browser);

/// A `w`×`h` image whose pixel (x, y) is `(x, y, x ^ y, 255)` (mod 256).
fn pattern(w: u32, h: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&[x as u8, y as u8, (x ^ y) as u8, 255]);
        }
    }
    data
}

/// A detached canvas showing `pixels`.
fn canvas_with(pixels: &[u8], w: u32, h: u32) -> Surface {
    let surface = Surface::detached().unwrap();
    surface.fit(w, h);
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(pixels), w, h).unwrap();
    surface.ctx.put_image_data(&image, 0.0, 0.0).unwrap();
    surface
}

fn read(surface: &Surface) -> Vec<u8> {
    surface.read().unwrap().data().0
}

#[wasm_bindgen_test]
fn image_data_in_and_canvas_out_are_exact() {
    let (w, h) = (67, 41);
    let pixels = pattern(w, h);
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&pixels), w, h).unwrap();
    let mut buffer = FrameBuffer::new();
    buffer.copy_from_image_data(&image).unwrap();
    assert_eq!((buffer.width(), buffer.height()), (w, h));
    assert_eq!(buffer.pixels(), &pixels[..]);

    let out = Surface::detached().unwrap();
    out.fit(w, h);
    buffer.draw_to(&out.ctx).unwrap();
    assert_eq!(read(&out), pixels);
}

#[wasm_bindgen_test]
fn buffer_is_reused_and_resized() {
    let mut buffer = FrameBuffer::new();
    let big = pattern(64, 48);
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&big), 64, 48).unwrap();
    buffer.copy_from_image_data(&image).unwrap();
    let address = buffer.pixels().as_ptr();
    let small = pattern(32, 16);
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&small), 32, 16).unwrap();
    buffer.copy_from_image_data(&image).unwrap();
    assert_eq!(buffer.pixels(), &small[..]);
    assert_eq!(
        buffer.pixels().as_ptr(),
        address,
        "a smaller frame reuses the allocation"
    );
}

#[wasm_bindgen_test]
fn absurd_sizes_are_refused() {
    let mut buffer = FrameBuffer::new();
    assert_eq!(
        buffer.resize(0, 10),
        Err(CopyError::BadSize {
            width: 0,
            height: 10
        })
    );
    assert!(u64::from(u32::MAX) > MAX_PIXELS);
    assert!(buffer.resize(u32::MAX, 2).is_err());
    assert!(buffer.resize(640, 360).is_ok());
    assert_eq!(buffer.pixels().len(), 640 * 360 * 4);
}

#[wasm_bindgen_test]
async fn video_frame_copy_to_lands_in_wasm_memory() {
    let (w, h) = (64, 36);
    let pixels = pattern(w, h);
    let source = canvas_with(&pixels, w, h);
    let frame = VideoFrame::new_from_image(
        &JsValue::from(source.canvas.element().unwrap().clone()),
        &object(&[("timestamp", 0.into())]),
    )
    .unwrap();
    let mut buffer = FrameBuffer::new();
    buffer.copy_from_video_frame(&frame).await.unwrap();
    frame.close();
    assert_eq!((buffer.width(), buffer.height()), (w, h));
    let worst = buffer
        .pixels()
        .iter()
        .zip(&pixels)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 2, "copyTo differs by up to {worst}");
}

#[wasm_bindgen_test]
fn grayscale_round_trip_through_the_filters() {
    let (w, h) = (8, 2);
    let mut pixels = Vec::new();
    for _ in 0..(w * h / 2) {
        pixels.extend_from_slice(&[255, 0, 0, 255, 0, 0, 255, 255]);
    }
    let source = canvas_with(&pixels, w, h);
    let mut buffer = FrameBuffer::new();
    buffer
        .copy_from_image_data(
            &source
                .ctx
                .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
                .unwrap(),
        )
        .unwrap();
    let mut pipeline = filters::Pipeline::new("grayscale".parse().unwrap());
    pipeline.apply(&mut buffer.frame());
    let out = canvas_with(&vec![0; (w * h * 4) as usize], w, h);
    buffer.draw_to(&out.ctx).unwrap();
    let result = read(&out);
    // BT.601 luma in Q8 with rounding: red (77·255 + 128) >> 8 = 77, blue 29.
    assert_eq!(&result[..8], &[77, 77, 77, 255, 29, 29, 29, 255]);
}

/// The filter worker's copy path: an I420 frame copied as it is and converted in wasm
/// gives the picture the browser's own RGBA conversion gives.
#[wasm_bindgen_test]
async fn yuv_copy_matches_the_browsers_conversion() {
    let (w, h) = (64_u32, 36_u32);
    let (cw, ch) = (w / 2, h / 2);
    let mut planes = Vec::new();
    planes.extend((0..w * h).map(|i| (16 + (i % w) * 219 / w) as u8));
    planes.extend((0..cw * ch).map(|i| (64 + (i % cw) * 4) as u8));
    planes.extend((0..cw * ch).map(|i| (192 - (i / cw) * 4) as u8));
    let space = object(&[
        ("matrix", "smpte170m".into()),
        ("primaries", "smpte170m".into()),
        ("transfer", "smpte170m".into()),
        ("fullRange", false.into()),
    ]);
    let frame = VideoFrame::new_from_image(
        &js_sys::Uint8Array::from(&planes[..]).into(),
        &object(&[
            ("format", "I420".into()),
            ("codedWidth", w.into()),
            ("codedHeight", h.into()),
            ("timestamp", 0.into()),
            ("colorSpace", space.into()),
        ]),
    )
    .unwrap();
    let mut yuv = FrameBuffer::new();
    yuv.copy_from_video_frame_yuv(&frame).await.unwrap();
    let mut rgba = FrameBuffer::new();
    rgba.copy_from_video_frame(&frame).await.unwrap();
    frame.close();
    assert_eq!((yuv.width(), yuv.height()), (w, h));
    let worst = yuv
        .pixels()
        .iter()
        .zip(rgba.pixels())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 4, "the two conversions differ by up to {worst}");
}
