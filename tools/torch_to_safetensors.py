#!/usr/bin/python3
"""Converts a PyTorch state_dict file into a safetensors file that tapegrad's tg::load reads.

Needs the Python standard library, numpy and torch (1.13 or later).
"""
import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_format  # noqa: E402

SECURITY = """\
security: a .pt file is a pickle, and unpickling can run arbitrary code. This tool reads it
with torch.load(weights_only=True) (torch 1.13's restricted unpickler: tensors, dicts, lists,
numbers and strings only), which refuses any other object instead of running it; there is no
option to turn that off. Even so, convert files only from sources you trust: the restricted
unpickler is a mitigation, not a proof."""

# The dtypes tapegrad reads (Float32, Float64, Int64, Bool).
TAPEGRAD_DTYPES = {"torch.float32", "torch.float64", "torch.int64", "torch.bool"}


def fail(message):
    sys.exit(f"torch_to_safetensors: {message}")


def load_state_dict(path, key):
    import torch
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        fail(f"'{path}': no such file")
    except Exception as e:  # torch raises many kinds (pickle, zip, EOF, Runtime)
        fail(f"'{path}': not a state_dict that torch.load(weights_only=True) can read: "
             f"{type(e).__name__}: {e}")
    for part in key.split(".") if key else []:
        if not isinstance(obj, dict) or part not in obj:
            fail(f"'{path}': has no entry '{part}' (of --key {key}); its keys are "
                 f"{sorted(obj) if isinstance(obj, dict) else type(obj).__name__}")
        obj = obj[part]
    if not isinstance(obj, dict):
        fail(f"'{path}': holds a {type(obj).__name__}, not a state_dict (a dict of tensors); "
             f"use --key for a checkpoint that nests one")
    state = collections.OrderedDict()
    for name, value in obj.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            fail(f"'{path}': entry {name!r} is a {type(value).__name__}, not a tensor; use --key "
                 f"to pick the state_dict inside a checkpoint")
        if str(value.dtype) not in TAPEGRAD_DTYPES:
            fail(f"'{path}': tensor '{name}' is {value.dtype}, which tapegrad does not read "
                 f"(float32, float64, int64, bool); pass --float32 to convert floating tensors")
        state[name] = value
    return state


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=SECURITY, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="a file written by torch.save(model.state_dict(), path)")
    parser.add_argument("output", help="the safetensors file to write (atomically)")
    parser.add_argument("--key", default="",
                        help="dotted path of the state_dict inside a checkpoint dict, e.g. 'model'")
    parser.add_argument("--float32", action="store_true",
                        help="convert every floating tensor (float16, bfloat16, float64) to float32")
    args = parser.parse_args()
    import torch
    if args.float32:
        TAPEGRAD_DTYPES.update({"torch.float16", "torch.bfloat16"})
    state = load_state_dict(args.input, args.key)
    arrays = collections.OrderedDict()
    for name, tensor in state.items():
        tensor = tensor.detach().cpu().contiguous()
        if args.float32 and tensor.is_floating_point():
            tensor = tensor.to(torch.float32)
        arrays[name] = tensor.numpy()
    safetensors_format.write(args.output, arrays, {"format": "pt", "source": os.path.basename(args.input)})
    print(f"{args.output}: {len(arrays)} tensors")


if __name__ == "__main__":
    main()
