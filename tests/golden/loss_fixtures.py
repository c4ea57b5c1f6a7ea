#!/usr/bin/python3
"""tests/golden/loss_fixtures.py — golden values for mse_loss, binary_cross_entropy and BCE-with-logits, gradients to both input and target, from PyTorch; run by hand.

Writes tests/golden/fixtures/ops/loss_<op>_<reduction>.safetensors, read by tests/ops/loss_target_test.cpp.
Each file holds float64 `input` and `target` (the target is not 0/1: it requires grad, as a soft label or
a learned value would), an upstream gradient `grad_output` (a scalar for mean and sum, elementwise for
none), and what PyTorch computes in float64: `expected_output`, `expected_input_grad`,
`expected_target_grad`. Probabilities stay inside [0.05, 0.95], away from recsys's Keras-style clip at
1e-7 (PyTorch clamps the logarithm at -100 instead; the two agree inside).

Run:  build/peers-venv/bin/python tests/golden/loss_fixtures.py   (needs torch and numpy)
"""
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ops_fixtures import write_safetensors  # noqa: E402  (the same writer as the other op fixtures)

OUT = os.path.join(HERE, "fixtures", "ops")

OPS = {
    "mse": lambda x, t, r: F.mse_loss(x, t, reduction=r),
    "bce": lambda x, t, r: F.binary_cross_entropy(x, t, reduction=r),
    "bce_logits": lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r),
}


def case(g, op, reduction, shape=(3, 5)):
    if op == "bce":
        x = 0.05 + 0.9 * torch.rand(*shape, generator=g, dtype=torch.float64)
    else:
        x = 2.0 * torch.randn(*shape, generator=g, dtype=torch.float64)
    t = torch.rand(*shape, generator=g, dtype=torch.float64)
    if op == "mse":
        t = 3.0 * t - 1.0
    x.requires_grad_(True)
    t.requires_grad_(True)
    y = OPS[op](x, t, reduction)
    if reduction == "none":
        go = torch.randn(*shape, generator=g, dtype=torch.float64)
    else:
        go = torch.tensor(1.7, dtype=torch.float64)
    y.backward(go)
    return {"input": x.detach().numpy(), "target": t.detach().numpy(), "grad_output": go.numpy(),
            "expected_output": y.detach().numpy(), "expected_input_grad": x.grad.numpy(),
            "expected_target_grad": t.grad.numpy()}


def main():
    os.makedirs(OUT, exist_ok=True)
    seed = 700
    for op in OPS:
        for reduction in ("mean", "sum", "none"):
            g = torch.Generator().manual_seed(seed)
            seed += 1
            path = os.path.join(OUT, f"loss_{op}_{reduction}.safetensors")
            write_safetensors(path, case(g, op, reduction), {"op": op, "reduction": reduction,
                                                             "torch": torch.__version__})
            print(f"wrote {os.path.relpath(path, HERE)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
