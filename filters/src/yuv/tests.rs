//! The conversion against the textbook formula, its errors, and the fast path (simd128 on
//! wasm32) against the per-pixel reference on awkward sizes; all of these also run under
//! wasm32.

use super::{reference, *};

/// The textbook conversion in floating point.
fn textbook(y: u8, u: u8, v: u8, space: ColorSpace) -> [u8; 3] {
    let (kr, kgu, kgv, kb) = match space.matrix {
        Matrix::Bt601 => (1.402, 0.344_136, 0.714_136, 1.772),
        Matrix::Bt709 => (1.5748, 0.187_324, 0.468_124, 1.8556),
    };
    let (yf, uf, vf) = if space.full_range {
        (f64::from(y), f64::from(u) - 128.0, f64::from(v) - 128.0)
    } else {
        (
            (f64::from(y) - 16.0) * 255.0 / 219.0,
            (f64::from(u) - 128.0) * 255.0 / 224.0,
            (f64::from(v) - 128.0) * 255.0 / 224.0,
        )
    };
    let c = |x: f64| x.round().clamp(0.0, 255.0) as u8;
    [
        c(yf + kr * vf),
        c(yf - kgu * uf - kgv * vf),
        c(yf + kb * uf),
    ]
}

fn spaces() -> [ColorSpace; 4] {
    [
        ColorSpace::default(),
        ColorSpace {
            matrix: Matrix::Bt709,
            full_range: false,
        },
        ColorSpace {
            matrix: Matrix::Bt601,
            full_range: true,
        },
        ColorSpace {
            matrix: Matrix::Bt709,
            full_range: true,
        },
    ]
}

/// A 5×3 frame (odd sizes: the last chroma column and row cover one pixel) with
/// padded strides, as I420 and as NV12, against the reference.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn planar_and_interleaved_match_the_reference() {
    let (w, h) = (5_usize, 3_usize);
    let (cw, ch) = (3_usize, 2_usize);
    let y_stride = 8;
    let y: Vec<u8> = (0..y_stride * h).map(|i| (i * 37 % 256) as u8).collect();
    let u: Vec<u8> = (0..4 * ch).map(|i| (i * 71 % 256) as u8).collect();
    let v: Vec<u8> = (0..4 * ch).map(|i| (255 - i * 53 % 256) as u8).collect();
    let mut uv = vec![0u8; 7 * ch];
    for r in 0..ch {
        for c in 0..cw {
            uv[r * 7 + 2 * c] = u[r * 4 + c];
            uv[r * 7 + 2 * c + 1] = v[r * 4 + c];
        }
    }
    for space in spaces() {
        let mut planar = vec![0u8; w * h * 4];
        let mut interleaved = vec![0u8; w * h * 4];
        let chroma = Chroma::Planar {
            u: &u,
            u_stride: 4,
            v: &v,
            v_stride: 4,
        };
        yuv420_to_rgba((&y, y_stride), chroma, (5, 3), space, &mut planar).expect("fits");
        let chroma = Chroma::Interleaved { uv: &uv, stride: 7 };
        yuv420_to_rgba((&y, y_stride), chroma, (5, 3), space, &mut interleaved).expect("fits");
        assert_eq!(planar, interleaved);
        for row in 0..h {
            for x in 0..w {
                let c = (row / 2) * 4 + x / 2;
                let want = textbook(y[row * y_stride + x], u[c], v[c], space);
                let got = &planar[(row * w + x) * 4..][..4];
                for ch in 0..3 {
                    assert!(
                        (i32::from(got[ch]) - i32::from(want[ch])).abs() <= 1,
                        "{space:?} at {x},{row}: {got:?} vs {want:?}"
                    );
                }
                assert_eq!(got[3], 255);
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn limited_range_black_and_white() {
    let mut out = vec![0u8; 8];
    let chroma = Chroma::Planar {
        u: &[128],
        u_stride: 1,
        v: &[128],
        v_stride: 1,
    };
    yuv420_to_rgba(
        (&[16, 235], 2),
        chroma,
        (2, 1),
        ColorSpace::default(),
        &mut out,
    )
    .expect("fits");
    assert_eq!(out, [0, 0, 0, 255, 255, 255, 255, 255]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn short_planes_are_errors() {
    let mut out = vec![0u8; 4 * 4 * 4];
    let chroma = Chroma::Planar {
        u: &[0; 4],
        u_stride: 2,
        v: &[0; 3],
        v_stride: 2,
    };
    let err = yuv420_to_rgba(
        (&[0; 16], 4),
        chroma,
        (4, 4),
        ColorSpace::default(),
        &mut out,
    );
    assert!(matches!(err, Err(YuvError::ShortPlane { plane: "V", .. })));
    let chroma = Chroma::Interleaved {
        uv: &[0; 8],
        stride: 4,
    };
    let err = yuv420_to_rgba(
        (&[0; 15], 4),
        chroma,
        (4, 4),
        ColorSpace::default(),
        &mut out,
    );
    assert!(matches!(err, Err(YuvError::ShortPlane { plane: "Y", .. })));
    let err = yuv420_to_rgba(
        (&[0; 16], 4),
        chroma,
        (4, 4),
        ColorSpace::default(),
        &mut [0; 8],
    );
    assert!(matches!(
        err,
        Err(YuvError::ShortPlane { plane: "RGBA", .. })
    ));
}

/// Deterministic bytes that reach both ends of the range.
fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            // Every eighth byte an extreme, so that the clamps are exercised.
            match i % 8 {
                0 => 0,
                4 => 255,
                _ => s as u8,
            }
        })
        .collect()
}

/// I420 and NV12 frames of every awkward size (widths around the 16-pixel blocks, odd
/// heights, padded strides): the fast path equals the reference byte for byte.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn fast_path_equals_the_reference() {
    for (w, h) in [
        (1_usize, 1_usize),
        (2, 3),
        (9, 5),
        (15, 2),
        (16, 1),
        (17, 3),
        (31, 4),
        (33, 7),
        (65, 9),
        (1281, 3),
        (1280, 5),
    ] {
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let (y_stride, c_stride) = (w + 3, cw + 5);
        let y = bytes(y_stride * h, 7 + w as u32);
        let u = bytes(c_stride * ch, 11 + h as u32);
        let v = bytes(c_stride * ch, 13 + w as u32);
        let uv_stride = 2 * cw + 1;
        let mut uv = vec![0u8; uv_stride * ch];
        for r in 0..ch {
            for c in 0..cw {
                uv[r * uv_stride + 2 * c] = u[r * c_stride + c];
                uv[r * uv_stride + 2 * c + 1] = v[r * c_stride + c];
            }
        }
        let planar = Chroma::Planar {
            u: &u,
            u_stride: c_stride,
            v: &v,
            v_stride: c_stride,
        };
        let interleaved = Chroma::Interleaved {
            uv: &uv,
            stride: uv_stride,
        };
        let size = (w as u32, h as u32);
        for space in spaces() {
            for (layout, chroma) in [("I420", planar), ("NV12", interleaved)] {
                let mut want = vec![0u8; w * h * 4];
                reference::yuv420_to_rgba((&y, y_stride), chroma, size, space, &mut want);
                let mut got = vec![1u8; w * h * 4];
                yuv420_to_rgba((&y, y_stride), chroma, size, space, &mut got).expect("fits");
                assert!(got == want, "{layout} {w}×{h} {space:?}");
            }
        }
    }
}
