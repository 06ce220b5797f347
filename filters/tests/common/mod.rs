//! Shared by the integration tests: a test attribute that also runs under wasm32, seeded
//! frame content, the awkward sizes, a comparison that names the first wrong pixel, and the
//! plain reference implementations (in `reference`).

#![allow(dead_code)]

pub mod reference;

/// Declares tests that run natively (`#[test]`) and under wasm32 (`#[wasm_bindgen_test]`).
macro_rules! tests {
    ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {$(
        $(#[$meta])*
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn $name() $body
    )*};
}
pub(crate) use tests;

use filters::{Frame, Pipeline, PipelineSpec};

/// 1×1, single rows and columns, odd widths and a frame just past 720p.
pub const SIZES: [(u32, u32); 10] = [
    (1, 1),
    (1, 13),
    (13, 1),
    (3, 3),
    (9, 7),
    (17, 5),
    (65, 9),
    (2, 31),
    (33, 33),
    (1281, 721),
];

/// The sizes without the big one, for references that are slow by design.
pub fn small_sizes() -> impl Iterator<Item = (u32, u32)> {
    SIZES.into_iter().filter(|&(w, _)| w < 1000)
}

/// xorshift64*: a tiny seeded generator so native and wasm32 see the same content.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }
}

/// Uniformly random RGBA (alpha too).
pub fn noise_frame(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..w as usize * h as usize * 4)
        .map(|_| rng.byte())
        .collect()
}

/// Camera-like content: gradients, a bright disc, hard stripes, small noise; alpha varies.
pub fn scene_frame(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut data = Vec::with_capacity(w as usize * h as usize * 4);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
            let disc = if (fx - 0.5).powi(2) + (fy - 0.5).powi(2) < 0.06 {
                90.0
            } else {
                0.0
            };
            let stripe = if (x / 5) % 2 == 1 { 60.0 } else { 0.0 };
            let mut noisy = |v: f64| (v + rng.below(9) as f64 - 4.0).clamp(0.0, 255.0) as u8;
            data.push(noisy(fx * 200.0 + disc));
            data.push(noisy(fy * 200.0 + stripe));
            data.push(noisy(128.0 + disc - stripe));
            data.push(255 - (x % 3) as u8);
        }
    }
    data
}

/// Both kinds of content, with a seed per size so each size sees different pixels.
pub fn contents(w: u32, h: u32) -> [Vec<u8>; 2] {
    let seed = u64::from(w) * 7919 + u64::from(h);
    [noise_frame(w, h, seed), scene_frame(w, h, seed)]
}

/// Runs `spec` through a fresh pipeline on a copy of `data`.
pub fn run(spec: &str, data: &[u8], w: u32, h: u32) -> Vec<u8> {
    let spec: PipelineSpec = spec.parse().expect("test specs are valid");
    let mut out = data.to_vec();
    let mut frame = Frame::new(&mut out, w, h).expect("test frames are well formed");
    Pipeline::new(spec).apply(&mut frame);
    out
}

/// Asserts every byte of `got` is within `tolerance` of `want`; names the first bad pixel.
pub fn assert_close(what: &str, got: &[u8], want: &[u8], tolerance: u8, w: u32, h: u32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if let Some(i) = got
        .iter()
        .zip(want)
        .position(|(a, b)| a.abs_diff(*b) > tolerance)
    {
        let px = i / 4;
        panic!(
            "{what} on {w}x{h}: pixel ({}, {}) channel {}: got {:?}, want {:?} (tolerance {tolerance})",
            px % w as usize,
            px / w as usize,
            i % 4,
            &got[px * 4..px * 4 + 4],
            &want[px * 4..px * 4 + 4],
        );
    }
}
