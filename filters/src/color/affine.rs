//! The integer formula that a rising per-channel table can be computed by in `u16` SIMD
//! lanes, and the search for it. A leaf beside the kernels: `color` fits it to a table and
//! `color::wasm32` evaluates it, and neither needs the other for that.

use super::formulas::Lut;

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
