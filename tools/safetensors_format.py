"""Reading and writing safetensors files with the Python standard library and numpy only.

The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
N, N bytes of JSON mapping each tensor's name to {"dtype", "shape", "data_offsets": [begin,
end]} (offsets into the data section, which follows the header) plus an optional
string-to-string "__metadata__", then the data: each tensor's bytes, little-endian, row-major.

Everything read is checked before use; a malformed file raises SafetensorsError naming the file
and the problem.
"""
import json
import os
import struct
import tempfile
import zlib

import numpy as np

# safetensors dtype names ↔ little-endian numpy dtypes (those tapegrad and PyTorch share).
DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
    "I8": "i1", "U8": "u1", "BOOL": "?",
}
NAMES = {np.dtype(v).newbyteorder("<"): k for k, v in DTYPES.items()}
MAX_HEADER_BYTES = 100_000_000  # as the reference implementation


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file."""


def _unique_keys(path):
    def hook(pairs):
        keys = [k for k, _ in pairs]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise SafetensorsError(f"{path}: the header names {duplicates[0]!r} twice")
        return dict(pairs)
    return hook


def _entry(path, name, entry, data_size):
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(
            f"{path}: tensor {name!r}: expected exactly dtype, shape and data_offsets, "
            f"got {entry!r}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise SafetensorsError(f"{path}: tensor {name!r}: unknown or unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise SafetensorsError(f"{path}: tensor {name!r}: shape {shape!r} is not a list of sizes")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(
            isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size):
        raise SafetensorsError(
            f"{path}: tensor {name!r}: data_offsets {offsets!r} do not lie within the "
            f"{data_size} bytes of data")
    expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(DTYPES[dtype]).itemsize
    if offsets[1] - offsets[0] != expected:
        raise SafetensorsError(
            f"{path}: tensor {name!r}: {offsets[1] - offsets[0]} bytes of data for a {dtype} "
            f"tensor of shape {shape}, which needs {expected}")
    return dtype, shape, offsets


def read(path):
    """Returns ({name: numpy array} in file order, metadata dict) or raises SafetensorsError."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise SafetensorsError(f"{path}: cannot read: {e.strerror}") from None
    if len(raw) < 8:
        raise SafetensorsError(f"{path}: {len(raw)} bytes is too short for a safetensors header")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > MAX_HEADER_BYTES or 8 + size > len(raw):
        raise SafetensorsError(
            f"{path}: the header claims {size} bytes but the file has {len(raw) - 8} after "
            f"the length")
    try:
        header = json.loads(raw[8:8 + size].decode("utf-8"), object_pairs_hook=_unique_keys(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: the header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: the header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise SafetensorsError(f"{path}: __metadata__ is not a string-to-string object")
    data = raw[8 + size:]
    entries = sorted(((_entry(path, name, e, len(data)), name) for name, e in header.items()),
                     key=lambda item: item[0][2])
    end = 0
    tensors = {}
    for (dtype, shape, (begin, stop)), name in entries:
        if begin < end:
            raise SafetensorsError(f"{path}: tensor {name!r} overlaps the tensor before it")
        array = np.frombuffer(data[begin:stop], dtype=DTYPES[dtype]).reshape(shape)
        tensors[name] = array.copy()
        end = stop
    if end != len(data):
        raise SafetensorsError(f"{path}: {len(data) - end} bytes after the last tensor")
    if "crc32" in metadata and metadata["crc32"] != "%08x" % zlib.crc32(data):
        raise SafetensorsError(f"{path}: the data does not match its CRC-32 {metadata['crc32']}")
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes {name: numpy array} (in order) to path, with a "crc32" of the data in the metadata
    (which tapegrad's loader then checks)."""
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.asarray(array)  # (ascontiguousarray would make a 0-d array 1-d)
        key = array.dtype.newbyteorder("<")
        if key not in NAMES:
            raise SafetensorsError(f"{path}: tensor {name!r} has dtype {array.dtype}, which "
                                   f"safetensors does not hold here")
        chunk = array.astype(key, copy=False).tobytes(order="C")
        header[name] = {"dtype": NAMES[key], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(chunk)]}
        chunks.append(chunk)
        offset += len(chunk)
    data = b"".join(chunks)
    header["__metadata__"] = dict(metadata or {}, crc32="%08x" % zlib.crc32(data))
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned
    write_atomically(path, struct.pack("<Q", len(text)) + text + data)


def write_atomically(path, data):
    """Writes data to a temporary file next to path and renames it over path, so that path never
    holds a partial file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
