"""Converts MediaPipe's selfie segmentation TFLite model to ONNX.

Run by `cargo xtask setup` (xtask/src/model.rs) in a venv with the pinned packages of
models/requirements.txt:  python tflite2onnx.py IN.tflite OUT.onnx

Stock converters fail on this graph (tflite2onnx stops at HARD_SWISH; tf2onnx needs TensorFlow
and cannot convert the custom op Convolution2DTransposeBias), so this one covers exactly the
graph's 11 op types and refuses anything else by name. What it changes on the way:

- fp16 weights (behind DEQUANTIZE) become fp32 initializers;
- activations run in NCHW (ONNX's layout): one Transpose after the NHWC input and one before
  the output, so the model's interface stays the TFLite one (1xHxWx3 RGB in [0,1] in,
  1xHxWx1 person probability out);
- HARD_SWISH becomes x * HardSigmoid(x, 1/6, 1/2) (exactly TFLite's x * relu6(x+3) / 6);
- RELU (also fused) becomes LeakyRelu(alpha=0): the same values (a negative input gives -0),
  but rten 0.27 runs LeakyRelu with its SIMD kernel, while its Relu is `f32::max` per value,
  which wasm32 compiles to a call of libm's fmaxf: a quarter of the inference time there;
- the custom Convolution2DTransposeBias (MediaPipe's) becomes a ConvTranspose whose strides
  are the output size over the input size (2x2 kernel, stride 2 in both models);
- TF "SAME" padding becomes explicit pads (extra padding at the end, as TF does).
"""

import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
SAME, VALID = 0, 1
# TFLite axis (NHWC) -> ONNX axis (NCHW)
NHWC_TO_NCHW_AXIS = [0, 2, 3, 1]


def builtin_name(code):
    for name, value in tflite.BuiltinOperator.__dict__.items():
        if not name.startswith("_") and value == code:
            return name
    return str(code)


class Converter:
    def __init__(self, buf):
        self.model = tflite.Model.GetRootAsModel(buf, 0)
        self.graph = self.model.Subgraphs(0)
        self.nodes = []
        self.inits = []
        self.consts = {}  # tensor index -> numpy array (fp32/int32), TFLite layout
        self.counter = 0

    def tensor(self, i):
        return self.graph.Tensors(i)

    def name(self, i):
        return self.tensor(i).Name().decode()

    def shape(self, i):
        return [int(d) for d in self.tensor(i).ShapeAsNumpy()]

    def fresh(self, base):
        self.counter += 1
        return f"{base}__{self.counter}"

    def buffer_array(self, i):
        t = self.tensor(i)
        data = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(data, int) or len(data) == 0:
            return None
        dtype = {0: np.float32, 1: np.float16, 2: np.int32}.get(t.Type())
        if dtype is None:
            raise SystemExit(f"unsupported constant type {t.Type()} in {self.name(i)}")
        return np.frombuffer(data.tobytes(), dtype=dtype).reshape(self.shape(i))

    def const(self, i):
        if i not in self.consts:
            arr = self.buffer_array(i)
            if arr is not None:
                self.consts[i] = arr.astype(np.float32) if arr.dtype == np.float16 else arr
        return self.consts.get(i)

    def init(self, arr, base):
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=self.fresh(op), **attrs))

    def options(self, op, cls):
        table = op.BuiltinOptions()
        opts = cls()
        opts.Init(table.Bytes, table.Pos)
        return opts

    def relu(self, x, out):
        """ReLU as LeakyRelu(alpha=0): see the module docs."""
        self.node("LeakyRelu", [x], [out], alpha=0.0)

    def activation(self, out, fused):
        """Returns the name to write the op's raw result to, adding the fused activation."""
        if fused == 0:
            return out
        raw = self.fresh(out + "_raw")
        if fused == 1:
            self.relu(raw, out)
        elif fused == 3:
            self.node("Clip", [raw, self.init(np.float32(0), "zero"), self.init(np.float32(6), "six")], [out])
        else:
            raise SystemExit(f"unsupported fused activation {fused}")
        return raw

    def same_pads(self, in_hw, kernel, strides, dilations):
        pads_begin, pads_end = [], []
        for size, k, s, d in zip(in_hw, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            pads_begin.append(total // 2)
            pads_end.append(total - total // 2)
        return pads_begin + pads_end

    def operand(self, i):
        """An elementwise operand: activations are NCHW already; constants are re-laid out."""
        arr = self.const(i)
        if arr is None:
            return self.name(i)
        if arr.ndim == 4:
            arr = arr.transpose(0, 3, 1, 2)
        elif arr.ndim == 1 and arr.size > 1:
            arr = arr.reshape(-1, 1, 1)
        return self.init(arr, self.name(i))

    def convert(self):
        g = self.graph
        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            code_entry = self.model.OperatorCodes(op.OpcodeIndex())
            code = max(code_entry.BuiltinCode(), code_entry.DeprecatedBuiltinCode())
            ins = [int(x) for x in op.InputsAsNumpy()]
            outs = [int(x) for x in op.OutputsAsNumpy()]
            out = self.name(outs[0])
            B = tflite.BuiltinOperator
            if code == B.DEQUANTIZE:
                src = self.const(ins[0])
                if src is None:
                    raise SystemExit("DEQUANTIZE of a non-constant tensor")
                self.consts[outs[0]] = src.astype(np.float32)
            elif code in (B.CONV_2D, B.DEPTHWISE_CONV_2D):
                depthwise = code == B.DEPTHWISE_CONV_2D
                cls = tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions
                o = self.options(op, cls)
                w = self.const(ins[1])
                strides = [o.StrideH(), o.StrideW()]
                dil = [o.DilationHFactor(), o.DilationWFactor()]
                in_shape = self.shape(ins[0])
                if depthwise:
                    # [1, kh, kw, C*m] -> [C*m, 1, kh, kw], one group per input channel
                    weight = w.transpose(3, 0, 1, 2)
                    group = in_shape[3]
                else:
                    weight = w.transpose(0, 3, 1, 2)  # [O, kh, kw, I] -> [O, I, kh, kw]
                    group = 1
                kernel = list(weight.shape[2:])
                pads = (
                    self.same_pads(in_shape[1:3], kernel, strides, dil)
                    if o.Padding() == SAME
                    else [0, 0, 0, 0]
                )
                inputs = [self.name(ins[0]), self.init(weight, self.name(ins[1]))]
                if len(ins) > 2 and ins[2] >= 0:
                    inputs.append(self.init(self.const(ins[2]), self.name(ins[2])))
                target = self.activation(out, o.FusedActivationFunction())
                self.node(
                    "Conv", inputs, [target], kernel_shape=kernel, strides=strides,
                    dilations=dil, pads=pads, group=group,
                )
            elif code == B.HARD_SWISH:
                hs = self.fresh(out + "_hsig")
                self.node("HardSigmoid", [self.name(ins[0])], [hs], alpha=1.0 / 6.0, beta=0.5)
                self.node("Mul", [self.name(ins[0]), hs], [out])
            elif code == B.RELU:
                self.relu(self.name(ins[0]), out)
            elif code == B.LOGISTIC:
                self.node("Sigmoid", [self.name(ins[0])], [out])
            elif code == B.MEAN:
                o = self.options(op, tflite.ReducerOptions)
                axes = sorted(NHWC_TO_NCHW_AXIS[int(a)] for a in np.ravel(self.const(ins[1])))
                self.node("ReduceMean", [self.name(ins[0])], [out], axes=axes,
                          keepdims=1 if o.KeepDims() else 0)
                if not o.KeepDims():
                    raise SystemExit("MEAN without keep_dims is not supported")
            elif code in (B.ADD, B.MUL):
                cls = tflite.AddOptions if code == B.ADD else tflite.MulOptions
                o = self.options(op, cls)
                target = self.activation(out, o.FusedActivationFunction())
                self.node("Add" if code == B.ADD else "Mul",
                          [self.operand(ins[0]), self.operand(ins[1])], [target])
            elif code == B.AVERAGE_POOL_2D:
                o = self.options(op, tflite.Pool2DOptions)
                kernel = [o.FilterHeight(), o.FilterWidth()]
                strides = [o.StrideH(), o.StrideW()]
                in_shape = self.shape(ins[0])
                pads = (
                    self.same_pads(in_shape[1:3], kernel, strides, [1, 1])
                    if o.Padding() == SAME
                    else [0, 0, 0, 0]
                )
                if any(pads):
                    raise SystemExit("padded AVERAGE_POOL_2D is not supported")
                target = self.activation(out, o.FusedActivationFunction())
                self.node("AveragePool", [self.name(ins[0])], [target], kernel_shape=kernel,
                          strides=strides, pads=pads)
            elif code == B.RESIZE_BILINEAR:
                o = self.options(op, tflite.ResizeBilinearOptions)
                if o.AlignCorners():
                    mode = "align_corners"
                elif o.HalfPixelCenters():
                    mode = "half_pixel"
                else:
                    mode = "asymmetric"
                n, h, w, c = self.shape(outs[0])
                sizes = self.init(np.array([n, c, h, w], dtype=np.int64), "sizes")
                self.node("Resize", [self.name(ins[0]), "", "", sizes], [out], mode="linear",
                          coordinate_transformation_mode=mode)
            elif code == B.CUSTOM and code_entry.CustomCode() == b"Convolution2DTransposeBias":
                w = self.const(ins[1])  # [O, kh, kw, I]
                weight = w.transpose(3, 0, 1, 2)  # -> [I, O, kh, kw]
                in_hw = self.shape(ins[0])[1:3]
                out_hw = self.shape(outs[0])[1:3]
                strides = [o // i for o, i in zip(out_hw, in_hw)]
                kernel = list(weight.shape[2:])
                if kernel != strides:
                    raise SystemExit(f"transpose conv kernel {kernel} != strides {strides}")
                self.node(
                    "ConvTranspose",
                    [self.name(ins[0]), self.init(weight, self.name(ins[1])),
                     self.init(self.const(ins[2]), self.name(ins[2]))],
                    [out], kernel_shape=kernel, strides=strides,
                )
            else:
                custom = code_entry.CustomCode()
                raise SystemExit(
                    f"unsupported operator {builtin_name(code)}"
                    + (f" ({custom.decode()})" if custom else "")
                )

        (inp,) = [int(x) for x in g.InputsAsNumpy()]
        (outp,) = [int(x) for x in g.OutputsAsNumpy()]
        in_shape, out_shape = self.shape(inp), self.shape(outp)
        # NHWC interface, NCHW inside.
        self.nodes.insert(0, helper.make_node(
            "Transpose", ["input"], [self.name(inp)], perm=[0, 3, 1, 2], name="to_nchw"))
        self.nodes.append(helper.make_node(
            "Transpose", [self.name(outp)], ["mask"], perm=[0, 2, 3, 1], name="to_nhwc"))
        graph = helper.make_graph(
            self.nodes, "selfie_segmentation", [
                helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info("mask", TensorProto.FLOAT, out_shape)],
            initializer=self.inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="lenscast models/tflite2onnx.py",
        )
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        return model


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: tflite2onnx.py IN.tflite OUT.onnx")
    with open(sys.argv[1], "rb") as f:
        model = Converter(f.read()).convert()
    onnx.save(model, sys.argv[2])
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{sys.argv[2]}: {len(model.graph.node)} nodes, ops {', '.join(ops)}")


if __name__ == "__main__":
    main()
