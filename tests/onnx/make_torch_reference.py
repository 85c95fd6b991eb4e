#!/usr/bin/python3
"""Writes the references that tests/onnx/check_onnx.py compares tapegrad's exports with: for
each model of tests/onnx/zoo.hpp (rebuilt here in torch.nn, same order, same names),
tests/fixtures/onnx/NAME.safetensors (its state_dict, which export_zoo loads) and
tests/fixtures/onnx/NAME.onnx (what torch.onnx.export writes for it).

Run with Debian's Python and torch 1.13: /usr/bin/python3 tests/onnx/make_torch_reference.py
"""
import io
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import safetensors_format  # noqa: E402

OUT = os.path.join(HERE, "..", "fixtures", "onnx")

# name → (model, one sample's shape, Int64 indices?) — the list of zoo.hpp.
MODELS = {
    "mlp_relu": (lambda: nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), [4], False),
    "mlp_classic": (lambda: nn.Sequential(
        nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 6),
        nn.LeakyReLU(0.2), nn.Linear(6, 6), nn.ELU(0.5), nn.Linear(6, 4), nn.Softmax(1),
        nn.LogSoftmax(-1)), [5], False),
    "mlp_smooth": (lambda: nn.Sequential(
        nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 8), nn.GELU("tanh"), nn.Dropout(0.3),
        nn.Linear(8, 8), nn.SiLU(), nn.Linear(8, 8), nn.Mish(), nn.Identity(), nn.Linear(8, 8),
        nn.Softplus(), nn.Linear(8, 8), nn.Softplus(2, 20), nn.Linear(8, 3)),
        [6], False),
    "mlp_norm": (lambda: nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4, bias=False)), [6], False),
    "layer_norm": (lambda: nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.Tanh()), [6], False),
    "hardtanh": (lambda: nn.Sequential(nn.Linear(3, 4), nn.Hardtanh(-0.5, 0.5)), [3], False),
    "nested": (lambda: nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2)),
               [3], False),
    "sequence": (lambda: nn.Sequential(
        nn.LayerNorm([3, 5]), nn.Tanh(), nn.LayerNorm(5, elementwise_affine=False)), [3, 5], False),
    "cnn": (lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1, dilation=2, groups=2, bias=False), nn.ReLU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(72, 10), nn.LogSoftmax(1)), [1, 16, 16], False),
    "cnn_global": (lambda: nn.Sequential(
        nn.Conv2d(3, 6, (3, 2), stride=(2, 1)), nn.ReLU(), nn.BatchNorm2d(6),
        nn.Conv2d(6, 6, 1, bias=False), nn.BatchNorm2d(6), nn.MaxPool2d(3, 2, 1),
        nn.AvgPool2d(3, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 2)),
        [3, 9, 8], False),
    "conv1d": (lambda: nn.Sequential(
        nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU(), nn.Flatten(),
        nn.Linear(40, 3)), [2, 10], False),
    "embedding": (lambda: nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 3)),
                  [3], True),
    "pool_options": (lambda: nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True),
        nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        nn.AvgPool2d(2, 1, 1, ceil_mode=True), nn.Flatten(), nn.Linear(100, 3)), [2, 13, 12], False),
    "linear_sequence": (lambda: nn.Sequential(
        nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3, bias=False)), [6, 5], False),
    "decoder": (lambda: nn.Sequential(
        nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, bias=False), nn.Sigmoid()),
        [3, 4, 4], False),
    "decoder_options": (lambda: nn.Sequential(
        nn.ConvTranspose2d(4, 2, (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                           groups=2, bias=False, dilation=(1, 2)), nn.Tanh()),
        [4, 3, 3], False),
    "decoder1d": (lambda: nn.Sequential(
        nn.ConvTranspose1d(2, 3, 3, stride=2), nn.Tanh(), nn.Flatten(), nn.Linear(33, 2)),
        [2, 5], False),
}


def randomize_normalization(model):
    """Trained-looking statistics and affine parameters: the defaults (ones, zeros) would make
    torch merge equal initializers into one, which no trained model has."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(7)
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)) and \
                    module.weight is not None:
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)


def main():
    os.makedirs(OUT, exist_ok=True)
    for index, (name, (build, sample, indices)) in enumerate(MODELS.items()):
        torch.manual_seed(1000 + index)
        model = build()
        randomize_normalization(model)
        model.eval()
        state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
        safetensors_format.write(os.path.join(OUT, name + ".safetensors"), state,
                                 {"generator": "tests/onnx/make_torch_reference.py"})
        example = torch.randint(0, 10, [2] + sample) if indices else torch.randn([2] + sample)
        buffer = io.BytesIO()
        torch.onnx.export(model, example, buffer, opset_version=13, input_names=["input"],
                          output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
            f.write(buffer.getvalue())
        print(f"{name}: {len(buffer.getvalue())} bytes")


if __name__ == "__main__":
    main()
