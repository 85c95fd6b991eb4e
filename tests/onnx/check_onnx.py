#!/usr/bin/python3
"""Checks tapegrad's ONNX exports three independent ways.

Usage: check_onnx.py EXPORT_DIR REFERENCE_DIR

For every REFERENCE_DIR/NAME.onnx (torch.onnx.export's, from make_torch_reference.py) it takes
EXPORT_DIR/NAME.onnx and EXPORT_DIR/NAME.check.safetensors (from export_zoo) and checks
  1. onnx.checker.check_model(full_check=True) and strict shape inference (onnx 1.12);
  2. OpenCV's dnn runs the file on the batch in the .check file and matches tapegrad's output
     there to 1e-5 relative to the output's largest magnitude;
  3. tests/onnx/numpy_runtime.py, a reference evaluator written from the ONNX operator
     specification, computes the file on the same batch in Float64 and matches tapegrad's
     output there to 1e-5 (this covers the graphs OpenCV 4.6 cannot import);
  4. the graph equals torch's: the same nodes in the same order with the same op types,
     attributes and wiring; initializers with the same names (except torch's own "onnx::…"
     names), shapes and bytes; the same graph inputs and outputs, opset and IR version.
Exits 77 (CTest's "skipped") when onnx or OpenCV is not installed, 1 on any failure.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import safetensors_format  # noqa: E402

try:
    import cv2
    import numpy as np
    import onnx
    import onnx.numpy_helper
    import onnx.shape_inference

    import numpy_runtime
except ImportError as e:
    print(f"skipped: {e.name} is not installed (scripts/setup.sh --tests installs it)")
    sys.exit(77)

# Graphs that OpenCV 4.6's importer rejects although they are valid ONNX (torch's own export of
# the same model fails the same way): these are checked by 1 and 3, the output says that OpenCV
# did not run them, and if OpenCV ever does run one its numbers are checked.
OPENCV_CANNOT = {
    "layer_norm": "its importer fails on torch's LayerNorm decomposition (ReduceMean/Div)",
    "sequence": "its importer fails on torch's LayerNorm decomposition on 3-d inputs",
    "hardtanh": "its Clip takes min and max as attributes only (opset 6), not as inputs",
    "conv1d": "its Conv needs 4-d input",
    "embedding": "it feeds Float32 inputs only, not Int64 indices",
    "linear_sequence": "its MatMul fails on a 3-d input with a 2-d initializer (normalize_axis)",
    "decoder1d": "its ConvTranspose needs 4-d input",
}
# Models OpenCV 4.6 imports but computes wrongly, on torch.onnx.export's own file as on ours.
OPENCV_WRONG = {
    "pool_options": "it sizes MaxPool with dilations and ceil_mode one too large, and averages "
                    "over the padding despite AveragePool's count_include_pad=0",
    "decoder_options": "it sizes ConvTranspose with dilations one column too small",
}


def check_onnx(model):
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    declared = [dim_of(d) for d in model.graph.output[0].type.tensor_type.shape.dim]
    found = [dim_of(d) for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    assert declared == found, f"output shape {declared}, inference gives {found}"
    return f"checker and strict shape inference pass, output {declared}"


def check_opencv(name, path, check):
    if name in OPENCV_WRONG:
        return f"NOT RUN: OpenCV 4.6 computes it wrongly: {OPENCV_WRONG[name]}"
    tensors, _ = safetensors_format.read(check)
    x, expected = tensors["input"], tensors["output"]
    try:
        net = cv2.dnn.readNetFromONNX(path)
        net.setInput(x)
        got = net.forward().reshape(expected.shape)
    except cv2.error:
        if name not in OPENCV_CANNOT:
            raise
        return f"NOT RUN: OpenCV 4.6 cannot run it: {OPENCV_CANNOT[name]}"
    error = relative_error(got, expected)
    assert error <= 1e-5, f"OpenCV's output differs from tapegrad's by {error:.3g} relative"
    return f"OpenCV matches tapegrad on a batch of {x.shape[0]}: {error:.2g} relative"


def relative_error(got, expected):
    return float(np.max(np.abs(got - expected))) / float(np.max(np.abs(expected)))


def check_numpy(model, check):
    tensors, _ = safetensors_format.read(check)
    got = numpy_runtime.run(model, tensors["input"])
    error = relative_error(got, tensors["output"])
    assert error <= 1e-5, f"the numpy evaluation differs from tapegrad by {error:.3g} relative"
    return f"numpy's evaluation matches tapegrad: {error:.2g} relative"


def dim_of(dim):
    return dim.dim_param if dim.HasField("dim_param") else dim.dim_value


def value_of(attribute):
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, onnx.TensorProto):
        return ("tensor", list(value.dims), value.data_type, onnx.numpy_helper.to_array(value).tobytes())
    if isinstance(value, list):
        return list(value)
    return value


def describe(model):
    """The graph as comparable values, independent of the names of intermediate values."""
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    producer = {i.name: ("input", i.name) for i in graph.input}
    nodes = []
    for k, node in enumerate(graph.node):
        inputs = []
        for name in node.input:
            if name in initializers:
                t = initializers[name]
                shown = None if name.startswith("onnx::") else name
                inputs.append(("initializer", shown, list(t.dims), t.data_type,
                               onnx.numpy_helper.to_array(t).tobytes()))
            else:
                inputs.append(producer[name])
        attributes = {a.name: value_of(a) for a in node.attribute}
        nodes.append((node.op_type, attributes, inputs))
        for j, name in enumerate(node.output):
            producer[name] = ("node", k, j)
    signature = [(v.name, v.type.tensor_type.elem_type,
                  [dim_of(d) for d in v.type.tensor_type.shape.dim])
                 for v in list(graph.input) + list(graph.output)]
    opsets = [(o.domain, o.version) for o in model.opset_import]
    return model.ir_version, opsets, signature, nodes, sorted(initializers)


def explain(name, ours, torch_):
    """The first difference between two describe() results, as a sentence."""
    labels = ["IR version", "opsets", "graph inputs and outputs"]
    for label, a, b in zip(labels, ours[:3], torch_[:3]):
        if a != b:
            return f"{label}: tapegrad {a}, torch {b}"
    for k, (a, b) in enumerate(zip(ours[3], torch_[3])):
        if a[0] != b[0] or a[1] != b[1]:
            return f"node {k}: tapegrad {a[0]} {a[1]}, torch {b[0]} {b[1]}"
        for i, (x, y) in enumerate(zip(a[2], b[2])):
            if x != y:
                if x[0] == y[0] == "initializer" and x[1:4] == y[1:4]:
                    diff = np.max(np.abs(np.frombuffer(x[4], "<f4") - np.frombuffer(y[4], "<f4")))
                    return f"node {k} ({a[0]}) input {i} '{x[1]}': bytes differ (max {diff:.3g})"
                return f"node {k} ({a[0]}) input {i}: tapegrad {x[:4]}, torch {y[:4]}"
        if len(a[2]) != len(b[2]):
            return f"node {k} ({a[0]}): {len(a[2])} inputs, torch {len(b[2])}"
    if len(ours[3]) != len(torch_[3]):
        return f"{len(ours[3])} nodes, torch {len(torch_[3])}"
    return None


def check_torch(ours, reference):
    a, b = describe(ours), describe(reference)
    problem = explain(None, a, b)
    assert problem is None, f"differs from torch.onnx.export: {problem}"
    named = [n for n in a[4] if not n.startswith("onnx::")]
    return f"same graph as torch.onnx.export: {len(a[3])} nodes, initializers {named}"


def fails(check):
    try:
        check()
    except Exception:  # noqa: BLE001 — any failure counts
        return True
    return False


def self_test(export_dir, reference_dir, name):
    """Each check fails on a file that is wrong in the way it looks for."""
    reference = onnx.load(os.path.join(reference_dir, name + ".onnx"))
    check = os.path.join(export_dir, name + ".check.safetensors")
    tensors, _ = safetensors_format.read(check)
    wrong_output = os.path.join(export_dir, "self-test.check.safetensors")
    safetensors_format.write(wrong_output, {"input": tensors["input"],
                                            "output": tensors["output"] * np.float32(1.0001)})
    byte = onnx.load(os.path.join(export_dir, name + ".onnx"))
    raw = bytearray(byte.graph.initializer[0].raw_data)
    raw[0] ^= 1
    byte.graph.initializer[0].raw_data = bytes(raw)
    attribute = onnx.load(os.path.join(export_dir, name + ".onnx"))
    attribute.graph.node[0].attribute[0].f = 2.0  # Gemm's alpha
    broken = onnx.load(os.path.join(export_dir, name + ".onnx"))
    broken.graph.node[0].input[0] = "nowhere"
    assert fails(lambda: check_onnx(broken)), "the onnx check passes a dangling input"
    assert fails(lambda: check_numpy(reference, wrong_output)), "the numpy check passes 1e-4"
    assert fails(lambda: check_opencv(name, os.path.join(reference_dir, name + ".onnx"),
                                      wrong_output)), "the OpenCV check passes 1e-4"
    assert fails(lambda: check_torch(byte, reference)), "the torch check passes a flipped bit"
    assert fails(lambda: check_torch(attribute, reference)), "the torch check passes alpha = 2"
    os.unlink(wrong_output)
    print(f"self-test: each check fails on a wrong {name}")


def main(export_dir, reference_dir):
    names = sorted(f[:-5] for f in os.listdir(reference_dir) if f.endswith(".onnx"))
    assert names, f"no references in {reference_dir}"
    self_test(export_dir, reference_dir, "mlp_relu")
    failures = 0
    for name in names:
        path = os.path.join(export_dir, name + ".onnx")
        for label, check in [
                ("onnx", lambda: check_onnx(onnx.load(path))),
                ("opencv", lambda: check_opencv(name, path, os.path.join(export_dir, name + ".check.safetensors"))),
                ("numpy", lambda: check_numpy(onnx.load(path), os.path.join(export_dir, name + ".check.safetensors"))),
                ("torch", lambda: check_torch(onnx.load(path),
                                              onnx.load(os.path.join(reference_dir, name + ".onnx"))))]:
            try:
                print(f"{name}: {label}: {check()}")
            except Exception as e:  # every check reports, then the run fails
                failures += 1
                print(f"{name}: {label}: FAILED: {type(e).__name__}: {e}")
    print(f"{len(names)} models, {failures} failed checks")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
