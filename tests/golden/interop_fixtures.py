#!/usr/bin/env python3
"""tests/golden/interop_fixtures.py — a reference network trained-by-nobody in PyTorch, saved as PyTorch saves it.

The reference network (DESIGN.md section 2; the same torch.nn layers as model_fixtures.py's Reference, at a
small size) with PyTorch's own initialization, its state_dict written by safetensors.torch.save_file, and
its outputs on a fixed input. tests/nn/torch_interop_test.cpp loads the file into recsys's network in one
call (nn::load_weights with WeightLayout::pytorch) and must reproduce the outputs.

Submodule names are the defaults WeightLayout::pytorch uses: embedding, conv, lstm, fc. bias_hh_l0 is not
zero (PyTorch draws both LSTM biases), so the C++ side must add the two biases.

Writes tests/golden/fixtures/interop/:
    reference_f32.safetensors   the float32 state_dict (safetensors.torch.save_file)
    reference_f64.safetensors   the same weights in float64 (for load_weights' convert_dtype)
    reference_io.safetensors    x int64 (B, T) token ids; y float32 (B, 1) the float32 model's outputs;
                                y64 float64 (B, 1) the float64 model's outputs
Run:  build/peers-venv/bin/python tests/golden/interop_fixtures.py   (needs torch and safetensors)
"""
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "interop")
VOCAB, DIM, FILTERS, KSIZE, POOL, HIDDEN = 50, 8, 6, 3, 2, 5
BATCH, LENGTH = 4, 12


class Reference(torch.nn.Module):
    """Embedding -> Conv1d(relu) -> MaxPool1d -> LSTM (last hidden state) -> Linear -> sigmoid."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, DIM, padding_idx=0)  # id 0 pads, as in recsys
        self.conv = torch.nn.Conv1d(DIM, FILTERS, KSIZE)
        self.pool = torch.nn.MaxPool1d(POOL)
        self.lstm = torch.nn.LSTM(FILTERS, HIDDEN, batch_first=True)
        self.fc = torch.nn.Linear(HIDDEN, 1)

    def forward(self, ids):
        e = self.embedding(ids)                          # (B, T, C)
        h = torch.relu(self.conv(e.transpose(1, 2)))     # (B, F, T - K + 1)
        h = self.pool(h).transpose(1, 2)                 # (B, (T - K + 1) // 2, F)
        _, (h_n, _) = self.lstm(h)
        return torch.sigmoid(self.fc(h_n[-1]))           # (B, 1)


def main():
    torch.manual_seed(20261203)
    model = Reference().eval()
    x = torch.randint(1, VOCAB, (BATCH, LENGTH), dtype=torch.int64)
    x[0, :3] = 0  # padding ids at the start of one row, as padded reviews have
    os.makedirs(OUT, exist_ok=True)
    with torch.no_grad():
        y = model(x)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                  os.path.join(OUT, "reference_f32.safetensors"), metadata={"format": "pt"})
        model64 = Reference().double().eval()
        model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        y64 = model64(x)
        save_file({k: v.contiguous() for k, v in model64.state_dict().items()},
                  os.path.join(OUT, "reference_f64.safetensors"), metadata={"format": "pt"})
    save_file({"x": x, "y": y.contiguous(), "y64": y64.contiguous()}, os.path.join(OUT, "reference_io.safetensors"))
    print("y =", y.flatten().tolist())


if __name__ == "__main__":
    main()
