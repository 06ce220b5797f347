//! The runner against rten running the same graphs whole.
use rten_tensor::{AsView as _, TensorView};
use testkit::onnx::{Attr, Dim, Init, Node, model};

use super::*;

const LINEAR: (&str, Attr) = ("mode", Attr::Str("linear"));
const HALF_PIXEL: (&str, Attr) = ("coordinate_transformation_mode", Attr::Str("half_pixel"));

fn scales(name: &'static str, factor: f32) -> Init {
    Init {
        name,
        dims: &[4],
        values: vec![1.0, 1.0, factor, factor],
    }
}

/// `x` (1×2×4×6) → `a = Relu(x)`; `b` = `a` upsampled 2× (cut 1); `c = b·b`; `d` = `c`
/// upsampled 2× (cut 2); `e` = `a` upsampled 4× (rten's, not a cut); `y = d + e`. So part
/// 1 hands `e` past part 2 to part 3, and `a` to the first upsampling.
fn skip_model(second_mode: &'static str) -> Vec<u8> {
    let second: &'static [(&str, Attr)] = if second_mode == "linear" {
        &[LINEAR, HALF_PIXEL]
    } else {
        &[("mode", Attr::Str("nearest"))]
    };
    model(
        &[
            Node {
                op: "Relu",
                inputs: &["x"],
                outputs: &["a"],
                attrs: &[],
            },
            Node {
                op: "Resize",
                inputs: &["a", "", "two"],
                outputs: &["b"],
                attrs: &[LINEAR, HALF_PIXEL],
            },
            Node {
                op: "Mul",
                inputs: &["b", "b"],
                outputs: &["c"],
                attrs: &[],
            },
            Node {
                op: "Resize",
                inputs: &["c", "", "two"],
                outputs: &["d"],
                attrs: second,
            },
            Node {
                op: "Resize",
                inputs: &["a", "", "four"],
                outputs: &["e"],
                attrs: &[LINEAR, HALF_PIXEL],
            },
            Node {
                op: "Add",
                inputs: &["d", "e"],
                outputs: &["y"],
                attrs: &[],
            },
        ],
        &[scales("two", 2.0), scales("four", 4.0)],
        (
            "x",
            &[Dim::Fixed(1), Dim::Fixed(2), Dim::Fixed(4), Dim::Fixed(6)],
        ),
        (
            "y",
            &[Dim::Fixed(1), Dim::Fixed(2), Dim::Fixed(16), Dim::Fixed(24)],
        ),
    )
}

fn run(runner: &Runner, shape: &[usize], data: &[f32]) -> Vec<f32> {
    let out = runner
        .run(TensorView::from_data(shape, data).into())
        .unwrap();
    out.as_tensor_view::<f32>().unwrap().to_vec()
}

/// What rten alone gives: the same bytes, never cut.
fn whole(bytes: Vec<u8>) -> Runner {
    Runner::load_as(bytes, false).unwrap()
}

/// Within float rounding: the cut runs sum in another order.
fn assert_close(a: &[f32], b: &[f32]) {
    crate::testing::assert_all_close(a, b, 1e-5, "cut against whole");
}

#[test]
fn a_graph_is_cut_at_its_2x_upsamplings_and_hands_on_skip_values() {
    let runner = Runner::load(skip_model("linear")).unwrap();
    assert_eq!(runner.parts(), 3, "two cuts; the 4× Resize stays rten's");
    let input: Vec<f32> = (0..48).map(|i| (i as f32 * 0.37).sin()).collect();
    let shape = [1, 2, 4, 6];
    assert_close(
        &run(&runner, &shape, &input),
        &run(&whole(skip_model("linear")), &shape, &input),
    );
}

#[test]
fn nearest_and_other_scales_are_left_to_rten() {
    // The second upsampling is nearest: only the first is cut.
    let runner = Runner::load(skip_model("nearest")).unwrap();
    assert_eq!(runner.parts(), 2);
    let input: Vec<f32> = (0..48).map(|i| i as f32 / 48.0 - 0.5).collect();
    let shape = [1, 2, 4, 6];
    assert_close(
        &run(&runner, &shape, &input),
        &run(&whole(skip_model("nearest")), &shape, &input),
    );

    // A model without Resize is never read twice, and runs whole.
    assert_eq!(
        Runner::load(testkit::onnx::swap_rb(Some((4, 4))))
            .unwrap()
            .parts(),
        1
    );
}

#[test]
fn a_dynamic_size_is_left_to_rten() {
    let dims = [
        Dim::Fixed(1),
        Dim::Fixed(1),
        Dim::Named("h"),
        Dim::Named("w"),
    ];
    let bytes = model(
        &[Node {
            op: "Resize",
            inputs: &["x", "", "two"],
            outputs: &["y"],
            attrs: &[LINEAR, HALF_PIXEL],
        }],
        &[scales("two", 2.0)],
        ("x", &dims),
        ("y", &dims),
    );
    let runner = Runner::load(bytes).unwrap();
    assert_eq!(runner.parts(), 1);
    let out = run(&runner, &[1, 1, 1, 2], &[1.0, 3.0]);
    assert_eq!(out.len(), 8);
}

/// `x` (1×3×9×16) → depthwise 3×3, stride 2, with bias, then `LeakyRelu(0)` → `a`;
/// depthwise 5×5 (no bias) → `b`, read by `HardSigmoid` and by `Mul(b, gate)` → `c`;
/// a depthwise 3×3 whose output `d` is read twice (`e = d + d`: nothing to fuse);
/// `y = c + e`.
fn depthwise_model() -> Vec<u8> {
    const DW3: &[(&str, Attr)] = &[
        ("group", Attr::Int(3)),
        ("kernel_shape", Attr::Ints(&[3, 3])),
        ("pads", Attr::Ints(&[0, 0, 1, 1])),
        ("strides", Attr::Ints(&[2, 2])),
        ("dilations", Attr::Ints(&[1, 1])),
    ];
    // (rten wants strides and dilations spelt out; lenscast's kernel takes the defaults.)
    const DW5: &[(&str, Attr)] = &[
        ("group", Attr::Int(3)),
        ("pads", Attr::Ints(&[2, 2, 2, 2])),
        ("strides", Attr::Ints(&[1, 1])),
        ("dilations", Attr::Ints(&[1, 1])),
    ];
    const SAME3: &[(&str, Attr)] = &[
        ("group", Attr::Int(3)),
        ("pads", Attr::Ints(&[1, 1, 1, 1])),
        ("strides", Attr::Ints(&[1, 1])),
        ("dilations", Attr::Ints(&[1, 1])),
    ];
    let weights = |name, k: usize, dims| Init {
        name,
        dims,
        values: (0..3 * k * k)
            .map(|i| ((i * 37) % 17) as f32 / 17.0 - 0.4)
            .collect(),
    };
    model(
        &[
            Node {
                op: "Conv",
                inputs: &["x", "w3", "b3"],
                outputs: &["r"],
                attrs: DW3,
            },
            Node {
                op: "LeakyRelu",
                inputs: &["r"],
                outputs: &["a"],
                attrs: &[("alpha", Attr::Float(0.0))],
            },
            Node {
                op: "Conv",
                inputs: &["a", "w5"],
                outputs: &["b"],
                attrs: DW5,
            },
            Node {
                op: "HardSigmoid",
                inputs: &["b"],
                outputs: &["gate"],
                attrs: &[("alpha", Attr::Float(1.0 / 6.0))],
            },
            Node {
                op: "Mul",
                inputs: &["b", "gate"],
                outputs: &["c"],
                attrs: &[],
            },
            Node {
                op: "Conv",
                inputs: &["a", "w3b"],
                outputs: &["d"],
                attrs: SAME3,
            },
            Node {
                op: "Add",
                inputs: &["d", "d"],
                outputs: &["e"],
                attrs: &[],
            },
            Node {
                op: "Add",
                inputs: &["c", "e"],
                outputs: &["y"],
                attrs: &[],
            },
        ],
        &[
            weights("w3", 3, &[3, 1, 3, 3]),
            Init {
                name: "b3",
                dims: &[3],
                values: vec![0.1, -0.2, 0.3],
            },
            weights("w5", 5, &[3, 1, 5, 5]),
            weights("w3b", 3, &[3, 1, 3, 3]),
        ],
        (
            "x",
            &[Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(9), Dim::Fixed(16)],
        ),
        (
            "y",
            &[Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(4), Dim::Fixed(8)],
        ),
    )
}

#[test]
fn depthwise_convolutions_are_cut_with_their_activations() {
    let runner = Runner::load(depthwise_model()).unwrap();
    assert_eq!(runner.parts(), 4, "three depthwise convolutions");
    let shape = [1, 3, 9, 16];
    let input: Vec<f32> = (0..3 * 9 * 16).map(|i| (i as f32 * 0.21).cos()).collect();
    let ours = run(&runner, &shape, &input);
    assert_close(&ours, &run(&whole(depthwise_model()), &shape, &input));
    assert!(ours.iter().any(|&v| v != 0.0));
}

#[cfg(has_model)]
#[test]
fn the_selfie_model_runs_in_fifteen_parts_with_rten_s_output() {
    let bytes = include_bytes!("../../../static/models/selfie_segmentation_landscape.onnx");
    let runner = Runner::load(bytes.to_vec()).unwrap();
    assert_eq!(
        runner.parts(),
        15,
        "cut at the decoder's three upsamplings and the eleven depthwise convolutions"
    );
    let shape = [1, 144, 256, 3];
    let input: Vec<f32> = (0..144 * 256 * 3)
        .map(|i| ((i * 31) % 256) as f32 / 255.0)
        .collect();
    assert_close(
        &run(&runner, &shape, &input),
        &run(&whole(bytes.to_vec()), &shape, &input),
    );
}
