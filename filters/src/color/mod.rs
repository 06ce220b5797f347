//! Per-pixel colour filters and their fusion into one pass.
//!
//! Every colour filter is one of three exact integer operations on R, G, B (alpha is kept):
//! - a lookup table shared by the three channels (brightness, contrast, gamma, invert,
//!   posterize), and consecutive tables compose into one;
//! - luma (grayscale, and threshold = luma followed by a table);
//! - a 3×3 matrix in Q12 fixed point (sepia, saturation).
//!
//! A run of colour filters compiles into a [`ColorProgram`] of such ops, applied to each row
//! chunk while it is in L1, so the frame is read and written once whatever the chain length.
//!
//! The table stays the definition, but a byte lookup is scalar in wasm simd128 (there is no
//! byte gather). So a composed table is also matched against forms that SIMD computes exactly:
//! a saturating offset (brightness), an [`Affine`] integer formula (contrast and its
//! compositions with brightness), or levels picked by an affine index (posterize). A form is
//! used only after its scalar mirror reproduced all 256 entries; otherwise the table runs.
//!
//! Files: `formulas.rs` holds the definitions (tables, luma, matrices), `affine.rs` the
//! [`Affine`] formula and its fit to a table, and this file the program and its passes. Each
//! pass lets `wasm32.rs` (simd128 kernels, wasm32 only) do the leading whole vectors and
//! finishes the row itself; on other targets `portable.rs` stands in with the same signatures
//! and does nothing, so the pass's own loop does the whole row.

mod affine;
mod formulas;

// One of the two under one name, so that the passes have no cfg of their own.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use portable as simd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm32;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use wasm32 as simd;

use self::{
    affine::Affine,
    formulas::{Lut, Matrix, apply_matrix, channel_table, fixed_matrix, float_matrix, luma},
};
use crate::{catalog::Kind, spec::FilterSpec};

/// A table's form for the SIMD paths (see the module docs). On other targets, and for the
/// bytes past the last full vector, the table itself runs: the forms equal it exactly.
#[derive(Clone, Debug)]
enum Op {
    Lut(Box<Lut>),
    /// A table that is exactly `255 - c`: an XOR, vectorized.
    Invert,
    /// A table that is exactly `clamp(c + k, 0, 255)`: a saturating add or subtract.
    Offset(i16),
    /// A table that is exactly an [`Affine`] formula.
    Affine(Box<Lut>, Affine),
    /// A table that is exactly `levels[q(c)]` for an [`Affine`] `q` below 32: posterize,
    /// and posterize followed by other tables.
    Levels(Box<Lut>, Affine, [u8; 32]),
    /// Luma, then a table that is exactly the step `c >= level`: a compare, vectorized.
    Threshold(u32),
    Luma,
    /// Luma, then a table: threshold, or grayscale followed by per-channel filters.
    LumaLut(Box<Lut>),
    Matrix(Matrix),
}

/// A fused run of colour filters.
#[derive(Clone, Debug)]
pub(crate) struct ColorProgram {
    ops: Vec<Op>,
}

/// Pixels per chunk: small enough that a chunk stays in L1 between ops.
const CHUNK_PX: usize = 512;

impl ColorProgram {
    /// Compiles `specs` (all colour filters) into as few ops as exactness allows.
    pub(crate) fn new(specs: &[FilterSpec]) -> Self {
        let mut ops: Vec<Op> = Vec::new();
        for spec in specs {
            if let Some(lut) = channel_table(spec) {
                match ops.last_mut() {
                    Some(Op::Lut(prev) | Op::LumaLut(prev)) => {
                        for v in prev.iter_mut() {
                            *v = lut[usize::from(*v)];
                        }
                    }
                    Some(last @ Op::Luma) => *last = Op::LumaLut(lut),
                    _ => ops.push(Op::Lut(lut)),
                }
                continue;
            }
            match spec.kind() {
                Kind::Grayscale => ops.push(Op::Luma),
                Kind::Threshold => {
                    let level = spec.value(0) as u32;
                    let mut lut = Box::new([0u8; 256]);
                    for (c, out) in lut.iter_mut().enumerate() {
                        *out = if c as u32 >= level { 255 } else { 0 };
                    }
                    ops.push(Op::LumaLut(lut));
                }
                kind => {
                    let m = float_matrix(kind, spec.value(0))
                        .expect("colour filters are tables, luma or matrices");
                    ops.push(Op::Matrix(fixed_matrix(m)));
                }
            }
        }
        for op in &mut ops {
            *op = match op {
                Op::Lut(lut)
                    if lut
                        .iter()
                        .enumerate()
                        .all(|(c, &v)| usize::from(v) == 255 - c) =>
                {
                    Op::Invert
                }
                Op::LumaLut(lut) if lut.iter().all(|&v| v == 0 || v == 255) && lut.is_sorted() => {
                    Op::Threshold(lut.iter().position(|&v| v == 255).unwrap_or(256) as u32)
                }
                Op::Lut(lut) => match simd_form(lut) {
                    Some(form) => form,
                    None => continue,
                },
                _ => continue,
            };
        }
        Self { ops }
    }

    /// The op names, for tests that check which form a chain compiled to.
    #[cfg(test)]
    fn forms(&self) -> Vec<&'static str> {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Lut(_) => "lut",
                Op::Invert => "invert",
                Op::Offset(_) => "offset",
                Op::Affine(..) => "affine",
                Op::Levels(..) => "levels",
                Op::Threshold(_) => "threshold",
                Op::Luma => "luma",
                Op::LumaLut(_) => "luma-lut",
                Op::Matrix(_) => "matrix",
            })
            .collect()
    }

    pub(crate) fn apply_row(&self, row: &mut [u8]) {
        for chunk in row.chunks_mut(CHUNK_PX * 4) {
            for op in &self.ops {
                match op {
                    Op::Lut(lut) => lut_pass(lut, chunk.as_chunks_mut::<4>().0),
                    Op::Invert => invert_pass(chunk),
                    Op::Offset(k) => offset_pass(*k, chunk),
                    Op::Affine(lut, a) => affine_pass(lut, a, chunk),
                    Op::Levels(lut, q, levels) => levels_pass(lut, q, levels, chunk),
                    Op::Threshold(level) => threshold_pass(*level, chunk),
                    Op::Luma => luma_pass(chunk),
                    Op::LumaLut(lut) => luma_lut_pass(lut, chunk),
                    Op::Matrix(m) => matrix_pass(m, chunk),
                }
            }
        }
    }
}

/// The SIMD form of a per-channel table, checked entry by entry; `None` keeps the table.
fn simd_form(lut: &Lut) -> Option<Op> {
    let k = i16::from(lut[128]) - 128;
    if (0..=255u8).all(|c| i16::from(lut[usize::from(c)]) == (i16::from(c) + k).clamp(0, 255)) {
        return Some(Op::Offset(k));
    }
    if let Some(a) = Affine::fit(lut) {
        return Some(Op::Affine(Box::new(*lut), a));
    }
    // Levels: the table is constant on each posterize bucket, and the bucket index is affine.
    (1..32u32).find_map(|steps| {
        let bucket = |c: usize| (c as u32 * steps + 127) / 255;
        let mut levels = [0u8; 32];
        let mut index = [0u8; 256];
        for (c, &v) in lut.iter().enumerate() {
            let q = bucket(c) as usize;
            if c > 0 && bucket(c - 1) as usize == q && levels[q] != v {
                return None;
            }
            levels[q] = v;
            index[c] = q as u8;
        }
        // The levels kernel has no multiply: an index below 32 rises slowly enough.
        let q = Affine::fit(&index).filter(|q| !q.needs_mul())?;
        Some(Op::Levels(Box::new(*lut), q, levels))
    })
}

fn offset_pass(k: i16, bytes: &mut [u8]) {
    let done = simd::offset(bytes, k);
    let amount = k.unsigned_abs().min(255) as u8;
    if k >= 0 {
        offset_blocks(&mut bytes[done..], amount, u8::saturating_add);
    } else {
        offset_blocks(&mut bytes[done..], amount, u8::saturating_sub);
    }
}

/// `op(c, amount)` on R, G, B (0 for alpha) in 16-byte blocks, which the compiler turns into
/// one vector op each.
fn offset_blocks(bytes: &mut [u8], amount: u8, op: impl Fn(u8, u8) -> u8) {
    let per_byte: [u8; 16] = core::array::from_fn(|i| if i % 4 == 3 { 0 } else { amount });
    for block in bytes.chunks_mut(16) {
        for (c, &a) in block.iter_mut().zip(&per_byte) {
            *c = op(*c, a);
        }
    }
}

fn affine_pass(lut: &Lut, a: &Affine, bytes: &mut [u8]) {
    let done = simd::affine(bytes, a);
    lut_pass(lut, bytes[done..].as_chunks_mut::<4>().0);
}

fn levels_pass(lut: &Lut, q: &Affine, levels: &[u8; 32], bytes: &mut [u8]) {
    let done = simd::levels(bytes, q, levels);
    lut_pass(lut, bytes[done..].as_chunks_mut::<4>().0);
}

/// Luma of the RGBA pixels of `src` into `dst`, a byte per pixel.
pub(crate) fn luma_row(src: &[u8], dst: &mut [u8]) {
    let done = simd::luma_row(src, dst);
    let (px, _) = src[done * 4..].as_chunks::<4>();
    for (d, p) in dst[done..].iter_mut().zip(px) {
        *d = luma(p[0], p[1], p[2]);
    }
}

/// One word load and store per pixel rather than three byte ones.
fn lut_pass(lut: &Lut, px: &mut [[u8; 4]]) {
    for p in px {
        let v = u32::from_le_bytes(*p);
        let at = |shift: u32| u32::from(lut[((v >> shift) & 0xFF) as usize]) << shift;
        *p = (at(0) | at(8) | at(16) | (v & 0xFF00_0000)).to_le_bytes();
    }
}

fn invert_pass(bytes: &mut [u8]) {
    let done = simd::invert(bytes);
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        *p = (u32::from_le_bytes(*p) ^ 0x00FF_FFFF).to_le_bytes();
    }
}

fn threshold_pass(level: u32, bytes: &mut [u8]) {
    let done = simd::threshold(bytes, level);
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let on = if u32::from(luma(p[0], p[1], p[2])) >= level {
            255
        } else {
            0
        };
        p[..3].fill(on);
    }
}

fn luma_pass(bytes: &mut [u8]) {
    let done = simd::grayscale(bytes);
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let y = luma(p[0], p[1], p[2]);
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
}

fn luma_lut_pass(lut: &Lut, bytes: &mut [u8]) {
    let done = simd::luma_lut(bytes, lut);
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let y = lut[usize::from(luma(p[0], p[1], p[2]))];
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
}

fn matrix_pass(m: &Matrix, bytes: &mut [u8]) {
    let done = simd::matrix(bytes, m);
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let [r, g, b] = apply_matrix(m, p[0], p[1], p[2]);
        p[0] = r;
        p[1] = g;
        p[2] = b;
    }
}

#[cfg(test)]
mod tests {
    //! The SIMD forms against the tables they replace, on every kind of remainder; these
    //! also run under wasm32, where the forms take the SIMD kernels.

    use super::*;
    use crate::spec::PipelineSpec;

    fn program(text: &str) -> ColorProgram {
        let spec: PipelineSpec = text.parse().expect("test specs are valid");
        ColorProgram::new(&spec.filters)
    }

    /// The composed table of a chain of per-channel filters.
    fn composed(text: &str) -> Lut {
        let spec: PipelineSpec = text.parse().expect("test specs are valid");
        let mut lut: Lut = core::array::from_fn(|c| c as u8);
        for filter in &spec.filters {
            let next = channel_table(filter).expect("per-channel filters only");
            lut = lut.map(|v| next[usize::from(v)]);
        }
        lut
    }

    /// `px` pixels whose R, G, B run through every byte value at different phases.
    fn ramp(px: usize) -> Vec<u8> {
        (0..px * 4)
            .map(|i| (i * 67 + i / 4 * 5 + 3) as u8)
            .collect()
    }

    const TABLE_CHAINS: [&str; 16] = [
        "brightness:v=0.1",
        "brightness:v=-1",
        "brightness:v=1",
        "brightness:v=-0.37",
        "contrast:v=0",
        "contrast:v=0.37",
        "contrast:v=1.3",
        "contrast:v=1.37",
        "contrast:v=3.68",
        "contrast:v=4",
        "brightness:v=0.1|contrast:v=1.3",
        "contrast:v=0.5|brightness:v=0.4",
        "posterize",
        "posterize:n=2",
        "posterize:n=32|invert",
        "posterize:n=17|brightness:v=-0.2",
    ];

    /// Runs `text` as a program and as its table on rows of every remainder.
    fn check_widths(text: &str) {
        let program = program(text);
        let lut = composed(text);
        for px in [1, 3, 4, 5, 9, 17, 65, 1281] {
            let data = ramp(px);
            let mut got = data.clone();
            program.apply_row(&mut got);
            let mut want = data;
            lut_pass(&lut, want.as_chunks_mut::<4>().0);
            assert_eq!(got, want, "{text} ({:?}) on {px} pixels", program.forms());
        }
    }

    tests! {
        fn forms_equal_their_tables_on_every_width() {
            for text in TABLE_CHAINS {
                check_widths(text);
            }
        }

        fn benchmark_chains_compile_to_simd_forms() {
            let cases = [
                ("brightness:v=0.1", vec!["offset"]),
                ("contrast:v=1.3", vec!["affine"]),
                ("brightness:v=0.1|contrast:v=1.3|saturation:v=1.2", vec!["affine", "matrix"]),
                ("posterize", vec!["levels"]),
                ("posterize:n=32|invert", vec!["levels"]),
                ("gamma:v=2.2", vec!["lut"]),
            ];
            for (text, forms) in cases {
                assert_eq!(program(text).forms(), forms, "{text}");
            }
        }

        fn slider_values_get_simd_forms_that_equal_their_tables() {
            let mut tables = 0;
            let mut kept = Vec::new();
            // One spec per shape of the formula the kernels specialise on (levels or not,
            // multiply, negative offset, 7 fraction bits).
            let mut shapes = std::collections::BTreeMap::new();
            let mut check = |text: String| {
                let lut = composed(&text);
                tables += 1;
                let ops = program(&text).ops;
                if let [Op::Affine(_, a) | Op::Levels(_, a, _)] = &ops[..] {
                    let levels = matches!(ops[0], Op::Levels(..));
                    let shape = (levels, a.needs_mul(), a.c < 0, a.s);
                    shapes.entry(shape).or_insert_with(|| text.clone());
                }
                match &ops[..] {
                    [Op::Offset(k)] => assert!(
                        (0..256).all(|c| i32::from(lut[c]) == (c as i32 + i32::from(*k)).clamp(0, 255)),
                        "{text}"
                    ),
                    [Op::Affine(_, a)] => assert!((0..=255u8).all(|c| a.eval(c) == i32::from(lut[usize::from(c)])), "{text}"),
                    [Op::Levels(_, q, levels)] => assert!(
                        (0..=255u8).all(|c| levels[q.eval(c) as usize] == lut[usize::from(c)]),
                        "{text}"
                    ),
                    _ => kept.push(text),
                }
            };
            for v in 0..=400 {
                check(format!("contrast:v={}", f64::from(v) / 100.0));
            }
            for v in -100..=100 {
                check(format!("brightness:v={}", f64::from(v) / 100.0));
            }
            for n in 2..=32 {
                check(format!("posterize:n={n}"));
            }
            for b in (-100..=100).step_by(9) {
                for c in (0..=400).step_by(13) {
                    check(format!("brightness:v={}|contrast:v={}", f64::from(b) / 100.0, f64::from(c) / 100.0));
                }
            }
            // A handful of steep contrasts find no 16-bit formula and keep the table.
            assert!(kept.len() * 100 <= tables, "{} of {tables} kept tables: {kept:?}", kept.len());
            assert!(shapes.len() >= 5, "{shapes:?}");
            for text in shapes.values() {
                check_widths(text);
            }
        }
    }
}
