#!/usr/bin/python3
"""PyTorch → tapegrad → PyTorch through tools/torch_to_safetensors.py and
tools/safetensors_to_torch.py: a model trained in PyTorch gives the same forward pass in
tapegrad, trains on there exactly as it would have in PyTorch, and comes back with the same
forward pass. Malformed and malicious inputs to the tools are refused with an error naming the
file and the problem.

Usage: torch_roundtrip.py CONTINUE_TRAINING TOOLS_DIR WORK_DIR
Exits 77 (CTest's "skipped") after the checks that need no torch when torch is not installed.
"""
import os
import pickle
import subprocess
import sys

import numpy as np

TOLERANCE = 1e-5  # relative to the largest magnitude compared


def run(*command, expect_failure=False):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if (result.returncode != 0) != expect_failure:
        sys.exit(f"FAILED: {' '.join(map(str, command))} exited {result.returncode}:\n"
                 f"{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def close(label, got, expected):
    error = float(np.max(np.abs(got - expected)) / np.max(np.abs(expected)))
    if not error <= TOLERANCE:
        sys.exit(f"FAILED: {label}: {error:.3g} relative")
    print(f"{label}: match, {error:.2g} relative")


def check_refusals_without_torch(tools, work):
    """safetensors_to_torch.py validates its input before it needs torch."""
    bad = os.path.join(work, "truncated.safetensors")
    with open(bad, "wb") as f:
        f.write((1000).to_bytes(8, "little") + b'{"w": ')
    message = run(sys.executable, os.path.join(tools, "safetensors_to_torch.py"), bad,
                  os.path.join(work, "never.pt"), expect_failure=True)
    assert bad in message and "the header claims 1000 bytes" in message, message
    assert not os.path.exists(os.path.join(work, "never.pt"))
    print(f"safetensors_to_torch refuses a truncated file: {message.strip()}")


class Payload:
    """A pickle that would create a file if torch.load ran it."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def check_refusals(tools, work, torch):
    to_safetensors = os.path.join(tools, "torch_to_safetensors.py")
    garbage = os.path.join(work, "garbage.pt")
    with open(garbage, "wb") as f:
        f.write(b"not a pickle at all")
    message = run(sys.executable, to_safetensors, garbage, os.path.join(work, "x.safetensors"),
                  expect_failure=True)
    assert garbage in message and "weights_only" in message, message
    print(f"torch_to_safetensors refuses garbage: {message.strip()}")
    marker = os.path.join(work, "payload-ran")
    malicious = os.path.join(work, "malicious.pt")
    torch.save({"w": torch.zeros(2), "evil": Payload(marker)}, malicious)
    message = run(sys.executable, to_safetensors, malicious, os.path.join(work, "x.safetensors"),
                  expect_failure=True)
    assert not os.path.exists(marker), "torch.load ran the pickle's code"
    assert malicious in message, message
    print(f"torch_to_safetensors refuses a pickle with code, without running it: "
          f"{message.strip().splitlines()[-1][:160]}")
    nested = os.path.join(work, "checkpoint.pt")
    torch.save({"epoch": 3, "model": {"w": torch.zeros(2)}}, nested)
    message = run(sys.executable, to_safetensors, nested, os.path.join(work, "x.safetensors"),
                  expect_failure=True)
    assert "entry 'epoch' is a int" in message and "--key" in message, message
    run(sys.executable, to_safetensors, "--key", "model", nested, os.path.join(work, "x.safetensors"))
    print("torch_to_safetensors explains a checkpoint that nests the state_dict, and --key reads it")


def main(continue_training, tools, work):
    os.makedirs(work, exist_ok=True)
    sys.path.insert(0, tools)
    import safetensors_format
    check_refusals_without_torch(tools, work)
    try:
        import torch
    except ImportError:
        print("skipped: torch is not installed, so no round trip was checked")
        return 77
    from torch import nn
    check_refusals(tools, work, torch)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))

    def train(m, steps):
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        m.train()
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            opt.step()

    train(model, 5)  # trained in PyTorch first
    torch.save(model.state_dict(), os.path.join(work, "trained.pt"))
    model.eval()
    with torch.no_grad():
        torch_before = model(x).numpy()
    path = lambda name: os.path.join(work, name)  # noqa: E731
    run(sys.executable, os.path.join(tools, "torch_to_safetensors.py"), path("trained.pt"),
        path("trained.safetensors"))
    safetensors_format.write(path("data.safetensors"), {"x": x.numpy(), "y": y.numpy()})
    run(continue_training, path("trained.safetensors"), path("data.safetensors"),
        path("outputs.safetensors"), path("continued.safetensors"))
    outputs, _ = safetensors_format.read(path("outputs.safetensors"))
    close("PyTorch → tapegrad: forward pass", outputs["before"], torch_before)

    train(model, 3)  # what PyTorch would have done with the same three steps
    run(sys.executable, os.path.join(tools, "safetensors_to_torch.py"),
        path("continued.safetensors"), path("continued.pt"))
    back = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    back.load_state_dict(torch.load(path("continued.pt"), weights_only=True), strict=True)
    back.eval()
    model.eval()
    with torch.no_grad():
        close("tapegrad → PyTorch: forward pass", back(x).numpy(), outputs["after"])
        close("three SGD steps in tapegrad vs in PyTorch", back(x).numpy(), model(x).numpy())
    for name, tensor in back.state_dict().items():
        expected = model.state_dict()[name]
        if tensor.dtype == torch.int64:
            assert torch.equal(tensor, expected), name
        else:
            close(f"  {name} after training", tensor.numpy(), expected.numpy())
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
