//! [`HostOp`]: the ops the runner takes out of rten's hands, applied to rten values.

use rten::{Value, ValueView};
use rten_tensor::{Layout as _, NdTensor, NdTensorView, TensorView};

use crate::depthwise::Depthwise;
use crate::upsample::upsample_2x;

/// An op taken out of rten's hands.
#[derive(Clone, Debug)]
pub(super) enum HostOp {
    /// [`upsample_2x`]
    Upsample2x,
    /// [`Depthwise::run`], the activation after it fused in.
    Depthwise(Box<Depthwise>),
}

impl HostOp {
    /// `value` (an `N×C×H×W` float map: its shape is fixed and was checked at load, and
    /// the graph ran as cut there) through the op.
    pub(super) fn apply(&self, value: ValueView<'_>) -> Value {
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
