//! Exact rounding division by the box blur's window (`2r + 1`): as a scalar multiply and
//! shift, and as a 16-bit multiplier for SIMD lanes.

/// `round(n / d)` for `n <= 255 * d`, `d <= 255`, as a multiply and shift.
/// `m = 2^23 / d + 1` is exact here: the error term `n * (m*d - 2^23) < 2^23`,
/// and `(n + d/2) * m` stays below 2^32.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divider {
    half: u32,
    multiplier: u32,
    /// The same division for SIMD lanes, where it fits (every box blur radius).
    pub(super) lanes: Option<Lanes>,
}

/// `round(n / d) = ((n + half) * m) >> shift` with a 16-bit `m`, so that 8 `u16` sums take
/// two widening multiplies into `u32` lanes (wasm has no 16-bit high multiply).
///
/// Exact for every `n <= 255 * d`: with `N = n + half`, `m = ceil(2^shift / d)` and
/// `2^shift > d * N_max`, `N * m / 2^shift = N / d + N * (m*d - 2^shift) / (d * 2^shift)`
/// exceeds `N / d` by less than `1 / d`, which never reaches the next integer. `N * m` stays
/// below 2^32 for `N < 2^16`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lanes {
    pub(super) half: u16,
    pub(super) m: u16,
    pub(super) shift: u32,
}

impl Divider {
    pub(crate) fn new(d: u32) -> Self {
        Self {
            half: d / 2,
            multiplier: (1 << 23) / d + 1,
            lanes: Lanes::new(d),
        }
    }

    #[inline]
    pub(crate) fn div(self, n: u32) -> u32 {
        ((n + self.half) * self.multiplier) >> 23
    }
}

impl Lanes {
    /// The 16-bit form for `d`, if its multiplier fits 16 bits (`d <= 128`).
    fn new(d: u32) -> Option<Self> {
        let n_max = 255 * u64::from(d) + u64::from(d / 2);
        let shift = (0..32).find(|&s| 1u64 << s > u64::from(d) * n_max)?;
        let m = (1u64 << shift).div_ceil(u64::from(d));
        Some(Self {
            half: u16::try_from(d / 2).ok()?,
            m: u16::try_from(m).ok()?,
            shift,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every window of every box blur radius (1..=50), every sum: the lanes' form equals the
    /// scalar division.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn lanes_divide_exactly() {
        for d in (3..=101).step_by(2) {
            let divider = Divider::new(d);
            let lanes = divider.lanes.expect("every box window has lanes");
            for n in 0..=255 * d {
                let wide = ((n + u32::from(lanes.half)) * u32::from(lanes.m)) >> lanes.shift;
                assert_eq!(wide, divider.div(n), "d {d} n {n}");
            }
        }
    }
}
