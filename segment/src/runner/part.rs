//! One part of a cut graph as an ONNX model of its own ([`part_model`]), and reading the
//! constant tensors the cuts take their parameters from.

use std::collections::HashSet;

use rten::{DataType, Dimension, Model, ValueType};
use rten_onnx::onnx::{self, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};

use super::ops::HostOp;

/// A node (with the activation nodes it absorbs) that lenscast runs instead of rten.
#[derive(Clone)]
pub(super) struct Cut<'a> {
    pub(super) source: &'a str,
    pub(super) result: &'a str,
    pub(super) op: HostOp,
    /// Indices of the nodes fused into it after the first.
    pub(super) absorbed: Vec<usize>,
}

/// One run of rten between two cuts, by value name.
pub(super) struct PartPlan<'a> {
    pub(super) nodes: Vec<&'a NodeProto>,
    pub(super) reads: Vec<&'a str>,
    pub(super) makes: Vec<&'a str>,
    /// The op lenscast does after it.
    pub(super) then: Option<Cut<'a>>,
}

/// The ONNX model of one part: its nodes, the initializers they read, and its reads and
/// makes as the graph's inputs and outputs (typed and shaped as rten knows them, so its
/// shape inference and fusions work as on the whole graph).
pub(super) fn part_model(
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

/// A float constant's values (`float_data`, or little-endian `raw_data`).
pub(super) fn floats(t: &TensorProto) -> Option<Vec<f32>> {
    values(&t.float_data, t, f32::from_le_bytes)
}

/// An int64 constant's values (`int64_data`, or little-endian `raw_data`).
pub(super) fn ints(t: &TensorProto) -> Option<Vec<i64>> {
    values(&t.int64_data, t, i64::from_le_bytes)
}

/// `typed` if the writer used the typed field, else `t`'s raw bytes read `N` at a time.
fn values<T: Clone, const N: usize>(
    typed: &[T],
    t: &TensorProto,
    from_le_bytes: fn([u8; N]) -> T,
) -> Option<Vec<T>> {
    if !typed.is_empty() {
        return Some(typed.to_vec());
    }
    let raw = t.raw_data.as_ref()?.borrow();
    raw.len().is_multiple_of(N).then(|| {
        raw.chunks_exact(N)
            .map(|b| from_le_bytes(b.try_into().expect("chunks_exact gives N bytes")))
            .collect()
    })
}
