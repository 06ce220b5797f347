//! Golden images: a few filters on a small fixed picture (`fixtures/input.png`), compared
//! with the reviewed outputs in `fixtures/*.png` (tolerance ±1 per channel, for float
//! rounding across platforms).
//!
//! `FILTERS_BLESS=1 cargo test -p filters --test golden` rewrites the fixtures (natively);
//! look at them before committing.

mod common;

use common::{assert_close, scene_frame, tests};

const WIDTH: u32 = 64;
const HEIGHT: u32 = 48;

/// (fixture file, pipeline, PNG bytes).
const GOLDEN: [(&str, &str, &[u8]); 8] = [
    (
        "grayscale.png",
        "grayscale",
        include_bytes!("../fixtures/grayscale.png"),
    ),
    (
        "sepia.png",
        "sepia|contrast:v=1.2",
        include_bytes!("../fixtures/sepia.png"),
    ),
    (
        "blur.png",
        "blur:r=2",
        include_bytes!("../fixtures/blur.png"),
    ),
    (
        "gaussian.png",
        "gaussian:sigma=1.5",
        include_bytes!("../fixtures/gaussian.png"),
    ),
    (
        "sobel.png",
        "sobel",
        include_bytes!("../fixtures/sobel.png"),
    ),
    (
        "canny.png",
        "canny",
        include_bytes!("../fixtures/canny.png"),
    ),
    (
        "cartoon.png",
        "cartoon",
        include_bytes!("../fixtures/cartoon.png"),
    ),
    (
        "vignette.png",
        "vignette:v=1|mirror",
        include_bytes!("../fixtures/vignette.png"),
    ),
];

const INPUT: &[u8] = include_bytes!("../fixtures/input.png");

fn decode(png: &[u8]) -> Vec<u8> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("fixtures are PNGs")
        .to_rgba8();
    assert_eq!(image.dimensions(), (WIDTH, HEIGHT));
    image.into_raw()
}

#[cfg(not(target_arch = "wasm32"))]
fn bless() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let input = scene_frame(WIDTH, HEIGHT, 2024);
    let save = |name: &str, data: &[u8]| {
        image::save_buffer(
            dir.join(name),
            data,
            WIDTH,
            HEIGHT,
            image::ExtendedColorType::Rgba8,
        )
        .expect("fixtures folder is writable");
    };
    save("input.png", &input);
    for (file, spec, _) in GOLDEN {
        save(file, &common::run(spec, &input, WIDTH, HEIGHT));
    }
}

tests! {
    fn filters_reproduce_the_golden_images() {
        #[cfg(not(target_arch = "wasm32"))]
        if std::env::var_os("FILTERS_BLESS").is_some() {
            bless();
            return;
        }
        let input = decode(INPUT);
        assert_eq!(input, scene_frame(WIDTH, HEIGHT, 2024), "input.png is the seeded scene");
        for (file, spec, png) in GOLDEN {
            let got = common::run(spec, &input, WIDTH, HEIGHT);
            assert_close(file, &got, &decode(png), 1, WIDTH, HEIGHT);
        }
    }
}
