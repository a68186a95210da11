"""A tiny safetensors reader/writer (F32 and F64 only), the subset BlurVae's Io/SafeTensors.cs writes.

Format: an 8-byte little-endian unsigned header length, a UTF-8 JSON header
{name: {"dtype": "F32"|"F64", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian tensor bytes (offsets relative to the end of the header).
"""
import json
import struct

import torch

_DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8)}
_NAMES = {torch.float32: "F32", torch.float64: "F64"}


def read(path):
    """Returns (tensors: dict name -> CPU tensor, metadata: dict str -> str). Errors name the file and tensor."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: truncated, {len(data)} bytes, not even the header length")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise ValueError(f"{path}: header length {header_len} exceeds the {len(data) - 8} bytes after it")
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: the header is not valid JSON ({e})") from e
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the header is not a JSON object")
    body = data[8 + header_len:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, entry in header.items():
        dtype_name = entry.get("dtype")
        if dtype_name not in _DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has dtype {dtype_name}; only F32 and F64 are supported")
        dtype, size = _DTYPES[dtype_name]
        shape = [int(d) for d in entry["shape"]]
        begin, end = (int(o) for o in entry["data_offsets"])
        count = 1
        for d in shape:
            count *= d
        if begin < 0 or end < begin or end > len(body) or end - begin != count * size:
            raise ValueError(f"{path}: tensor '{name}' of shape {shape} has bad data_offsets [{begin}, {end}) "
                             f"(data section {len(body)} bytes)")
        raw = bytearray(body[begin:end])  # a writable copy: frombuffer warns on read-only memory
        t = torch.frombuffer(raw, dtype=dtype) if count > 0 else torch.empty(0, dtype=dtype)
        # frombuffer reads native byte order; every machine torch runs on here is little-endian.
        tensors[name] = t.reshape(shape).clone()
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes name -> tensor (F32 or F64, moved to the CPU) in insertion order, with optional string metadata."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        if t.dtype not in _NAMES:
            raise ValueError(f"tensor '{name}' has dtype {t.dtype}; only float32 and float64 can be written")
        blob = t.numpy().tobytes() if _has_numpy() else _to_bytes(t)
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((8 - len(encoded) % 8) % 8)  # align the data to 8 bytes, as SafeTensors.cs does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def _has_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


def _to_bytes(t):
    # Without numpy: view the tensor's storage as bytes (torch.uint8 reinterpretation of the same memory).
    return bytes(t.reshape(-1).view(torch.uint8).tolist()) if t.numel() else b""
