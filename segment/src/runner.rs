//! [`Runner`]: a loaded model, one image in and one tensor out, run with its bilinear 2×
//! upsamplings done by [`crate::upsample`] instead of by rten.
//!
//! rten 0.27's `Resize` computes every output value on its own, coordinates and all, about
//! 16 ns a value natively: a quarter of the selfie model's time (2.1 of 7.7 ms on one core)
//! for its decoder's three 2× upsamplings, which are 3 % of its arithmetic. rten has no way
//! to swap one operator's kernel, but it runs a graph from any values to any values. So at
//! load the ONNX graph is read ([`plan`]) and cut at each `Resize` that is a plain 2×
//! half-pixel bilinear upsampling of a map of known shape: part 1 runs from the input up to
//! the first such `Resize`'s source, the upsampling is done here and given as that
//! `Resize`'s output, part 2 runs from there, and so on to the model's output. Each part
//! also hands on the values later parts read (the decoder's skip connections), so nothing
//! runs twice. A graph with no such `Resize`, or one this cannot follow (a name rten's
//! optimiser fused away, say), runs in one piece as before.
//!
//! Each part is its own [`Model`] (the file loaded once per part), because rten keeps one
//! execution plan per model and would otherwise plan the graph anew for every part of every
//! frame.

use std::collections::{HashMap, HashSet};

use rten::{Model, ModelOptions, NodeId, RunError, RunOptions, Value, ValueOrView};
use rten_onnx::onnx::{GraphProto, ModelProto, TensorProto};
use rten_tensor::{Layout as _, NdTensor, NdTensorView};

use crate::model::{MAX_MODEL_BYTES, ModelError, fixed};
use crate::upsample::upsample_2x;

/// A loaded model with exactly one input and one output.
pub(crate) struct Runner {
    /// The first part (the whole model when it is not cut); its node ids name the graph's
    /// values in every part, since each part is the same file loaded again.
    model: Model,
    input: NodeId,
    output: NodeId,
    /// Empty: one plain run. Otherwise the parts in order, the first run by `model`.
    parts: Vec<Part>,
    options: RunOptions,
}

/// One run between two cuts.
struct Part {
    /// `None` for the first part (run by [`Runner::model`]).
    model: Option<Model>,
    /// Values this part reads: the model's input, values earlier parts made, upsamplings.
    reads: Vec<NodeId>,
    /// Values it makes: those later parts read and, but for the last part, the next
    /// upsampling's source (the last part makes the model's output).
    makes: Vec<NodeId>,
    /// The upsampling after this part: `(source, result)`.
    then: Option<(NodeId, NodeId)>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("parts", &self.parts.len().max(1))
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
        if bytes.len() > MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge { bytes: bytes.len() });
        }
        crate::framing::check(&bytes).map_err(ModelError::Malformed)?;
        // Only a graph that names the op is read twice (once here, once by rten).
        let graph = contains(&bytes, b"Resize")
            .then(|| ModelProto::parse_buf(&bytes).ok()?.graph)
            .flatten();
        let copy = graph.is_some().then(|| bytes.clone());
        let model = load_model(bytes)?;
        let (inputs, outputs) = (model.input_ids(), model.output_ids());
        if inputs.len() != 1 || outputs.len() != 1 {
            return Err(ModelError::Arity {
                inputs: inputs.len(),
                outputs: outputs.len(),
            });
        }
        let (input, output) = (inputs[0], outputs[0]);
        let mut runner = Self {
            model,
            input,
            output,
            parts: Vec::new(),
            options: RunOptions::default(),
        };
        if let (Some(graph), Some(bytes)) = (graph, copy)
            && let Some(cuts) = plan(&graph, &runner.model)
        {
            let parts = cuts
                .into_iter()
                .enumerate()
                .map(|(i, cut)| {
                    let model = if i == 0 {
                        None
                    } else {
                        Some(load_model(bytes.clone())?)
                    };
                    Ok(Part { model, ..cut })
                })
                .collect::<Result<_, ModelError>>()?;
            runner.parts = parts;
            // The cut runs are kept only if they give what rten gives on one test input.
            if !runner.cut_matches_whole() {
                runner.parts.clear();
            }
        }
        Ok(runner)
    }

    /// Whether the parts, run on a fixed pseudo-random input, give the whole graph's output
    /// (within float rounding: the upsampling sums in another order).
    fn cut_matches_whole(&self) -> bool {
        let Some(shape) = self
            .model
            .node_info(self.input)
            .and_then(|info| info.shape())
            .and_then(|dims| fixed(&dims))
        else {
            return false;
        };
        let len = shape.iter().product();
        let data: Vec<f32> = (0..len)
            .map(|i| ((i * 7919) % 1009) as f32 / 1009.0)
            .collect();
        let input = || rten_tensor::TensorView::from_data(&shape, &data[..]);
        let whole = self.model.run_n(
            vec![(self.input, input().into())],
            [self.output],
            Some(self.options.clone()),
        );
        let cut = self.run(input().into());
        let (Ok([whole]), Ok(cut)) = (whole, cut) else {
            return false;
        };
        match (whole.as_tensor_view::<f32>(), cut.as_tensor_view::<f32>()) {
            (Some(a), Some(b)) => {
                a.shape() == b.shape()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| (x - y).abs() <= 1e-4 * x.abs().max(1.0))
            }
            _ => false,
        }
    }

    pub(crate) fn model(&self) -> &Model {
        &self.model
    }

    pub(crate) fn input_id(&self) -> NodeId {
        self.input
    }

    pub(crate) fn output_id(&self) -> NodeId {
        self.output
    }

    /// How many runs make one inference (1: rten runs the whole graph).
    #[cfg(test)]
    pub(crate) fn parts(&self) -> usize {
        self.parts.len().max(1)
    }

    pub(crate) fn set_options(&mut self, options: RunOptions) {
        self.options = options;
    }

    /// Runs the model on `input`, giving its output.
    pub(crate) fn run(&self, input: ValueOrView<'_>) -> Result<Value, RunError> {
        if self.parts.is_empty() {
            let [out] = self.model.run_n(
                vec![(self.input, input)],
                [self.output],
                Some(self.options.clone()),
            )?;
            return Ok(out);
        }
        let mut held: HashMap<NodeId, Value> = HashMap::new();
        for part in &self.parts {
            let inputs = part
                .reads
                .iter()
                .map(|&id| {
                    let value = if id == self.input {
                        input.as_view().into()
                    } else {
                        held.get(&id)
                            .expect("a part reads only values earlier parts made")
                            .into()
                    };
                    (id, value)
                })
                .collect();
            let model = part.model.as_ref().unwrap_or(&self.model);
            let made = model.run(inputs, &part.makes, Some(self.options.clone()))?;
            held.extend(part.makes.iter().copied().zip(made));
            if let Some((source, result)) = part.then {
                let up = upsampled(&held[&source]);
                held.insert(result, up);
            }
        }
        Ok(held
            .remove(&self.output)
            .expect("the last part makes the output"))
    }
}

/// `value` (an `N×C×H×W` float map, checked at load) upsampled 2× by [`upsample_2x`].
fn upsampled(value: &Value) -> Value {
    let view = value
        .as_tensor_view::<f32>()
        .expect("an upsampling's source is a float tensor (checked at load)");
    // 4-d: the source's shape is fixed and checked at load, and the graph ran as cut there.
    let view: NdTensorView<f32, 4> = view.nd_view::<4>();
    let [n, c, h, w] = view.shape();
    let src = view.to_contiguous();
    let mut out = vec![0.0; n * c * 4 * h * w];
    upsample_2x(src.data(), n * c, h, w, &mut out);
    NdTensor::from_data([n, c, 2 * h, 2 * w], out).into()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A `Resize` this module does: its source and result value names.
struct Cut<'a> {
    source: &'a str,
    result: &'a str,
}

/// Whether `node` is `Resize` with linear mode, half-pixel coordinates, no other option,
/// and a scale of 2 on H and W and 1 on N and C, given as constant `scales` or as constant
/// `sizes` against the source's shape as rten knows it.
fn as_cut<'a>(
    node: &'a rten_onnx::onnx::NodeProto,
    constants: &HashMap<&str, &TensorProto>,
    model: &Model,
) -> Option<Cut<'a>> {
    if node.op_type.as_deref() != Some("Resize")
        || node.domain.as_deref().is_some_and(|d| !d.is_empty())
    {
        return None;
    }
    for attr in &node.attribute {
        let ok = match attr.name.as_deref()? {
            "mode" => attr.s.as_deref() == Some("linear"),
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
    if !node
        .attribute
        .iter()
        .any(|a| a.name.as_deref() == Some("mode"))
    {
        return None; // the default mode is nearest
    }
    let [source, rest @ ..] = &node.input[..] else {
        return None;
    };
    let [result] = &node.output[..] else {
        return None;
    };
    let shape = fixed(&model.node_info(model.find_node(source)?)?.shape()?)?;
    let &[n, c, h, w] = &shape[..] else {
        return None;
    };
    let constant = |i: usize| {
        rest.get(i)
            .filter(|name| !name.is_empty())
            .map(|name| constants.get(name.as_str()).copied())
    };
    // roi (only for tf_crop_and_resize) is ignored; scales or sizes must be constant.
    let twice = match (constant(1), constant(2)) {
        (Some(Some(scales)), None) => floats(scales)? == [1.0, 1.0, 2.0, 2.0],
        (None | Some(None), Some(Some(sizes))) if constant(1).is_none() => {
            ints(sizes)? == [n as i64, c as i64, 2 * h as i64, 2 * w as i64]
        }
        _ => false,
    };
    twice.then_some(Cut { source, result })
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

/// The parts of `graph` between the `Resize` nodes this module does, with rten's ids for
/// every value they pass on; `None` where there are none or the graph cannot be followed.
fn plan(graph: &GraphProto, model: &Model) -> Option<Vec<Part>> {
    let constants: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .filter_map(|t| Some((t.name.as_deref()?, t)))
        .collect();
    // `level[v]`: how many cuts value `v` comes after (the highest cut it depends on).
    // ONNX lists nodes in topological order, so one pass settles it.
    let mut level: HashMap<&str, usize> = HashMap::new();
    let mut cuts: Vec<Cut> = Vec::new();
    // Per node: its level, the values it reads, and whether it is a cut (done here, so its
    // source is handed on but never given to rten).
    let mut readers: Vec<(usize, &[String], bool)> = Vec::new();
    for node in &graph.node {
        let known = |v: &String| {
            v.is_empty() || level.contains_key(v.as_str()) || constants.contains_key(v.as_str())
        };
        let is_input = |v: &String| graph.input.iter().any(|i| i.name.as_ref() == Some(v));
        if !node.input.iter().all(|v| known(v) || is_input(v)) {
            return None; // not topologically sorted, or reads a subgraph's capture
        }
        let at = node
            .input
            .iter()
            .filter_map(|v| level.get(v.as_str()))
            .max()
            .copied()
            .unwrap_or(0);
        if let Some(cut) = as_cut(node, &constants, model) {
            level.insert(cut.result, cuts.len() + 1);
            readers.push((cuts.len() + 1, std::slice::from_ref(&node.input[0]), true));
            cuts.push(cut);
            continue;
        }
        for out in &node.output {
            level.insert(out, at);
        }
        readers.push((at, &node.input, false));
    }
    if cuts.is_empty() {
        return None;
    }
    let output_name = graph.output.first()?.name.as_deref()?;
    if level.get(output_name) != Some(&cuts.len()) {
        return None; // the output does not wait for the last cut: nothing to gain
    }
    let input_names: HashSet<&str> = graph
        .input
        .iter()
        .filter_map(|i| i.name.as_deref())
        .collect();
    let id = |name: &str| model.find_node(name);
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    for k in 0..=cuts.len() {
        // Read by part k: values from earlier parts (or the input, or cut k's result) that
        // part k's nodes read. Made by part k: its values that later parts read.
        let mut reads: Vec<&str> = Vec::new();
        let mut makes: Vec<&str> = Vec::new();
        for &(at, inputs, is_cut) in &readers {
            for v in inputs.iter().map(String::as_str) {
                if v.is_empty() || constants.contains_key(v) {
                    continue;
                }
                let made_at = if input_names.contains(v) { 0 } else { level[v] };
                let from_input_or_cut =
                    input_names.contains(v) || cuts.iter().any(|c| c.result == v);
                if !is_cut && at == k && (made_at < k || (made_at == k && from_input_or_cut)) {
                    reads.push(v);
                }
                if made_at == k && at > k && !from_input_or_cut {
                    makes.push(v);
                }
            }
        }
        if k == cuts.len() {
            makes.push(output_name);
        }
        for list in [&mut reads, &mut makes] {
            list.sort_unstable();
            list.dedup();
        }
        let ids = |names: &[&str]| names.iter().map(|n| id(n)).collect::<Option<Vec<_>>>();
        let then = match cuts.get(k) {
            Some(cut) => Some((id(cut.source)?, id(cut.result)?)),
            None => None,
        };
        parts.push(Part {
            model: None,
            reads: ids(&reads)?,
            makes: ids(&makes)?,
            then,
        });
    }
    Some(parts)
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
        let mut runner = Runner::load(bytes).unwrap();
        runner.parts.clear();
        runner
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

    #[cfg(has_model)]
    #[test]
    fn the_selfie_model_runs_in_four_parts_with_rten_s_output() {
        let bytes = include_bytes!("../../static/models/selfie_segmentation_landscape.onnx");
        let runner = Runner::load(bytes.to_vec()).unwrap();
        assert_eq!(runner.parts(), 4, "the decoder's three upsamplings");
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
