//! Reading an ONNX graph for the runner: where to cut it ([`plan`]: the nodes lenscast runs
//! itself, and the parts between them; each part becomes a model of its own in `part.rs`).

use std::collections::{HashMap, HashSet};

use rten::Model;
use rten_onnx::onnx::{self, GraphProto, NodeProto, TensorProto};

use super::ops::HostOp;
use super::part::{Cut, PartPlan, floats, ints};
use crate::depthwise::{Activation, Depthwise};
use crate::shape::fixed;

/// The graph's cuts and the parts between them, by value name.
pub(super) struct Plan<'a> {
    pub(super) input: &'a str,
    pub(super) output: &'a str,
    pub(super) parts: Vec<PartPlan<'a>>,
}

/// Where a node of the graph runs.
#[derive(Clone, Copy, PartialEq)]
enum Placement {
    /// In part `k` (counting from 0).
    Part(usize),
    /// It is cut `j` (counting from 1): after part `j − 1`, its result read from part `j`.
    Cut(usize),
    /// Fused into a cut.
    Absorbed,
}

/// What the graph around a node looks like to [`as_cut`].
struct Graph<'a> {
    nodes: &'a [NodeProto],
    constants: HashMap<&'a str, &'a TensorProto>,
    /// Value name → indices of the nodes that read it.
    readers: HashMap<&'a str, Vec<usize>>,
    outputs: HashSet<&'a str>,
    model: &'a Model,
}

impl Graph<'_> {
    /// The value's shape as rten inferred it, when every dimension is fixed.
    fn fixed_shape(&self, name: &str) -> Option<Vec<usize>> {
        let model = self.model;
        fixed(&model.node_info(model.find_node(name)?)?.shape()?)
    }

    fn readers(&self, name: &str) -> &[usize] {
        self.readers.get(name).map_or(&[], Vec::as_slice)
    }
}

fn attr<'n>(node: &'n NodeProto, name: &str) -> Option<&'n onnx::AttributeProto> {
    node.attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

fn is_op(node: &NodeProto, op: &str) -> bool {
    node.op_type.as_deref() == Some(op) && node.domain.as_deref().is_none_or(str::is_empty)
}

/// Node `index` as an op lenscast runs: a 2× upsampling or a depthwise convolution.
fn as_cut<'a>(index: usize, graph: &Graph<'a>) -> Option<Cut<'a>> {
    let node = &graph.nodes[index];
    if is_op(node, "Resize") {
        as_upsampling(node, graph)
    } else if is_op(node, "Conv") {
        as_depthwise(node, graph)
    } else {
        None
    }
}

/// `Resize` with linear mode, half-pixel coordinates, no other option, and a scale of 2
/// on H and W and 1 on N and C, given as constant `scales` or as constant `sizes` against
/// the source's shape as rten knows it.
fn as_upsampling<'a>(node: &'a NodeProto, graph: &Graph<'a>) -> Option<Cut<'a>> {
    let mut linear = false;
    for attr in &node.attribute {
        let ok = match attr.name.as_deref()? {
            "mode" => {
                linear = attr.s.as_deref() == Some("linear");
                linear
            }
            "coordinate_transformation_mode" => {
                matches!(attr.s.as_deref(), Some("half_pixel" | "pytorch_half_pixel"))
            }
            // Only for nearest and cubic modes.
            "nearest_mode" | "cubic_coeff_a" => true,
            "exclude_outside" | "antialias" => attr.i.unwrap_or(0) == 0,
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    // (The default mode is nearest.)
    let ([source, rest @ ..], [result], true) = (&node.input[..], &node.output[..], linear) else {
        return None;
    };
    let &[n, c, h, w] = &graph.fixed_shape(source)?[..] else {
        return None;
    };
    let constant = |i: usize| {
        rest.get(i)
            .filter(|name| !name.is_empty())
            .map(|name| graph.constants.get(name.as_str()).copied())
    };
    // roi (only for tf_crop_and_resize) is ignored; scales or sizes must be constant.
    let twice = match (constant(1), constant(2)) {
        (Some(Some(scales)), None) => floats(scales)? == [1.0, 1.0, 2.0, 2.0],
        (None, Some(Some(sizes))) => {
            ints(sizes)? == [n as i64, c as i64, 2 * h as i64, 2 * w as i64]
        }
        _ => false,
    };
    twice.then_some(Cut {
        source,
        result,
        op: HostOp::Upsample2x,
        absorbed: Vec::new(),
    })
}

/// `Conv` with one constant filter per channel (`group` = channels), explicit or no
/// padding, of a map of fixed shape; with the activation that alone reads its output fused
/// in (see [`fused_activation`]).
fn as_depthwise<'a>(node: &'a NodeProto, graph: &Graph<'a>) -> Option<Cut<'a>> {
    let ([source, weights, rest @ ..], [output]) = (&node.input[..], &node.output[..]) else {
        return None;
    };
    let bias = match rest {
        [] => None,
        [b] if b.is_empty() => None,
        [b] => Some(*graph.constants.get(b.as_str())?),
        _ => return None,
    };
    let filter = graph.constants.get(weights.as_str())?;
    let dims: Vec<usize> = filter
        .dims
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<_>>()?;
    let &[channels, 1, kh, kw] = &dims[..] else {
        return None;
    };
    let &[_, c, h, w] = &graph.fixed_shape(source)?[..] else {
        return None;
    };
    let pair = |name: &str, default: [usize; 2]| -> Option<[usize; 2]> {
        match attr(node, name) {
            None => Some(default),
            Some(a) => match a.ints[..] {
                [y, x] => Some([usize::try_from(y).ok()?, usize::try_from(x).ok()?]),
                _ => None,
            },
        }
    };
    for a in &node.attribute {
        let known = match a.name.as_deref()? {
            "group" => a.i == i64::try_from(channels).ok(),
            "auto_pad" => a.s.as_deref() == Some("NOTSET"),
            "kernel_shape" => pair("kernel_shape", [0, 0]) == Some([kh, kw]),
            "pads" | "strides" | "dilations" => true,
            _ => false,
        };
        if !known {
            return None;
        }
    }
    let pads = match attr(node, "pads") {
        None => [0; 4],
        Some(a) => match a.ints[..] {
            [t, l, b, r] => [t, l, b, r].map(|v| usize::try_from(v).ok()),
            _ => return None,
        }
        .into_iter()
        .collect::<Option<Vec<_>>>()?
        .try_into()
        .ok()?,
    };
    if c != channels || attr(node, "group").is_none() {
        return None;
    }
    let (activation, result, absorbed) = fused_activation(output, graph);
    let conv = Depthwise {
        channels,
        kernel: [kh, kw],
        strides: pair("strides", [1, 1])?,
        dilations: pair("dilations", [1, 1])?,
        pads,
        weights: floats(filter)?,
        bias: match bias {
            Some(b) => floats(b)?,
            None => vec![0.0; channels],
        },
        activation,
    };
    (conv.is_consistent() && conv.output_size(h, w).is_some()).then(|| Cut {
        source,
        result,
        op: HostOp::Depthwise(Box::new(conv)),
        absorbed,
    })
}

/// The activation that is the only reader of `value`, as `(activation, its output, its
/// nodes)`: `Relu`, `LeakyRelu` with `alpha = 0`, `HardSwish`, or `HardSigmoid` and the
/// `Mul` of `value` by it. Otherwise none, and `value` itself.
fn fused_activation<'a>(value: &'a str, graph: &Graph<'a>) -> (Activation, &'a str, Vec<usize>) {
    let none = (Activation::None, value, Vec::new());
    let single_output = |i: usize| match &graph.nodes[i].output[..] {
        [out] if !graph.outputs.contains(value) => Some(out.as_str()),
        _ => None,
    };
    match *graph.readers(value) {
        [i] => {
            let node = &graph.nodes[i];
            let leaky_zero = attr(node, "alpha").and_then(|a| a.f) == Some(0.0);
            let activation = if is_op(node, "Relu") || is_op(node, "LeakyRelu") && leaky_zero {
                Activation::Relu
            } else if is_op(node, "HardSwish") {
                Activation::HardSwish {
                    alpha: 1.0 / 6.0,
                    beta: 0.5,
                }
            } else {
                return none;
            };
            match single_output(i) {
                Some(out) if node.input.len() == 1 => (activation, out, vec![i]),
                _ => none,
            }
        }
        [a, b] => {
            let (gate, mul) = if is_op(&graph.nodes[a], "HardSigmoid") {
                (a, b)
            } else {
                (b, a)
            };
            let (g, m) = (&graph.nodes[gate], &graph.nodes[mul]);
            let (Some(gated), Some(out)) = (single_output(gate), single_output(mul)) else {
                return none;
            };
            let product = [value, gated];
            let is_product = m.input.len() == 2
                && (m.input[0] == product[0] && m.input[1] == product[1]
                    || m.input[0] == product[1] && m.input[1] == product[0]);
            if !(is_op(g, "HardSigmoid") && g.input.len() == 1 && is_op(m, "Mul") && is_product)
                || graph.readers(gated) != [mul]
                || graph.outputs.contains(gated)
            {
                return none;
            }
            let float = |name, default| attr(g, name).map_or(Some(default), |a| a.f);
            match (float("alpha", 0.2), float("beta", 0.5)) {
                (Some(alpha), Some(beta)) => {
                    (Activation::HardSwish { alpha, beta }, out, vec![gate, mul])
                }
                _ => none,
            }
        }
        _ => none,
    }
}

/// Cuts `graph` at the nodes lenscast runs ([`as_cut`]); `None` where there are none or
/// the graph cannot be followed.
pub(super) fn plan<'a>(graph: &'a GraphProto, model: &'a Model) -> Option<Plan<'a>> {
    let constants: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .filter_map(|t| Some((t.name.as_deref()?, t)))
        .collect();
    let input = graph.input.iter().find_map(|i| {
        let name = i.name.as_deref()?;
        (!constants.contains_key(name)).then_some(name)
    })?;
    let output = graph.output.first()?.name.as_deref()?;
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, node) in graph.node.iter().enumerate() {
        for v in &node.input {
            readers.entry(v.as_str()).or_default().push(i);
        }
    }
    let view = Graph {
        nodes: &graph.node,
        constants,
        readers,
        outputs: graph
            .output
            .iter()
            .filter_map(|o| o.name.as_deref())
            .collect(),
        model,
    };
    let constants = &view.constants;
    // `level[v]`: how many cuts value `v` comes after (the highest cut it depends on).
    // ONNX lists nodes in topological order, so one pass settles it.
    let mut level: HashMap<&str, usize> = HashMap::from([(input, 0)]);
    let mut cuts: Vec<Cut> = Vec::new();
    let mut placement = vec![Placement::Absorbed; graph.node.len()];
    for (i, node) in graph.node.iter().enumerate() {
        if cuts.iter().any(|c| c.absorbed.contains(&i)) {
            continue;
        }
        let known = |v: &String| {
            v.is_empty() || level.contains_key(v.as_str()) || constants.contains_key(v.as_str())
        };
        // A subgraph may read outer values no input names: such graphs run whole.
        if !node.input.iter().all(known) || node.attribute.iter().any(|a| a.g.is_some()) {
            return None;
        }
        if let Some(cut) = as_cut(i, &view) {
            level.insert(cut.result, cuts.len() + 1);
            cuts.push(cut);
            placement[i] = Placement::Cut(cuts.len());
            continue;
        }
        let at = node
            .input
            .iter()
            .filter_map(|v| level.get(v.as_str()))
            .max()
            .copied()
            .unwrap_or(0);
        for out in &node.output {
            level.insert(out, at);
        }
        placement[i] = Placement::Part(at);
    }
    if cuts.is_empty() || level.get(output) != Some(&cuts.len()) {
        return None; // nothing to cut, or the output does not wait for the last cut
    }
    let passed_in: HashSet<&str> = std::iter::once(input)
        .chain(cuts.iter().map(|c| c.result))
        .collect();
    let mut parts: Vec<PartPlan> = (0..=cuts.len())
        .map(|k| PartPlan {
            nodes: graph
                .node
                .iter()
                .zip(&placement)
                .filter(|&(_, &at)| at == Placement::Part(k))
                .map(|(node, _)| node)
                .collect(),
            reads: Vec::new(),
            makes: Vec::new(),
            then: cuts.get(k).cloned(),
        })
        .collect();
    // Who reads what, and when: a part reads its nodes' inputs; cut `j` reads its source
    // once part `j − 1` is done.
    let uses = graph.node.iter().zip(&placement).flat_map(|(node, &at)| {
        let inputs: Vec<(&str, usize, bool)> = match at {
            Placement::Part(k) => node.input.iter().map(|v| (v.as_str(), k, true)).collect(),
            Placement::Cut(j) => vec![(cuts[j - 1].source, j, false)],
            Placement::Absorbed => Vec::new(),
        };
        inputs
    });
    for (v, read_at, by_rten) in uses {
        if v.is_empty() || constants.contains_key(v) {
            continue;
        }
        let made_at = level[v];
        if by_rten && (made_at < read_at || passed_in.contains(v)) {
            parts[read_at].reads.push(v);
        }
        if read_at > made_at && !passed_in.contains(v) {
            parts[made_at].makes.push(v);
        }
    }
    parts[cuts.len()].makes.push(output);
    for part in &mut parts {
        for list in [&mut part.reads, &mut part.makes] {
            list.sort_unstable();
            list.dedup();
        }
    }
    Some(Plan {
        input,
        output,
        parts,
    })
}
