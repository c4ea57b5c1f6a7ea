#!/usr/bin/python3
"""tests/golden/ops_fixtures.py — golden values for embedding, conv1d, maxpool1d (from PyTorch) and dropout, run by hand.

Writes tests/golden/fixtures/ops/<op>_<case>.safetensors, read by tests/ops/<op>_test.cpp. Each file
holds float32 inputs in recsys's layout, an upstream gradient `grad_output`, and what PyTorch computes in
float64 from exactly those inputs: `expected_output` and `expected_<input>_grad` for every differentiable
input. Scalar settings (stride, padding, padding_idx, ...) are strings in the header's __metadata__.

Layouts: recsys is channels-last with Keras weights. torch's conv1d takes (B, C, T) input and an (F, C, K)
weight, and max_pool1d (B, C, T): the script transposes into torch and back. conv1d "same" padding follows
TensorFlow (T_out = ceil(T / s), total = max((T_out - 1) s + K - T, 0), left = total // 2); for stride 1
torch's own padding="same" is used instead, an independent check of the same rule.

dropout has no PyTorch counterpart (the random streams differ): its fixture is the documented mask,
keep(i) = philox_uniform<float>(seed, first_block, i) >= float32(rate), recomputed here from a
from-scratch Philox-4x32-10 so that the C++ (and CUDA) mask is checked against a second implementation.

Run:  /usr/bin/python3 tests/golden/ops_fixtures.py     (needs torch and numpy; writes the format itself)
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "ops")
CODES = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}


def write_safetensors(path, tensors, metadata):
    """The safetensors format: u64 little-endian header length, JSON header, raw little-endian data."""
    header, blobs, offset = {"__metadata__": {k: str(v) for k, v in metadata.items()}}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": CODES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad so the data section is 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def numpy_dict(t):
    return {k: v.detach().numpy() for k, v in t.items()}


def f32_randn(g, *shape):
    """float32 values held in a float64 tensor: torch then computes in float64 on exactly our inputs."""
    return torch.randn(*shape, generator=g, dtype=torch.float64).float().double()


def embedding_case(g, vocab, dim, ids_shape, padding_idx):
    weight = f32_randn(g, vocab, dim).requires_grad_()
    ids = torch.randint(0, vocab, ids_shape, generator=g)
    if padding_idx >= 0:
        ids.view(-1)[::3] = padding_idx  # padded sequences: the padding id is frequent
    out = F.embedding(ids, weight, padding_idx=None if padding_idx < 0 else padding_idx)
    grad_output = f32_randn(g, *out.shape)
    out.backward(grad_output)
    t = {"weight": weight.float(), "ids": ids, "grad_output": grad_output.float(),
         "expected_output": out, "expected_weight_grad": weight.grad}
    return numpy_dict(t), {"padding_idx": padding_idx}


def conv1d_case(g, B, T, C, K, Fi, stride, padding, with_bias):
    x = f32_randn(g, B, T, C).requires_grad_()
    w = (f32_randn(g, K, C, Fi) * 0.5).float().double().requires_grad_()
    b = f32_randn(g, Fi).requires_grad_() if with_bias else None
    xt, wt = x.transpose(1, 2), w.permute(2, 1, 0)  # (B, C, T) and (F, C, K)
    if padding == "same" and stride == 1:
        y = F.conv1d(xt, wt, b, stride=1, padding="same")
    elif padding == "same":
        t_out = -(-T // stride)
        total = max((t_out - 1) * stride + K - T, 0)
        y = F.conv1d(F.pad(xt, (total // 2, total - total // 2)), wt, b, stride=stride)
    else:
        y = F.conv1d(xt, wt, b, stride=stride)
    out = y.transpose(1, 2)  # back to (B, T_out, F)
    grad_output = f32_randn(g, *out.shape)
    out.backward(grad_output)
    t = {"x": x.float(), "weight": w.float(), "grad_output": grad_output.float(), "expected_output": out,
         "expected_x_grad": x.grad, "expected_weight_grad": w.grad}
    if with_bias:
        t["bias"], t["expected_bias_grad"] = b.float(), b.grad
    return numpy_dict(t), {"stride": stride, "padding": padding}


def maxpool1d_case(g, B, T, C, pool, stride):
    x = f32_randn(g, B, T, C).requires_grad_()
    out = F.max_pool1d(x.transpose(1, 2), pool, stride).transpose(1, 2)
    grad_output = f32_randn(g, *out.shape)
    out.backward(grad_output)
    t = {"x": x.float(), "grad_output": grad_output.float(), "expected_output": out, "expected_x_grad": x.grad}
    return numpy_dict(t), {"pool_size": pool, "stride": stride}


def philox4x32(ctr, key):
    """Philox-4x32-10 (Salmon et al., SC'11) on Python ints, as in recsys/core/random.hpp."""
    M = 0xFFFFFFFF
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & M, (p0 >> 32) ^ c3 ^ k1, p0 & M
        k0, k1 = (k0 + 0x9E3779B9) & M, (k1 + 0xBB67AE85) & M
    return c0, c1, c2, c3


def dropout_case(g, shape, rate, seed, first_block):
    x = f32_randn(g, *shape).float().numpy()
    n = x.size
    words = []
    for block in range(first_block, first_block + (n + 3) // 4):
        words += philox4x32((block & 0xFFFFFFFF, block >> 32, 0, 0), (seed & 0xFFFFFFFF, seed >> 32))
    u = np.array([(w >> 8) * 2.0 ** -24 for w in words[:n]], dtype=np.float32)
    keep = (u >= np.float32(rate)).reshape(shape)
    scale = 1.0 / (1.0 - rate)
    grad_output = f32_randn(g, *shape).float().numpy()
    t = {"x": x, "grad_output": grad_output,
         "expected_output": np.where(keep, x.astype(np.float64) * scale, 0.0),
         "expected_x_grad": np.where(keep, grad_output.astype(np.float64) * scale, 0.0)}
    return t, {"rate": repr(rate), "seed": seed, "first_block": first_block}


CASES = {
    "embedding_basic": lambda g: embedding_case(g, 10, 4, (3, 5), -1),
    "embedding_padding": lambda g: embedding_case(g, 12, 6, (4, 7), 0),
    "conv1d_valid": lambda g: conv1d_case(g, 2, 10, 3, 3, 4, 1, "valid", True),
    "conv1d_valid_stride3": lambda g: conv1d_case(g, 3, 13, 2, 2, 3, 3, "valid", True),
    "conv1d_same": lambda g: conv1d_case(g, 2, 7, 3, 4, 2, 1, "same", False),
    "conv1d_same_stride2": lambda g: conv1d_case(g, 2, 11, 3, 4, 5, 2, "same", True),
    "maxpool1d_basic": lambda g: maxpool1d_case(g, 2, 9, 3, 2, 2),
    "maxpool1d_overlap": lambda g: maxpool1d_case(g, 2, 10, 4, 3, 1),
    "maxpool1d_stride3": lambda g: maxpool1d_case(g, 3, 11, 2, 2, 3),
    "dropout_mask": lambda g: dropout_case(g, (5, 37), 0.3, 0x1234ABCD5678EF01, 7),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for seed, (name, make) in enumerate(CASES.items()):
        g = torch.Generator().manual_seed(200 + seed)
        tensors, metadata = make(g)
        path = os.path.join(OUT, f"{name}.safetensors")
        write_safetensors(path, tensors, metadata)
        print(f"wrote {os.path.relpath(path, HERE)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
