//! Tiny ONNX models the tests build themselves: a minimal protobuf writer for the handful of
//! ONNX messages a graph of a few nodes needs (field numbers from onnx.proto). The `segment`
//! crate's tests (native and wasm32) and the browser tests (`e2e`) share it.

/// One dimension: a fixed size or a symbolic name.
pub enum Dim {
    Fixed(u64),
    Named(&'static str),
}

pub struct Node {
    pub op: &'static str,
    pub inputs: &'static [&'static str],
    pub outputs: &'static [&'static str],
    /// Attributes, e.g. `("strides", Attr::Ints(&[1, 1]))`.
    pub attrs: &'static [(&'static str, Attr)],
}

/// An attribute's value.
pub enum Attr {
    Int(u64),
    Float(f32),
    Ints(&'static [u64]),
    Str(&'static str),
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn int(out: &mut Vec<u8>, field: u64, v: u64) {
    varint(out, field << 3);
    varint(out, v);
}

fn bytes(out: &mut Vec<u8>, field: u64, data: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn value_info(name: &str, dims: &[Dim]) -> Vec<u8> {
    let mut shape = vec![];
    for d in dims {
        let mut dim = vec![];
        match d {
            Dim::Fixed(n) => int(&mut dim, 1, *n),
            Dim::Named(s) => bytes(&mut dim, 2, s.as_bytes()),
        }
        bytes(&mut shape, 1, &dim);
    }
    let mut tensor = vec![];
    int(&mut tensor, 1, 1); // FLOAT
    bytes(&mut tensor, 2, &shape);
    let mut ty = vec![];
    bytes(&mut ty, 1, &tensor);
    let mut vi = vec![];
    bytes(&mut vi, 1, name.as_bytes());
    bytes(&mut vi, 2, &ty);
    vi
}

/// A float32 initializer.
pub struct Init {
    pub name: &'static str,
    pub dims: &'static [u64],
    pub values: Vec<f32>,
}

/// rten wants a convolution's strides, pads and dilations spelt out.
pub const CONV_1X1: &[(&str, Attr)] = &[
    ("kernel_shape", Attr::Ints(&[1, 1])),
    ("strides", Attr::Ints(&[1, 1])),
    ("pads", Attr::Ints(&[0, 0, 0, 0])),
    ("dilations", Attr::Ints(&[1, 1])),
];

/// A 1×1 convolution whose weights swap R and B, NCHW, of input `1×3×h×w` (fixed sizes, or
/// `None` for dynamic ones).
pub fn swap_rb(size: Option<(u64, u64)>) -> Vec<u8> {
    let nchw = match size {
        Some((w, h)) => [Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(w)],
        None => [
            Dim::Fixed(1),
            Dim::Fixed(3),
            Dim::Named("h"),
            Dim::Named("w"),
        ],
    };
    conv_1x1(
        &[3, 3, 1, 1],
        vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0],
        &nchw,
        &nchw,
    )
}

/// One 1×1 convolution without bias from `x` (`input`) to `y` (`output`); `dims` of the
/// `weights` are out × in × 1 × 1.
pub fn conv_1x1(dims: &'static [u64], weights: Vec<f32>, input: &[Dim], output: &[Dim]) -> Vec<u8> {
    model(
        &[Node {
            op: "Conv",
            inputs: &["x", "w"],
            outputs: &["y"],
            attrs: CONV_1X1,
        }],
        &[Init {
            name: "w",
            dims,
            values: weights,
        }],
        ("x", input),
        ("y", output),
    )
}

/// A 1-channel mask of bright pixels, NCHW `1×3×h×w` → `1×1×h×w`:
/// `sigmoid(20 · (mean(R, G, B) − 0.6))`, so white is about 1 and a saturated or dark
/// colour about 0.
pub fn bright_mask(w: u64, h: u64) -> Vec<u8> {
    let nchw = [Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(w)];
    let mask = [Dim::Fixed(1), Dim::Fixed(1), Dim::Fixed(h), Dim::Fixed(w)];
    model(
        &[
            Node {
                op: "Conv",
                inputs: &["x", "w", "b"],
                outputs: &["z"],
                attrs: CONV_1X1,
            },
            Node {
                op: "Sigmoid",
                inputs: &["z"],
                outputs: &["y"],
                attrs: &[],
            },
        ],
        &[
            Init {
                name: "w",
                dims: &[1, 3, 1, 1],
                values: vec![20.0 / 3.0; 3],
            },
            Init {
                name: "b",
                dims: &[1],
                values: vec![-12.0],
            },
        ],
        ("x", &nchw),
        ("y", &mask),
    )
}

/// A model whose input has 4 channels (`1×4×8×8`): not an RGB image.
pub fn four_channels() -> Vec<u8> {
    let dims = [Dim::Fixed(1), Dim::Fixed(4), Dim::Fixed(8), Dim::Fixed(8)];
    model(
        &[Node {
            op: "Relu",
            inputs: &["x"],
            outputs: &["y"],
            attrs: &[],
        }],
        &[],
        ("x", &dims),
        ("y", &dims),
    )
}

/// A model with one operator no engine has (`FancyOp`), NCHW `1×3×4×4`.
pub fn unsupported_op() -> Vec<u8> {
    let nchw = [Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(4), Dim::Fixed(4)];
    model(
        &[Node {
            op: "FancyOp",
            inputs: &["x"],
            outputs: &["y"],
            attrs: &[],
        }],
        &[],
        ("x", &nchw),
        ("y", &nchw),
    )
}

/// A model of `nodes` from `input` to `output` (ONNX opset 13).
pub fn model(
    nodes: &[Node],
    inits: &[Init],
    input: (&str, &[Dim]),
    output: (&str, &[Dim]),
) -> Vec<u8> {
    let mut graph = vec![];
    for (i, n) in nodes.iter().enumerate() {
        let mut node = vec![];
        for inp in n.inputs {
            bytes(&mut node, 1, inp.as_bytes());
        }
        for out in n.outputs {
            bytes(&mut node, 2, out.as_bytes());
        }
        bytes(&mut node, 3, format!("node{i}").as_bytes());
        bytes(&mut node, 4, n.op.as_bytes());
        for (name, value) in n.attrs {
            let mut attr = vec![];
            bytes(&mut attr, 1, name.as_bytes());
            match value {
                Attr::Int(v) => {
                    int(&mut attr, 3, *v);
                    int(&mut attr, 20, 2); // INT
                }
                Attr::Float(v) => {
                    varint(&mut attr, (2 << 3) | 5); // field 2, fixed32
                    attr.extend_from_slice(&v.to_le_bytes());
                    int(&mut attr, 20, 1); // FLOAT
                }
                Attr::Ints(ints) => {
                    for &v in *ints {
                        int(&mut attr, 8, v);
                    }
                    int(&mut attr, 20, 7); // INTS
                }
                Attr::Str(text) => {
                    bytes(&mut attr, 4, text.as_bytes());
                    int(&mut attr, 20, 3); // STRING
                }
            }
            bytes(&mut node, 5, &attr);
        }
        bytes(&mut graph, 1, &node);
    }
    bytes(&mut graph, 2, b"test");
    for init in inits {
        let mut t = vec![];
        for &d in init.dims {
            int(&mut t, 1, d);
        }
        int(&mut t, 2, 1); // FLOAT
        bytes(&mut t, 8, init.name.as_bytes());
        let raw: Vec<u8> = init.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        bytes(&mut t, 9, &raw);
        bytes(&mut graph, 5, &t);
    }
    bytes(&mut graph, 11, &value_info(input.0, input.1));
    bytes(&mut graph, 12, &value_info(output.0, output.1));
    let mut opset = vec![];
    bytes(&mut opset, 1, b"");
    int(&mut opset, 2, 13);
    let mut m = vec![];
    int(&mut m, 1, 8);
    bytes(&mut m, 2, b"lenscast tests");
    bytes(&mut m, 7, &graph);
    bytes(&mut m, 8, &opset);
    m
}
