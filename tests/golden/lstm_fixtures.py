#!/usr/bin/python3
"""tests/golden/lstm_fixtures.py — golden values for recsys::lstm from torch.nn.LSTM, run by hand.

Writes tests/golden/fixtures/ops/lstm_<case>.safetensors, read by tests/ops/lstm_test.cpp. Each file holds
the float32 inputs in recsys's layout (x (B,T,I), w_ih (I,4H), w_hh (H,4H), bias (4H), h0, c0 (B,H)),
upstream gradients for output / h / c, and what torch.nn.LSTM computes from exactly those inputs in
float64: output, h, c and the gradients of every input. Absent optional tensors mean "not passed"
(no bias: an LSTM built with bias=False; no h0/c0: zeros; no grad_h: the loss does not use h).

Conventions: PyTorch's weight_ih_l0 is (4H, I) = our w_ihᵀ, same gate order (i, f, g, o); its
b_ih + b_hh is our single bias, so we give torch the bias as b_ih and zeros as b_hh.

Run:  /usr/bin/python3 tests/golden/lstm_fixtures.py     (needs torch; writes the format itself)
"""
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "ops")

CASES = {
    # name: (B, T, I, H, bias, initial state, upstream gradients for (output, h, c))
    "small": (3, 5, 4, 6, True, True, (True, True, True)),
    "noinit": (2, 3, 5, 3, False, False, (True, False, False)),
    "long": (2, 49, 16, 32, True, False, (True, True, False)),
}


def write_safetensors(path, tensors):
    """The safetensors format: u64 little-endian header length, JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        code = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}[arr.dtype]
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad so the data section is 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def make_case(seed, B, T, I, H, with_bias, with_state, grads):
    g = torch.Generator().manual_seed(seed)
    scale = 1.0 / np.sqrt(H)

    def rand(*shape, s=1.0):
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * s

    f32 = lambda t: t.float()  # inputs are float32 values; torch then runs in float64 on exactly those
    x = f32(torch.randn(B, T, I, generator=g, dtype=torch.float64))
    w_ih = f32(rand(I, 4 * H, s=scale))
    w_hh = f32(rand(H, 4 * H, s=scale))
    bias = f32(rand(4 * H, s=scale)) if with_bias else None
    h0 = f32(rand(B, H)) if with_state else None
    c0 = f32(rand(B, H)) if with_state else None
    ups = [f32(torch.randn(*shape, generator=g, dtype=torch.float64)) if use else None
           for use, shape in zip(grads, [(B, T, H), (B, H), (B, H)])]

    lstm = torch.nn.LSTM(I, H, batch_first=True, bias=with_bias).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(w_ih.double().t())
        lstm.weight_hh_l0.copy_(w_hh.double().t())
        if with_bias:
            lstm.bias_ih_l0.copy_(bias.double())
            lstm.bias_hh_l0.zero_()
    xd = x.double().requires_grad_()
    if with_state:
        h0d, c0d = h0.double().unsqueeze(0).requires_grad_(), c0.double().unsqueeze(0).requires_grad_()
        out, (hn, cn) = lstm(xd, (h0d, c0d))
    else:
        out, (hn, cn) = lstm(xd)
    hn, cn = hn[0], cn[0]
    loss = sum((o * u.double()).sum() for o, u in zip((out, hn, cn), ups) if u is not None)
    loss.backward()

    t = {"x": x, "w_ih": w_ih, "w_hh": w_hh}
    if with_bias:
        t["bias"] = bias
    if with_state:
        t["h0"], t["c0"] = h0, c0
    for name, u in zip(("grad_output", "grad_h", "grad_c"), ups):
        if u is not None:
            t[name] = u
    t["expected_output"], t["expected_h"], t["expected_c"] = out.detach(), hn.detach(), cn.detach()
    t["expected_x_grad"] = xd.grad
    t["expected_w_ih_grad"] = lstm.weight_ih_l0.grad.t()
    t["expected_w_hh_grad"] = lstm.weight_hh_l0.grad.t()
    if with_bias:
        t["expected_bias_grad"] = lstm.bias_ih_l0.grad
    if with_state:
        t["expected_h0_grad"], t["expected_c0_grad"] = h0d.grad[0], c0d.grad[0]
    return {k: v.detach().numpy() for k, v in t.items()}


def main():
    os.makedirs(OUT, exist_ok=True)
    for seed, (name, spec) in enumerate(CASES.items()):
        path = os.path.join(OUT, f"lstm_{name}.safetensors")
        write_safetensors(path, make_case(100 + seed, *spec))
        print(f"wrote {os.path.relpath(path, HERE)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
