//! `segment-blur` and `segment-replace` as pipeline stages with the real model, on the photo.

mod common;

use common::{golden_mask, model, photo, tests};
use filters::{Frame, MaskStatus, Pipeline, PipelineSpec, matte::Backdrop};

fn run(text: &str) -> (Vec<u8>, Vec<u8>, u32, u32) {
    run_with(text, None)
}

fn run_with(text: &str, backdrop: Option<Backdrop>) -> (Vec<u8>, Vec<u8>, u32, u32) {
    let (original, w, h) = photo();
    let mut out = original.clone();
    let mut pipeline = Pipeline::new(text.parse::<PipelineSpec>().unwrap());
    assert!(pipeline.needs_segmenter());
    pipeline.set_segmenter(Some(Box::new(model())));
    pipeline.set_backdrop(backdrop);
    pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
    assert_eq!(pipeline.segment_status(), Some(&MaskStatus::Ready));
    (original, out, w, h)
}

/// Against the golden mask: the share of the background whose pixel `replaced(index,
/// pixel)` accepts, and the share of the person left exactly as it was.
fn replaced_and_kept(
    original: &[u8],
    out: &[u8],
    replaced: impl Fn(usize, &[u8]) -> bool,
) -> (f64, f64) {
    let golden = golden_mask();
    let (mut bg, mut bg_replaced, mut person, mut person_kept) = (0u32, 0u32, 0u32, 0u32);
    for (i, ((o, p), &g)) in original
        .chunks_exact(4)
        .zip(out.chunks_exact(4))
        .zip(&golden)
        .enumerate()
    {
        if g < 26 {
            bg += 1;
            bg_replaced += u32::from(replaced(i, p));
        } else if g > 229 {
            person += 1;
            person_kept += u32::from(o == p);
        }
    }
    (
        f64::from(bg_replaced) / f64::from(bg),
        f64::from(person_kept) / f64::from(person),
    )
}

/// Sum of |horizontal| + |vertical| luma-ish differences over a rectangle: detail.
fn detail(rgba: &[u8], w: u32, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> u64 {
    let at = |x: u32, y: u32| {
        let i = ((y * w + x) * 4) as usize;
        i64::from(rgba[i]) + i64::from(rgba[i + 1]) + i64::from(rgba[i + 2])
    };
    let mut sum = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            sum +=
                (at(x + 1, y) - at(x, y)).unsigned_abs() + (at(x, y + 1) - at(x, y)).unsigned_abs();
        }
    }
    sum
}

tests! {
    fn segment_replace_turns_the_background_green_and_keeps_the_person() {
        let (original, out, _, _) = run("segment-replace:color=00ff00");
        let (green, kept) = replaced_and_kept(&original, &out, |_, p| p[..3] == [0, 255, 0]);
        println!("background turned green: {:.2}%, person kept: {:.2}%", green * 100.0, kept * 100.0);
        assert!(green >= 0.95 && kept >= 0.95, "green {green}, kept {kept}");
    }

    fn segment_replace_puts_a_picked_picture_behind_the_person() {
        // A picture of another shape than the photo: it is scaled to cover and cropped.
        let (pw, ph) = (300, 120);
        let mut picture = Vec::new();
        for y in 0..ph {
            for x in 0..pw {
                picture.extend([(x % 256) as u8, (y * 2) as u8, 90, 255]);
            }
        }
        let mut fitted = Backdrop::new(picture.clone(), pw, ph).unwrap();
        let backdrop = Backdrop::new(picture, pw, ph).unwrap();
        let (original, out, w, h) = run_with("segment-replace:color=00ff00", Some(backdrop));
        let fitted = fitted.fitted(w, h);
        let (shown, kept) =
            replaced_and_kept(&original, &out, |i, p| p[..3] == fitted[i * 4..i * 4 + 3]);
        println!("background from the picture: {:.2}%, person kept: {:.2}%", shown * 100.0, kept * 100.0);
        assert!(shown >= 0.95 && kept >= 0.95, "picture {shown}, kept {kept}");
    }

    fn segment_blur_keeps_the_face_and_blurs_the_flag() {
        let (original, out, w, _) = run("segment-blur:r=12,soft=0.5");
        let face = (210, 190, 310, 290);
        let flag = (0, 20, 90, 220);
        let (face_before, face_after) = (detail(&original, w, face), detail(&out, w, face));
        let (flag_before, flag_after) = (detail(&original, w, flag), detail(&out, w, flag));
        println!("detail: face {face_before} -> {face_after}, flag {flag_before} -> {flag_after}");
        assert!(face_after * 100 >= face_before * 98, "face lost detail");
        assert!(flag_after * 4 <= flag_before, "flag kept its detail");
    }

    fn without_a_segmenter_the_stages_pass_frames_unchanged_and_say_loading() {
        let (original, w, h) = photo();
        for text in ["segment-blur", "segment-replace:color=ff0000"] {
            let mut out = original.clone();
            let mut pipeline = Pipeline::new(text.parse::<PipelineSpec>().unwrap());
            pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
            assert_eq!(pipeline.segment_status(), Some(&MaskStatus::Loading));
            assert!(out == original, "{text} changed the frame without a model");
        }
    }
}
