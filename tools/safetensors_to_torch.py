#!/usr/bin/python3
"""Converts a safetensors file (tg::save's, or any) into a PyTorch state_dict file that
model.load_state_dict(torch.load(path)) reads.

Needs the Python standard library, numpy and torch. The safetensors file is parsed here, by
hand, and every size and offset in it is checked before use: it is data, never code, so a
file from anywhere is safe to convert (a malformed one is an error naming the problem).
"""
import argparse
import collections
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_format  # noqa: E402

SECURITY = """\
security: reading the safetensors input runs no code. The output is a pickle (what torch.save
writes); load it with torch.load(path, weights_only=True)."""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=SECURITY, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="a safetensors file, e.g. written by tg::save")
    parser.add_argument("output", help="the .pt file to write (atomically)")
    args = parser.parse_args()
    try:
        arrays, _ = safetensors_format.read(args.input)
    except safetensors_format.SafetensorsError as e:
        sys.exit(f"safetensors_to_torch: {e}")
    import torch
    state = collections.OrderedDict((name, torch.from_numpy(array)) for name, array in arrays.items())
    buffer = io.BytesIO()
    torch.save(state, buffer)
    safetensors_format.write_atomically(args.output, buffer.getvalue())
    print(f"{args.output}: {len(state)} tensors")


if __name__ == "__main__":
    main()
