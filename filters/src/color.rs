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

use crate::{catalog::Kind, spec::FilterSpec};

/// BT.601 luma in Q8; the weights sum to 256, so the result always fits a byte.
#[inline]
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

pub(crate) type Lut = [u8; 256];

fn table(f: impl Fn(f32) -> f32) -> Box<Lut> {
    let mut lut = Box::new([0u8; 256]);
    for (c, out) in lut.iter_mut().enumerate() {
        *out = f(c as f32).round().clamp(0.0, 255.0) as u8;
    }
    lut
}

/// The table of a per-channel filter; `None` for the others.
pub(crate) fn channel_table(spec: &FilterSpec) -> Option<Box<Lut>> {
    let v = spec.value(0);
    Some(match spec.kind() {
        Kind::Invert => table(|c| 255.0 - c),
        Kind::Brightness => {
            let offset = (v * 255.0).round();
            table(|c| c + offset)
        }
        Kind::Contrast => table(|c| (c - 127.5) * v + 127.5),
        Kind::Gamma => table(|c| 255.0 * (c / 255.0).powf(1.0 / v)),
        Kind::Posterize => posterize_table(v as u32),
        _ => return None,
    })
}

/// `n` evenly spaced levels: each channel snaps to the nearest of `k * 255 / (n - 1)`.
pub(crate) fn posterize_table(levels: u32) -> Box<Lut> {
    let steps = levels.max(2) - 1;
    let mut lut = Box::new([0u8; 256]);
    for (c, out) in lut.iter_mut().enumerate() {
        let q = (c as u32 * steps + 127) / 255;
        *out = ((q * 255 + steps / 2) / steps) as u8;
    }
    lut
}

/// Q12 colour matrix rows (R, G, B outputs), weights for (R, G, B) inputs.
pub(crate) type Matrix = [[i32; 3]; 3];

const SEPIA: [[f32; 3]; 3] = [
    [0.393, 0.769, 0.189],
    [0.349, 0.686, 0.168],
    [0.272, 0.534, 0.131],
];
const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// The float matrix of sepia or saturation at parameter `v`.
pub(crate) fn float_matrix(kind: Kind, v: f32) -> Option<[[f32; 3]; 3]> {
    let mut m = [[0.0f32; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, w) in row.iter_mut().enumerate() {
            let identity = if i == j { 1.0 } else { 0.0 };
            *w = match kind {
                Kind::Sepia => (1.0 - v) * identity + v * SEPIA[i][j],
                Kind::Saturation => (1.0 - v) * LUMA[j] + v * identity,
                _ => return None,
            };
        }
    }
    Some(m)
}

fn fixed_matrix(m: [[f32; 3]; 3]) -> Matrix {
    m.map(|row| row.map(|w| (w * 4096.0).round() as i32))
}

#[inline]
fn apply_matrix(m: &Matrix, r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    m.map(|w| ((w[0] * r + w[1] * g + w[2] * b + 2048) >> 12).clamp(0, 255) as u8)
}

/// `y = min((round(u·f / 2⁸) + c, saturated to 0..=65535) >> s, 255)`, with
/// `u = min(x, hi) ⊖ lo` (`⊖` saturates at 0): a clamped input, a factor `f / 2^(8 + s)`, a
/// result with `s` fraction bits (8, or 7 for steep lines whose top would pass 16 bits), an
/// offset, clamps and a floor, all in `u16` lanes. The rounded product is wasm's
/// `i16x8.q15mulr_sat_s` (`(a·m + 2¹⁴) >> 15` with `a = u << 7`), plus `u·(f >> 8)` from an
/// `i16x8.mul` when `f` needs more than 15 bits; the sums saturate in the kernel's order,
/// which [`Affine::eval`] follows, so the two agree bit for bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine {
    pub(crate) lo: u8,
    pub(crate) hi: u8,
    pub(crate) f: u32,
    pub(crate) c: i32,
    /// 8 or 7.
    pub(crate) s: u32,
}

impl Affine {
    /// Whether the factor needs the `i16x8.mul` (more than 15 bits).
    pub(crate) fn needs_mul(self) -> bool {
        self.f > 0x7FFF
    }

    /// The exact integer formula of the SIMD kernel, step by step.
    pub(crate) fn eval(self, x: u8) -> i32 {
        let u = i32::from(x.min(self.hi).saturating_sub(self.lo));
        let f = self.f as i32;
        let (n, m) = if self.needs_mul() {
            (f >> 8, f & 0xFF)
        } else {
            (0, f)
        };
        let sat = |v: i32| v.clamp(0, 0xFFFF);
        let rounded = ((u << 7) * m + (1 << 14)) >> 15;
        let t = sat(u * n + rounded);
        let t = sat(t + self.c.max(0));
        (sat(t + self.c.min(0)) >> self.s).min(255)
    }

    /// Finds a formula equal to the non-decreasing table `t` on all 256 inputs, if any.
    ///
    /// The flat ends of `t` become the input clamp, so the formula only has to follow the
    /// rising part, `u` in `0..=hi - lo`. For each factor near the secant slope, the offsets
    /// `c` that floor every `u` to its entry form an interval (one or two bounds per `u`: an
    /// entry 0 or 255 only needs the sum at or past it, the clamps do the rest); a candidate
    /// from it is kept once [`Affine::eval`] reproduces all of `t`. Tables that are no
    /// rounded line (gamma) give `None`.
    pub(crate) fn fit(t: &Lut) -> Option<Self> {
        if !t.is_sorted() {
            return None;
        }
        let Some(rises) = t.iter().position(|&v| v != t[0]) else {
            // Constant: u is always 0.
            return Some(Self {
                lo: 0,
                hi: 0,
                f: 0,
                c: i32::from(t[0]) << 8,
                s: 8,
            });
        };
        let lo = rises - 1;
        let hi = t.iter().rposition(|&v| v != t[255]).map_or(0, |p| p + 1);
        let width = (hi - lo) as i32;
        let rise = i32::from(t[hi]) - i32::from(t[lo]);
        let entries = &t[lo..=hi];
        // Inside the clamped ends, a rounded line rises by one of two neighbouring steps:
        // this rejects curves (gamma) before the search.
        let inner = entries.get(1..entries.len() - 1).unwrap_or_default();
        let (least, most) = inner
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold((u8::MAX, 0), |(a, b), d| (a.min(d), b.max(d)));
        if most > least.saturating_add(1) {
            return None;
        }
        for s in [8, 7] {
            // The secant is the line's rise over `width`, give or take 1 per end, and a
            // clamped end can hide up to one more step of the line (a slope up to 4);
            // u·(f >> 8) must not wrap a u16 lane.
            let first = (((rise - 2) << (8 + s)) / width).max(0);
            let last = (((rise + 6) << (8 + s)) / width + 1).min(((0xFFFF / width) << 8) | 0xFF);
            for f in first..=last {
                // The unsaturated sum is round(u·f / 2⁸) + c.
                let p = |u: i32| (u * f + 128) >> 8;
                let (mut low, mut high) = (-0xFFFF, 0xFFFF);
                for (u, &y) in (0i32..).zip(entries) {
                    let floor = i32::from(y) << s;
                    if y > 0 {
                        low = low.max(floor - p(u));
                    }
                    if y < 255 {
                        high = high.min(floor + (1 << s) - 1 - p(u));
                    }
                    if low > high {
                        break;
                    }
                }
                if low > high {
                    continue;
                }
                let (lo, hi, f) = (lo as u8, hi as u8, f as u32);
                let found = [low, high, i32::midpoint(low, high)]
                    .into_iter()
                    .map(|c| Self { lo, hi, f, c, s })
                    .find(|a| (0..=255u8).all(|x| a.eval(x) == i32::from(t[usize::from(x)])));
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }
}

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
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::offset(bytes, k);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
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
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::affine(bytes, a);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = {
        let _ = a;
        0
    };
    lut_pass(lut, bytes[done..].as_chunks_mut::<4>().0);
}

fn levels_pass(lut: &Lut, q: &Affine, levels: &[u8; 32], bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::levels(bytes, q, levels);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = {
        let _ = (q, levels);
        0
    };
    lut_pass(lut, bytes[done..].as_chunks_mut::<4>().0);
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
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::invert(bytes);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        *p = (u32::from_le_bytes(*p) ^ 0x00FF_FFFF).to_le_bytes();
    }
}

fn threshold_pass(level: u32, bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::threshold(bytes, level);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
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
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::grayscale(bytes);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let y = luma(p[0], p[1], p[2]);
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
}

fn luma_lut_pass(lut: &Lut, bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::luma_lut(bytes, lut);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let y = lut[usize::from(luma(p[0], p[1], p[2]))];
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
}

fn matrix_pass(m: &Matrix, bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::matrix(bytes, m);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
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
    use crate::PipelineSpec;

    macro_rules! tests {
        ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {$(
            $(#[$meta])*
            #[cfg_attr(not(target_arch = "wasm32"), test)]
            #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
            fn $name() $body
        )*};
    }

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
