"""A reference evaluator of ONNX graphs in numpy (Float64), for the ops the exporter writes,
from the operator definitions of the ONNX specification (opset 13), written independently of
tapegrad's kernels. It runs the graphs OpenCV 4.6 cannot import, so that every exported model
is also checked by computing it; an op it does not know is an error, never a guess.
"""
import math

import numpy as np
import onnx
import onnx.numpy_helper
from numpy.lib.stride_tricks import sliding_window_view


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def windows(x, kernel, strides, dilations):
    """x [N, C, *spatial] → [N, C, *out, *kernel] views of each window."""
    spatial = len(kernel)
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    view = sliding_window_view(x, span, axis=tuple(range(2, 2 + spatial)))
    return view[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides)
                + tuple(slice(None, None, d) for d in dilations)]


def pad_spatial(x, pads, value=0.0):
    spatial = x.ndim - 2
    widths = [(0, 0), (0, 0)] + [(pads[i], pads[i + spatial]) for i in range(spatial)]
    return np.pad(x, widths, constant_values=value)


def conv(x, w, b=None, dilations=None, group=1, kernel_shape=None, pads=None, strides=None):
    spatial = x.ndim - 2
    kernel = kernel_shape or list(w.shape[2:])
    view = windows(pad_spatial(x, pads or [0] * 2 * spatial), kernel,
                   strides or [1] * spatial, dilations or [1] * spatial)
    per_in, per_out = x.shape[1] // group, w.shape[0] // group
    k_axes = list(range(2 + spatial, 2 + 2 * spatial))
    parts = [np.tensordot(view[:, g * per_in:(g + 1) * per_in], w[g * per_out:(g + 1) * per_out],
                          axes=([1] + k_axes, [1] + list(range(2, 2 + spatial))))
             for g in range(group)]
    y = np.moveaxis(np.concatenate(parts, axis=-1), -1, 1)
    return y if b is None else y + b.reshape((1, -1) + (1,) * spatial)


def conv_transpose(x, w, b=None, dilations=None, group=1, kernel_shape=None, output_padding=None,
                   pads=None, strides=None):
    """Each input entry x[c, i] adds x[c, i]·w[c, o, k] at output position i·stride + k·dilation
    of a full output (in − 1)·stride + (k − 1)·dilation + 1 + output_padding long, which the
    pads then crop at both ends."""
    spatial = x.ndim - 2
    kernel = kernel_shape or list(w.shape[2:])
    strides = strides or [1] * spatial
    dilations = dilations or [1] * spatial
    pads = pads or [0] * 2 * spatial
    output_padding = output_padding or [0] * spatial
    inputs = x.shape[2:]
    full = [(inputs[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 + output_padding[i]
            for i in range(spatial)]
    per_in, per_out = x.shape[1] // group, w.shape[1]
    y = np.zeros((x.shape[0], per_out * group) + tuple(full))
    for g in range(group):
        xg, wg = x[:, g * per_in:(g + 1) * per_in], w[g * per_in:(g + 1) * per_in]
        for k in np.ndindex(*kernel):
            part = np.moveaxis(np.tensordot(xg, wg[(slice(None), slice(None)) + k], axes=([1], [0])),
                               -1, 1)
            at = tuple(slice(k[i] * dilations[i], k[i] * dilations[i] + (inputs[i] - 1) * strides[i] + 1,
                             strides[i]) for i in range(spatial))
            y[(slice(None), slice(g * per_out, (g + 1) * per_out)) + at] += part
    y = y[(slice(None), slice(None)) + tuple(slice(pads[i], full[i] - pads[i + spatial])
                                             for i in range(spatial))]
    return y if b is None else y + b.reshape((1, -1) + (1,) * spatial)


def pool(x, reduce, kernel_shape, pads=None, strides=None, dilations=None, ceil_mode=0,
         count_include_pad=0):
    """MaxPool / AveragePool: output size floor (or, with ceil_mode, ceil) of
    (in + pads − dilation·(k − 1) − 1) / stride + 1; the windows that ceil_mode adds read past the
    padded input, which a max ignores and an average leaves out of its count, as does the
    explicit padding unless count_include_pad."""
    spatial = len(kernel_shape)
    pads = pads or [0] * 2 * spatial
    strides = strides or [1] * spatial
    dilations = dilations or [1] * spatial
    rounding = math.ceil if ceil_mode else math.floor
    extra = []
    for i in range(spatial):
        span = dilations[i] * (kernel_shape[i] - 1) + 1
        padded = x.shape[2 + i] + pads[i] + pads[i + spatial]
        out = rounding((padded - span) / strides[i]) + 1
        extra.append(max(0, (out - 1) * strides[i] + span - padded))
    axes = tuple(range(-spatial, 0))
    full_pads = list(pads[:spatial]) + [pads[spatial + i] + extra[i] for i in range(spatial)]
    if reduce is np.max:
        view = windows(pad_spatial(x, full_pads, -np.inf), kernel_shape, strides, dilations)
        return view.max(axis=axes)
    counted = np.ones((1, 1) + x.shape[2:])
    if count_include_pad:
        counted = pad_spatial(counted, pads, 1.0)
        counted = pad_spatial(counted, [0] * spatial + extra, 0.0)
    else:
        counted = pad_spatial(counted, full_pads, 0.0)
    total = windows(pad_spatial(x, full_pads, 0.0), kernel_shape, strides, dilations).sum(axis=axes)
    count = windows(counted, kernel_shape, strides, dilations).sum(axis=axes)
    return total / count


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    y = alpha * ((a.T if transA else a) @ (b.T if transB else b))
    return y if c is None else y + beta * c


def batch_norm(x, scale, bias, mean, var, epsilon=1e-5, momentum=0.9):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + epsilon) * \
        scale.reshape(shape) + bias.reshape(shape)


def pad(x, pads, mode=b"constant"):
    assert mode == b"constant", mode
    half = len(pads) // 2
    return np.pad(x, [(int(pads[i]), int(pads[i + half])) for i in range(half)])


OPS = {
    "Gemm": gemm,
    "MatMul": lambda a, b: a @ b,
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power,
    "Sqrt": np.sqrt, "Tanh": np.tanh, "Identity": lambda x: x,
    "Erf": np.vectorize(math.erf),
    "Relu": lambda x: np.maximum(x, 0),
    "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "LeakyRelu": lambda x, alpha=0.01: np.where(x > 0, x, alpha * x),
    "Elu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)),
    "Softplus": lambda x: np.logaddexp(0, x),
    "Clip": lambda x, lo=None, hi=None: np.clip(x, lo, hi),
    "Softmax": lambda x, axis=-1: softmax(x, axis),
    "LogSoftmax": lambda x, axis=-1: np.log(softmax(x, axis)),
    "ReduceMean": lambda x, axes=None, keepdims=1: x.mean(
        axis=tuple(axes) if axes else None, keepdims=bool(keepdims)),
    "Flatten": lambda x, axis=1: x.reshape(int(np.prod(x.shape[:axis])), -1),
    "Gather": lambda data, index, axis=0: np.take(data, index, axis=axis),
    "BatchNormalization": batch_norm,
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Pad": pad,
    "MaxPool": lambda x, **options: pool(x, np.max, **options),
    "AveragePool": lambda x, **options: pool(x, np.mean, **options),
    "GlobalAveragePool": lambda x: x.mean(axis=tuple(range(2, x.ndim)), keepdims=True),
}


def run(model, x):
    """The graph's single output for input x, computed in Float64."""
    graph = model.graph
    values = {t.name: onnx.numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    values[graph.input[0].name] = x if x.dtype == np.int64 else x.astype(np.float64)
    for node in graph.node:
        if node.op_type == "Constant":
            value = onnx.numpy_helper.to_array(attributes(node)["value"])
            values[node.output[0]] = value if value.dtype == np.int64 else value.astype(np.float64)
            continue
        if node.op_type not in OPS:
            raise NotImplementedError(f"the numpy runtime has no {node.op_type}")
        inputs = [values[name] for name in node.input]
        values[node.output[0]] = OPS[node.op_type](*inputs, **attributes(node))
    return values[graph.output[0].name]
