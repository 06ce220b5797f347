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

use std::collections::HashMap;

use rten::{Dimension, Model, ModelOptions, NodeId, RunError, RunOptions, Value, ValueOrView};
use rten_onnx::onnx::ModelProto;
use rten_tensor::{Layout as _, TensorView};

use crate::error::{MAX_INPUT_SIDE, MAX_MODEL_BYTES, ModelError};
use crate::shape::fixed;
use ops::HostOp;
use part::part_model;
use plan::plan;

mod ops;
mod part;
mod plan;
#[cfg(test)]
mod tests;

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
