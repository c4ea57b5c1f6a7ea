#!/usr/bin/python3
"""tests/golden/model_fixtures.py — 5 Adam steps of the whole reference model in PyTorch, run by hand.

The reference model (DESIGN.md section 2) in recsys:
    Sequential(Embedding(1000, 128), Conv1D(128, 128, 3, relu), MaxPool1D(2), LSTM(128, 128), Dense(128, 1, sigmoid))
is rebuilt here from torch.nn layers. Initial weights are drawn in recsys's (Keras) layout and converted:
    Embedding  embeddings (V, D)                  -> nn.Embedding.weight (same)
    Conv1D     kernel (K, C, F), bias (F)         -> nn.Conv1d.weight (F, C, K) = kernel.permute(2, 1, 0); input (B, C, T)
    LSTM       kernel (I, 4H), recurrent (H, 4H)  -> weight_ih_l0 = kernel^T, weight_hh_l0 = recurrent^T (gates i, f, g, o)
               bias (4H)                          -> bias_ih_l0 = bias, bias_hh_l0 = 0
    Dense      kernel (in, out), bias (out)       -> nn.Linear.weight = kernel^T
The loss is binary cross-entropy of probabilities clipped to [1e-7, 1 - 1e-7] (Keras's rule, as recsys does);
the optimizer is torch.optim.Adam(lr=1e-3) with PyTorch's defaults. Torch runs in float64 on the float32
initial weights, so the fixture is the exact answer that a float32 run must approach and a float64 run match.

Writes tests/golden/fixtures/model/adam_5steps.safetensors (read by tests/train/golden_model_test.cpp):
    init.<name>   float32 initial weights, recsys names ("0.embeddings", "1.kernel", ...) and layouts
    x             int64 token ids (B, T);  y  float32 labels (B, 1)
    losses        float64 (5,): the loss computed before each step
    final.<name>  float32 weights after the 5 steps (rounded from float64)
Run:  /usr/bin/python3 tests/golden/model_fixtures.py     (needs torch and numpy; writes the format itself)
"""
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "model")
VOCAB, DIM, FILTERS, KSIZE, HIDDEN = 1000, 128, 128, 3, 128
BATCH, LENGTH, STEPS, LR, EPS = 8, 20, 5, 1e-3, 1e-7


def write_safetensors(path, tensors, metadata):
    """The safetensors format: u64 little-endian header length, JSON header, raw little-endian data."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad so the data section is 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def initial_weights(g):
    """Keras-like initial values in recsys layout, as float32 (biases non-zero so their gradients are tested)."""
    def uniform(shape, limit):
        return ((torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * limit).float()

    glorot = lambda fan_in, fan_out: (6.0 / (fan_in + fan_out)) ** 0.5
    lstm_bias = uniform((4 * HIDDEN,), 0.1)
    lstm_bias[HIDDEN:2 * HIDDEN] += 1.0  # unit forget bias
    return {
        "0.embeddings": uniform((VOCAB, DIM), 0.05),
        "1.kernel": uniform((KSIZE, DIM, FILTERS), glorot(KSIZE * DIM, KSIZE * FILTERS)),
        "1.bias": uniform((FILTERS,), 0.1),
        "3.kernel": uniform((FILTERS, 4 * HIDDEN), glorot(FILTERS, 4 * HIDDEN)),
        "3.recurrent_kernel": uniform((HIDDEN, 4 * HIDDEN), glorot(HIDDEN, 4 * HIDDEN)),
        "3.bias": lstm_bias,
        "4.kernel": uniform((HIDDEN, 1), glorot(HIDDEN, 1)),
        "4.bias": uniform((1,), 0.1),
    }


class Reference(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, DIM)
        self.conv = torch.nn.Conv1d(DIM, FILTERS, KSIZE)
        self.pool = torch.nn.MaxPool1d(2)
        self.lstm = torch.nn.LSTM(FILTERS, HIDDEN, batch_first=True)
        self.dense = torch.nn.Linear(HIDDEN, 1)
        self.double()
        with torch.no_grad():
            d = {k: v.double() for k, v in w.items()}
            self.embedding.weight.copy_(d["0.embeddings"])
            self.conv.weight.copy_(d["1.kernel"].permute(2, 1, 0))
            self.conv.bias.copy_(d["1.bias"])
            self.lstm.weight_ih_l0.copy_(d["3.kernel"].t())
            self.lstm.weight_hh_l0.copy_(d["3.recurrent_kernel"].t())
            self.lstm.bias_ih_l0.copy_(d["3.bias"])
            self.lstm.bias_hh_l0.zero_()
            self.dense.weight.copy_(d["4.kernel"].t())
            self.dense.bias.copy_(d["4.bias"])
        self.lstm.bias_hh_l0.requires_grad_(False)  # recsys has one LSTM bias; this one stays zero

    def forward(self, ids):
        e = self.embedding(ids)                                # (B, T, C)
        h = torch.relu(self.conv(e.transpose(1, 2)))           # (B, F, T - K + 1)
        h = self.pool(h).transpose(1, 2)                       # (B, (T - K + 1) // 2, F)
        _, (h_n, _) = self.lstm(h)
        return torch.sigmoid(self.dense(h_n[-1]))              # (B, 1)

    def recsys_weights(self):
        """The current weights back in recsys names and layouts."""
        return {
            "0.embeddings": self.embedding.weight,
            "1.kernel": self.conv.weight.permute(2, 1, 0),
            "1.bias": self.conv.bias,
            "3.kernel": self.lstm.weight_ih_l0.t(),
            "3.recurrent_kernel": self.lstm.weight_hh_l0.t(),
            "3.bias": self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0,
            "4.kernel": self.dense.weight.t(),
            "4.bias": self.dense.bias,
        }


def main():
    g = torch.Generator().manual_seed(20240611)
    init = initial_weights(g)
    x = torch.randint(0, VOCAB, (BATCH, LENGTH), generator=g, dtype=torch.int64)
    y = torch.tensor([[1.0], [0.0]] * (BATCH // 2), dtype=torch.float32)

    model = Reference(init)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=LR, foreach=False)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        p = model(x)
        loss = torch.nn.functional.binary_cross_entropy(p.clamp(EPS, 1 - EPS), y.double())
        loss.backward()
        opt.step()
        losses.append(loss.item())

    out = {"init." + k: v.numpy() for k, v in init.items()}
    out["x"] = x.numpy()
    out["y"] = y.numpy()
    out["losses"] = np.array(losses, dtype=np.float64)
    with torch.no_grad():
        out.update({"final." + k: v.detach().float().numpy() for k, v in model.recsys_weights().items()})
    meta = {"steps": str(STEPS), "lr": repr(LR), "optimizer": "Adam", "loss": "binary_crossentropy",
            "torch": torch.__version__}
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "adam_5steps.safetensors")
    write_safetensors(path, out, meta)
    print(f"wrote {path}: losses {', '.join(f'{v:.9f}' for v in losses)}")


if __name__ == "__main__":
    main()
