//! [`ModelError`]: why a model cannot be loaded or run, and the limits it names.

use thiserror::Error;

/// Largest model file accepted (a user's own model included).
pub const MAX_MODEL_BYTES: usize = 50 * 1024 * 1024;
/// Largest input side accepted, so a model cannot make the stage allocate without bound.
pub const MAX_INPUT_SIDE: usize = 2048;

/// Why a model cannot be loaded or run.
#[derive(Debug, Error)]
pub enum ModelError {
    #[error("model file is {bytes} bytes, at most {max} allowed", max = MAX_MODEL_BYTES)]
    TooLarge { bytes: usize },
    /// Unsupported operators are reported here, with rten's words (which name them).
    #[error("cannot load the model: {0}")]
    Load(#[from] rten::LoadError),
    /// Not a well-formed ONNX file (checked before the engine parses it).
    #[error("not an ONNX model: {0}")]
    Malformed(String),
    #[error("the model has {inputs} inputs and {outputs} outputs; one of each is needed")]
    Arity { inputs: usize, outputs: usize },
    #[error(
        "model input shape {shape} is not an image: expected 1x3xHxW (NCHW) or 1xHxWx3 (NHWC) \
         with fixed H and W up to {MAX_INPUT_SIDE}"
    )]
    InputShape { shape: String },
    #[error("model output shape {shape} is not a 1-channel mask of the input's {width}x{height}")]
    OutputShape {
        shape: String,
        width: usize,
        height: usize,
    },
    #[error("input has {got} values, the model takes {expected}")]
    InputLength { got: usize, expected: usize },
    #[error("inference failed: {0}")]
    Run(#[from] rten::RunError),
}
