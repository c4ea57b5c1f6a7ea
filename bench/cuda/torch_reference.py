"""bench/cuda/torch_reference.py — the reference model's training step in PyTorch on the GPU (the peer that
bench/cuda/cuda_train_bench.cpp is compared with). FP32 throughout: TF32 is switched off for matmuls and cuDNN,
as our default GEMM is exact FP32. Writes samples/s at batch 32 and 256 as JSON."""
import json
import sys
import time

import torch
from torch import nn


class Reference(nn.Module):
    """Embedding(1000, 128) -> Conv1D(128, 3, relu) -> MaxPool1D(2) -> LSTM(128) -> Dense(1, sigmoid), channels-last input."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 128)
        self.conv = nn.Conv1d(128, 128, 3)
        self.pool = nn.MaxPool1d(2)
        self.lstm = nn.LSTM(128, 128, batch_first=True)
        self.dense = nn.Linear(128, 1)

    def forward(self, ids):
        x = self.emb(ids).transpose(1, 2)          # (B, C, T) for Conv1d
        x = self.pool(torch.relu(self.conv(x))).transpose(1, 2)
        _, (h, _) = self.lstm(x)
        return torch.sigmoid(self.dense(h[-1]))


def samples_per_second(batch, seconds=2.0):
    torch.manual_seed(1)
    dev = torch.device("cuda")
    model = Reference().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCELoss()
    ids = torch.randint(0, 1000, (batch, 100), device=dev)
    labels = torch.randint(0, 2, (batch, 1), device=dev).float()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(ids), labels)
        loss.backward()
        opt.step()
        return loss.item()  # a training loop reads the loss every step, as ours does

    for _ in range(5):
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps * batch / (time.perf_counter() - start)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "torch.json"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    result = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "cudnn": torch.backends.cudnn.version()}
    for batch in (32, 256):
        result[f"samples_per_second_b{batch}"] = samples_per_second(batch)
        print(f"pytorch reference model, batch {batch}: {result[f'samples_per_second_b{batch}']:.0f} samples/s", flush=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
