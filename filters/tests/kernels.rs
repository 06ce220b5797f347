//! Every built-in filter, run through a `Pipeline`, against the plain reference in
//! `common/reference.rs`: all awkward sizes, noise and camera-like content, several parameter
//! values. Exact unless the definition is a float formula (then ±1, stated per case).

mod common;

use common::{
    SIZES, assert_close, contents, reference as r, reference::Img, run, small_sizes, tests,
};
use filters::{Frame, Pipeline};

/// Runs `spec` and `reference` on both contents of every size in `sizes`.
fn check(
    spec: &str,
    tolerance: u8,
    sizes: impl IntoIterator<Item = (u32, u32)>,
    reference: impl Fn(Img) -> Img,
) {
    for (w, h) in sizes {
        for data in contents(w, h) {
            let got = run(spec, &data, w, h);
            let want = reference(Img::new(&data, w, h)).data;
            assert_close(spec, &got, &want, tolerance, w, h);
        }
    }
}

tests! {
    fn grayscale_matches_reference() {
        check("grayscale", 0, SIZES, r::grayscale);
    }

    fn invert_matches_reference() {
        check("invert", 0, SIZES, r::invert);
    }

    fn brightness_matches_reference() {
        for v in [-1.0, -0.37, 0.0, 0.2, 1.0] {
            check(&format!("brightness:v={v}"), 0, SIZES, |i| r::brightness(i, v));
        }
    }

    fn contrast_matches_reference() {
        // Float formula: the crate evaluates it in f32, the reference in f64.
        for v in [0.0, 0.5, 1.0, 1.37, 4.0] {
            check(&format!("contrast:v={v}"), 1, SIZES, |i| r::contrast(i, v));
        }
    }

    fn brightness_and_contrast_are_exact_on_a_grid_of_values() {
        // Every slider value of these per-channel filters runs as SIMD arithmetic on wasm32
        // (or as the table for the few steep contrasts that need it): exactly the definition.
        for step in (-100..=100).step_by(7) {
            let v = f64::from(step) / 100.0;
            check(&format!("brightness:v={v}"), 0, small_sizes(), |i| r::brightness(i, v));
        }
        for step in (0..=400).step_by(11).chain([137, 368, 379, 390]) {
            let v = step as f32 / 100.0;
            check(&format!("contrast:v={v}"), 0, small_sizes(), |i| r::contrast_f32(i, v));
        }
        check("contrast:v=1.3", 0, SIZES, |i| r::contrast_f32(i, 1.3));
        check("brightness:v=0.1|contrast:v=1.3", 0, SIZES, |i| {
            r::contrast_f32(r::brightness(i, 0.1), 1.3)
        });
    }

    fn posterize_is_exact_for_every_level_count() {
        for n in 2..=32 {
            check(&format!("posterize:n={n}"), 0, small_sizes(), |i| r::posterize(i, n));
        }
    }

    fn gamma_matches_reference() {
        for v in [0.1, 0.45, 1.0, 2.2, 5.0] {
            check(&format!("gamma:v={v}"), 1, SIZES, |i| r::gamma(i, v));
        }
    }

    fn threshold_matches_reference() {
        for v in [0u8, 1, 128, 200, 255] {
            check(&format!("threshold:v={v}"), 0, SIZES, |i| r::threshold(i, v));
        }
    }

    fn posterize_matches_reference() {
        for n in [2, 3, 4, 7, 32] {
            check(&format!("posterize:n={n}"), 0, SIZES, |i| r::posterize(i, n));
        }
    }

    fn sepia_matches_reference() {
        // Q12 fixed-point matrix against the float matrix.
        for v in [0.0, 0.3, 1.0] {
            check(&format!("sepia:v={v}"), 1, SIZES, |i| r::sepia(i, v));
        }
    }

    fn saturation_matches_reference() {
        for v in [0.0, 0.5, 1.0, 1.8, 3.0] {
            check(&format!("saturation:v={v}"), 1, SIZES, |i| r::saturation(i, v));
        }
    }

    fn box_blur_matches_reference() {
        check("blur:r=3", 0, SIZES, |i| r::box_blur(i, 3));
        for radius in [1, 2, 7, 20, 50] {
            check(&format!("blur:r={radius}"), 0, small_sizes(), |i| r::box_blur(i, radius));
        }
    }

    fn gaussian_matches_reference() {
        check("gaussian", 0, SIZES, |i| r::gaussian(i, 1.5));
        for sigma in [0.5f32, 0.8, 2.3, 6.0, 10.0] {
            let s = f64::from(sigma);
            check(&format!("gaussian:sigma={sigma}"), 0, small_sizes(), |i| r::gaussian(i, s));
        }
    }

    fn sharpen_matches_reference() {
        check("sharpen", 0, SIZES, |i| r::sharpen(i, 1.0, 1.0));
        for (a, radius) in [(0.0f32, 0.5f32), (0.55, 2.0), (5.0, 1.3)] {
            let spec = format!("sharpen:a={a},r={radius}");
            check(&spec, 0, small_sizes(), |i| r::sharpen(i, f64::from(a), f64::from(radius)));
        }
    }

    fn sobel_matches_reference() {
        check("sobel", 0, SIZES, r::sobel);
    }

    fn emboss_matches_reference() {
        check("emboss", 0, SIZES, r::emboss);
    }

    fn canny_matches_reference() {
        check("canny", 0, SIZES, |i| r::canny(i, 40, 90));
        for (lo, hi) in [(0, 0), (10, 30), (90, 40), (200, 600), (1000, 1000)] {
            check(&format!("canny:lo={lo},hi={hi}"), 0, small_sizes(), |i| r::canny(i, lo, hi));
        }
    }

    fn cartoon_matches_reference() {
        check("cartoon", 0, SIZES, |i| r::cartoon(i, 2, 6, 48));
        for (radius, n, e) in [(1, 2, 0), (4, 9, 100), (10, 16, 255)] {
            let spec = format!("cartoon:r={radius},n={n},e={e}");
            check(&spec, 0, small_sizes(), |i| r::cartoon(i, radius, n, e));
        }
    }

    fn pixelate_matches_reference() {
        for s in [2, 3, 8, 64] {
            check(&format!("pixelate:s={s}"), 0, SIZES, |i| r::pixelate(i, s));
        }
    }

    fn vignette_matches_reference() {
        // Falloff tables in f32 against f64.
        for v in [0.0, 0.5, 1.0] {
            check(&format!("vignette:v={v}"), 1, SIZES, |i| r::vignette(i, v));
        }
    }

    fn mirror_matches_reference() {
        check("mirror", 0, SIZES, r::mirror);
    }

    fn motion_marks_changes_since_the_previous_frame() {
        for (w, h) in SIZES {
            let [first, second] = contents(w, h);
            for t in [1u8, 24, 255] {
                let mut pipeline = Pipeline::new(format!("motion:t={t}").parse().unwrap());
                // The first frame only records.
                let mut a = first.clone();
                pipeline.apply(&mut Frame::new(&mut a, w, h).unwrap());
                assert_eq!(a, first, "motion changed the first frame");
                let mut b = second.clone();
                pipeline.apply(&mut Frame::new(&mut b, w, h).unwrap());
                let want = r::motion(&Img::new(&first, w, h), Img::new(&second, w, h), i32::from(t));
                assert_close("motion", &b, &want.data, 0, w, h);
                // Against itself the next frame shows nothing.
                let mut c = second.clone();
                pipeline.apply(&mut Frame::new(&mut c, w, h).unwrap());
                assert_eq!(c, second, "motion marked an unchanged frame");
            }
        }
    }
}
