#!/usr/bin/python3
"""Reads a safetensors file written by write_sample.cpp with nothing but the standard library
and numpy, and checks names, dtypes, shapes, values and the CRC-32 tapegrad records.
Exits 77 (CTest's "skipped") when numpy is missing."""
import json
import struct
import sys
import zlib

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipped")
    sys.exit(77)

EXPECTED = {"0.weight": [3, 4], "0.bias": [3], "2.weight": [2, 3], "2.bias": [2]}


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
    return dict(pairs)


def main(path):
    raw = open(path, "rb").read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size], object_pairs_hook=no_duplicates)
    data = raw[8 + size:]
    metadata = header.pop("__metadata__")
    assert metadata["crc32"] == "%08x" % zlib.crc32(data), "CRC-32 mismatch"
    assert set(header) == set(EXPECTED), f"names {sorted(header)}"
    end = 0
    for p, name in enumerate(EXPECTED):  # named_parameters() order
        entry = header[name]
        assert entry["dtype"] == "F32", entry
        assert entry["shape"] == EXPECTED[name], entry
        begin, stop = entry["data_offsets"]
        values = np.frombuffer(data[begin:stop], dtype="<f4").reshape(entry["shape"])
        expected = (p + 1) / 2 + np.arange(values.size, dtype=np.float32).reshape(values.shape) / 8
        assert np.array_equal(values, expected), f"{name}: {values} != {expected}"
        end = max(end, stop)
    assert end == len(data), "data section has trailing bytes"
    print(f"{path}: {len(header)} tensors, names, shapes, values and CRC-32 as expected")


if __name__ == "__main__":
    main(sys.argv[1])
