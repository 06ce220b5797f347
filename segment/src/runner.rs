//! [`Runner`]: a loaded model, one image in and one tensor out, run with its bilinear 2×
//! upsamplings done by [`crate::upsample`] instead of by rten.
//!
//! rten 0.27's `Resize` computes every output value on its own, coordinates and all, about
//! 16 ns a value natively: a quarter of the selfie model's time (2.1 of 7.7 ms on one core)
//! for its decoder's three 2× upsamplings, which are 3 % of its arithmetic. rten has no way
//! to swap one operator's kernel, so the graph is cut instead. At load the ONNX graph is
//! read ([`plan`]) and cut at each `Resize` that is a plain 2× half-pixel bilinear
//! upsampling of a map of known shape. Part 1 is the graph from the input up to the first
//! such `Resize`'s source; the upsampling is done here; part 2 runs from its result, and so
//! on to the model's output. Each part is a small ONNX model of its own nodes and weights
//! (written with rten's own ONNX writer and loaded by rten), whose inputs are what it reads
//! from earlier parts (the decoder's skip connections among them) and whose outputs are
//! what later parts read, so nothing runs twice and every weight is held once.
//!
//! A cut plan is kept only if it gives rten's own output on a test input. A graph without
//! such a `Resize`, or one this cannot follow (a subgraph, nodes out of order), runs whole.

use std::collections::{HashMap, HashSet};

use rten::{DataType, Dimension, Model, ModelOptions, NodeId, RunError, RunOptions, Value};
use rten::{ValueOrView, ValueType, ValueView};
use rten_onnx::onnx::{self, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};
use rten_tensor::{Layout as _, NdTensor, NdTensorView, TensorView};

use crate::depthwise::{Activation, Depthwise};
use crate::model::{MAX_INPUT_SIDE, MAX_MODEL_BYTES, ModelError, fixed};
use crate::upsample::upsample_2x;

/// A loaded model with exactly one input and one output.
pub(crate) struct Runner {
    how: How,
    input_shape: Option<Vec<Dimension>>,
    output_shape: Option<Vec<Dimension>>,
    options: RunOptions,
}

enum How {
    /// rten runs the whole graph.
    Whole {
        model: Box<Model>,
        input: NodeId,
        output: NodeId,
    },
    /// The parts in order. Values pass between them in numbered slots: slot 0 is the
    /// model's input, `output` the model's output.
    Cut {
        parts: Vec<Part>,
        slots: usize,
        output: usize,
    },
}

/// One run between two cuts, then the upsampling that ends it.
struct Part {
    /// `None` when the part has no nodes (two upsamplings in a row).
    model: Option<Model>,
    /// The part's inputs: its node ids and the slots they are read from.
    reads: Vec<(NodeId, usize)>,
    /// Its outputs (the values later parts read, or the model's output) and their slots.
    makes: Vec<NodeId>,
    make_slots: Vec<usize>,
    /// The op lenscast does after this part: `(source slot, result slot, op)`.
    then: Option<(usize, usize, HostOp)>,
}

/// An op taken out of rten's hands.
#[derive(Clone, Debug)]
enum HostOp {
    /// [`upsample_2x`]
    Upsample2x,
    /// [`Depthwise::run`], the activation after it fused in.
    Depthwise(Box<Depthwise>),
}

impl HostOp {
    /// `value` (an `N×C×H×W` float map: its shape is fixed and was checked at load, and
    /// the graph ran as cut there) through the op.
    fn apply(&self, value: ValueView<'_>) -> Value {
        let view: TensorView<f32> = value
            .try_into()
            .expect("a host op's source is a float tensor (checked at load)");
        let view: NdTensorView<f32, 4> = view.nd_view::<4>();
        let [n, c, h, w] = view.shape();
        let src = view.to_contiguous();
        let (out_h, out_w) = match self {
            Self::Upsample2x => (2 * h, 2 * w),
            Self::Depthwise(conv) => conv
                .output_size(h, w)
                .expect("the filter fits the source (checked at load)"),
        };
        let mut out = vec![0.0; n * c * out_h * out_w];
        match self {
            Self::Upsample2x => upsample_2x(src.data(), n * c, h, w, &mut out),
            Self::Depthwise(conv) => conv.run(src.data(), n * c, h, w, &mut out),
        }
        NdTensor::from_data([n, c, out_h, out_w], out).into()
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("parts", &self.parts())
            .finish_non_exhaustive()
    }
}

fn load_model(bytes: Vec<u8>) -> Result<Model, ModelError> {
    let mut options = ModelOptions::with_all_ops();
    // Repacks the weights once at load, so no inference does it.
    options.prepack_weights(true);
    Ok(options.load(bytes)?)
}

impl Runner {
    /// Loads model bytes after the checks every model gets (size, protobuf framing), and
    /// requires exactly one input and one output.
    pub(crate) fn load(bytes: Vec<u8>) -> Result<Self, ModelError> {
        Self::load_as(bytes, true)
    }

    fn load_as(bytes: Vec<u8>, may_cut: bool) -> Result<Self, ModelError> {
        if bytes.len() > MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge { bytes: bytes.len() });
        }
        crate::framing::check(&bytes).map_err(ModelError::Malformed)?;
        // Only a graph that names an op cut here is parsed here as well as by rten.
        let proto = (may_cut && (contains(&bytes, b"Resize") || contains(&bytes, b"Conv")))
            .then(|| ModelProto::parse_buf(&bytes).ok())
            .flatten();
        let model = load_model(bytes)?;
        let (inputs, outputs) = (model.input_ids(), model.output_ids());
        if inputs.len() != 1 || outputs.len() != 1 {
            return Err(ModelError::Arity {
                inputs: inputs.len(),
                outputs: outputs.len(),
            });
        }
        let (input, output) = (inputs[0], outputs[0]);
        let shape = |id| model.node_info(id).and_then(|info| info.shape());
        let mut runner = Self {
            input_shape: shape(input),
            output_shape: shape(output),
            how: How::Whole {
                model: Box::new(model),
                input,
                output,
            },
            options: RunOptions::default(),
        };
        if let Some(cut) = proto.and_then(|proto| runner.cut(&proto)) {
            let whole = std::mem::replace(&mut runner.how, cut);
            // The parts are kept only if they give what rten gives on one test input.
            if !runner.matches(&whole) {
                runner.how = whole;
            }
        }
        Ok(runner)
    }

    /// The parts of `proto`'s graph, loaded; `None` where the graph has no cut or cannot be
    /// followed.
    fn cut(&self, proto: &ModelProto) -> Option<How> {
        let How::Whole { model, .. } = &self.how else {
            return None;
        };
        let graph = proto.graph.as_ref()?;
        let plan = plan(graph, model)?;
        let mut slots: HashMap<&str, usize> = HashMap::from([(plan.input, 0)]);
        let mut slot = |name| {
            let next = slots.len();
            *slots.entry(name).or_insert(next)
        };
        let mut parts = Vec::with_capacity(plan.parts.len());
        for part in &plan.parts {
            let loaded = if part.nodes.is_empty() {
                None
            } else {
                let bytes = part_model(proto, graph, part, model).write_buf().ok()?;
                Some(load_model(bytes).ok()?)
            };
            let id = |name: &str| loaded.as_ref()?.find_node(name);
            let reads = part
                .reads
                .iter()
                .map(|&name| Some((id(name)?, slot(name))))
                .collect::<Option<_>>()?;
            let makes = part
                .makes
                .iter()
                .map(|&name| id(name))
                .collect::<Option<_>>()?;
            let make_slots = part.makes.iter().map(|&name| slot(name)).collect();
            let then = part
                .then
                .as_ref()
                .map(|cut| (slot(cut.source), slot(cut.result), cut.op.clone()));
            parts.push(Part {
                model: loaded,
                reads,
                makes,
                make_slots,
                then,
            });
        }
        let output = slot(plan.output);
        Some(How::Cut {
            parts,
            slots: slots.len(),
            output,
        })
    }

    /// Whether this runner, on a fixed pseudo-random input, gives `whole`'s output (within
    /// float rounding: the upsampling sums in another order).
    fn matches(&self, whole: &How) -> bool {
        // A test input no larger than the largest image a model may take.
        let Some((shape, len)) = self
            .input_shape
            .as_deref()
            .and_then(fixed)
            .and_then(|shape| {
                let len = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?;
                (len <= 3 * MAX_INPUT_SIDE * MAX_INPUT_SIDE).then_some((shape, len))
            })
        else {
            return false;
        };
        let data: Vec<f32> = (0..len)
            .map(|i| ((i * 7919) % 1009) as f32 / 1009.0)
            .collect();
        let input = || TensorView::from_data(&shape, &data[..]).into();
        let ours = self.run(input());
        let theirs = self.run_how(whole, input());
        let (Ok(a), Ok(b)) = (ours, theirs) else {
            return false;
        };
        match (a.as_tensor_view::<f32>(), b.as_tensor_view::<f32>()) {
            (Some(a), Some(b)) => {
                a.shape() == b.shape()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| (x - y).abs() <= 1e-4 * y.abs().max(1.0))
            }
            _ => false,
        }
    }

    /// The input's shape as the model declares it.
    pub(crate) fn input_shape(&self) -> Option<Vec<Dimension>> {
        self.input_shape.clone()
    }

    /// The output's shape as the model declares it (or rten infers it).
    pub(crate) fn output_shape(&self) -> Option<Vec<Dimension>> {
        self.output_shape.clone()
    }

    /// How many runs make one inference (1: rten runs the whole graph).
    pub(crate) fn parts(&self) -> usize {
        match &self.how {
            How::Whole { .. } => 1,
            How::Cut { parts, .. } => parts.len(),
        }
    }

    pub(crate) fn set_options(&mut self, options: RunOptions) {
        self.options = options;
    }

    /// Runs the model on `input`, giving its output.
    pub(crate) fn run(&self, input: ValueOrView<'_>) -> Result<Value, RunError> {
        self.run_how(&self.how, input)
    }

    fn run_how(&self, how: &How, input: ValueOrView<'_>) -> Result<Value, RunError> {
        let options = || Some(self.options.clone());
        let (parts, slots, output) = match how {
            How::Whole {
                model,
                input: id,
                output,
            } => {
                let [out] = model.run_n(vec![(*id, input)], [*output], options())?;
                return Ok(out);
            }
            How::Cut {
                parts,
                slots,
                output,
            } => (parts, *slots, *output),
        };
        let mut held: Vec<Option<Value>> = (0..slots).map(|_| None).collect();
        for part in parts {
            if let Some(model) = &part.model {
                let inputs = part
                    .reads
                    .iter()
                    .map(|&(id, slot)| {
                        let value = if slot == 0 {
                            input.as_view().into()
                        } else {
                            held[slot]
                                .as_ref()
                                .expect("a part reads only values earlier parts made")
                                .into()
                        };
                        (id, value)
                    })
                    .collect();
                let made = model.run(inputs, &part.makes, options())?;
                for (&slot, value) in part.make_slots.iter().zip(made) {
                    held[slot] = Some(value);
                }
            }
            if let Some((source, result, op)) = &part.then {
                let source = if *source == 0 {
                    input.as_view()
                } else {
                    held[*source]
                        .as_ref()
                        .expect("a host op's source is made before it")
                        .as_view()
                };
                held[*result] = Some(op.apply(source));
            }
        }
        Ok(held[output].take().expect("the last part makes the output"))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The graph's cuts and the parts between them, by value name.
struct Plan<'a> {
    input: &'a str,
    output: &'a str,
    parts: Vec<PartPlan<'a>>,
}

struct PartPlan<'a> {
    nodes: Vec<&'a NodeProto>,
    reads: Vec<&'a str>,
    makes: Vec<&'a str>,
    /// The op lenscast does after it.
    then: Option<Cut<'a>>,
}

/// A node (with the activation nodes it absorbs) that lenscast runs instead of rten.
#[derive(Clone)]
struct Cut<'a> {
    source: &'a str,
    result: &'a str,
    op: HostOp,
    /// Indices of the nodes fused into it after the first.
    absorbed: Vec<usize>,
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

fn floats(t: &TensorProto) -> Option<Vec<f32>> {
    if !t.float_data.is_empty() {
        return Some(t.float_data.clone());
    }
    let raw = t.raw_data.as_ref()?.borrow();
    (raw.len() % 4 == 0).then(|| {
        raw.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    })
}

fn ints(t: &TensorProto) -> Option<Vec<i64>> {
    if !t.int64_data.is_empty() {
        return Some(t.int64_data.clone());
    }
    let raw = t.raw_data.as_ref()?.borrow();
    (raw.len() % 8 == 0).then(|| {
        raw.chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect()
    })
}

/// Cuts `graph` at the nodes lenscast runs ([`as_cut`]); `None` where there are none or
/// the graph cannot be followed.
fn plan<'a>(graph: &'a GraphProto, model: &'a Model) -> Option<Plan<'a>> {
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

/// The ONNX model of one part: its nodes, the initializers they read, and its reads and
/// makes as the graph's inputs and outputs (typed and shaped as rten knows them, so its
/// shape inference and fusions work as on the whole graph).
fn part_model(
    proto: &ModelProto,
    graph: &GraphProto,
    part: &PartPlan,
    model: &Model,
) -> ModelProto {
    let used: HashSet<&str> = part
        .nodes
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .collect();
    let info = |name: &str| {
        let known = graph
            .input
            .iter()
            .chain(&graph.value_info)
            .chain(&graph.output)
            .find(|v| v.name.as_deref() == Some(name));
        known.cloned().unwrap_or_else(|| inferred_info(name, model))
    };
    ModelProto {
        ir_version: proto.ir_version,
        opset_import: proto.opset_import.clone(),
        graph: Some(GraphProto {
            node: part.nodes.iter().map(|&n| n.clone()).collect(),
            initializer: graph
                .initializer
                .iter()
                .filter(|t| t.name.as_deref().is_some_and(|n| used.contains(n)))
                .cloned()
                .collect(),
            input: part.reads.iter().map(|name| info(name)).collect(),
            output: part.makes.iter().map(|name| info(name)).collect(),
            value_info: Vec::new(),
        }),
        ..ModelProto::default()
    }
}

/// A value's name, with its type and shape where rten inferred them for the whole graph
/// and the type is float (rten checks the inputs it is given against these).
fn inferred_info(name: &str, model: &Model) -> ValueInfoProto {
    let node = model.find_node(name).and_then(|id| model.node_info(id));
    let r#type = node
        .filter(|n| matches!(n.dtype(), Some(ValueType::Tensor(DataType::Float))))
        .and_then(|n| n.shape())
        .map(|shape| onnx::TypeProto {
            tensor_type: Some(onnx::TypeProtoTensor {
                elem_type: Some(onnx::DataType::FLOAT),
                shape: Some(onnx::TensorShapeProto {
                    dim: shape
                        .into_iter()
                        .map(|d| match d {
                            Dimension::Fixed(n) => onnx::Dimension {
                                dim_value: i64::try_from(n).ok(),
                                dim_param: None,
                            },
                            Dimension::Symbolic(s) => onnx::Dimension {
                                dim_value: None,
                                dim_param: Some(s),
                            },
                        })
                        .collect(),
                }),
            }),
            sequence: None,
        });
    ValueInfoProto {
        name: Some(name.to_owned()),
        r#type,
    }
}

#[cfg(test)]
mod tests {
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

    fn assert_close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 1e-5, "max difference {worst}");
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
        let bytes = include_bytes!("../../static/models/selfie_segmentation_landscape.onnx");
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
}
