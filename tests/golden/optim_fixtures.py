#!/usr/bin/env python3
"""tests/golden/optim_fixtures.py — PyTorch 1.13 reference trajectories for the optimizers, clipping and schedulers.

Run by hand (needs torch and safetensors: python3 -m venv --system-site-packages /tmp/st && /tmp/st/bin/pip install safetensors):
    /tmp/st/bin/python tests/golden/optim_fixtures.py
Writes tests/golden/fixtures/optim/<case>.safetensors, read by tests/optim/golden_test.cpp. Each case holds
  param<j>.init                 the starting values of parameter j
  grad<k>.<j>                   the gradient given to parameter j before step k (absent: no gradient at that step)
  param<k>.<j>                  parameter j after step k
  norm<k>                       (clipping cases) the total norm clip_grad_norm_ returned at step k
and __metadata__ {"optimizer": name, "options": JSON, "steps": K, "clip": max_norm or ""}.
schedulers.safetensors holds the lr of each schedule for epochs 0..N-1.
"""
import json
import math
import os
import zlib

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "optim")
SHAPES = [(3, 4), (5,)]


def make_optimizer(name, params, options):
    o = dict(options)
    if name in ("Adam", "AdamW"):
        o["betas"] = (o.pop("beta1", 0.9), o.pop("beta2", 0.999))
        return getattr(torch.optim, name)(params, foreach=False, **o)
    if name == "SGD":
        return torch.optim.SGD(params, foreach=False, **o)
    raise ValueError(name)


def run_case(case, optimizer, options, steps, dtype=torch.float32, clip=None, no_grad=()):
    """no_grad: (step, param) pairs that get no gradient at that step (the optimizer must skip them)."""
    g = torch.Generator().manual_seed(zlib.crc32(case.encode()))
    params = [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in SHAPES]
    out = {f"param{j}.init": p.detach().clone() for j, p in enumerate(params)}
    opt = make_optimizer(optimizer, params, options)
    for k in range(steps):
        for j, p in enumerate(params):
            if (k, j) in no_grad:
                p.grad = None
                continue
            grad = torch.randn(p.shape, generator=g, dtype=dtype) * (0.5 + j)
            out[f"grad{k}.{j}"] = grad.clone()
            p.grad = grad
        if clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, clip)
            out[f"norm{k}"] = torch.tensor([float(norm)], dtype=torch.float64)
        opt.step()
        for j, p in enumerate(params):
            out[f"param{k}.{j}"] = p.detach().clone()
    meta = {"optimizer": optimizer, "options": json.dumps(options), "steps": str(steps),
            "clip": "" if clip is None else repr(clip)}
    save_file(out, os.path.join(OUT, case + ".safetensors"), metadata=meta)


def schedulers(epochs=14):
    out = {}
    for name, make in [
        ("step", lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
        ("exponential", lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
        ("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=1e-4)),
    ]:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = make(opt)
        lrs = []
        for _ in range(epochs):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        out[name] = torch.tensor(lrs, dtype=torch.float64)
    save_file(out, os.path.join(OUT, "schedulers.safetensors"), metadata={"base_lr": "0.1"})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    run_case("adam_1step", "Adam", {}, 1)
    run_case("sgd_momentum_1step", "SGD", {"lr": 0.1, "momentum": 0.9}, 1)
    run_case("sgd_momentum_4steps", "SGD", {"lr": 0.1, "momentum": 0.9}, 4)
    run_case("adam_5steps", "Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}, 5, no_grad={(2, 1)})
    run_case("adam_5steps_f64", "Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}, 5,
             dtype=torch.float64, no_grad={(2, 1)})
    run_case("adam_amsgrad_wd", "Adam", {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True}, 4)
    run_case("adamw", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "beta1": 0.8, "beta2": 0.99}, 4)
    run_case("adamw_amsgrad", "AdamW", {"lr": 0.02, "amsgrad": True}, 3)
    run_case("sgd_nesterov_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, 4)
    run_case("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}, 3, no_grad={(1, 0)})
    run_case("sgd_plain_wd", "SGD", {"lr": 0.1, "weight_decay": 0.2}, 2)
    run_case("sgd_clip", "SGD", {"lr": 0.1}, 3, clip=0.5)
    run_case("adam_clip_noop", "Adam", {"lr": 0.01}, 2, clip=100.0)
    schedulers()
    print("wrote", sorted(os.listdir(OUT)))
