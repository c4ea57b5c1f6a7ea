#!/usr/bin/env python3
"""scripts/fit_tanh.py — the coefficients of vmath::tanh (include/recsys/cpu/lstm_math.hpp).

tanh(x) ~ x * P(x^2) / Q(x^2) for |x| <= 9.1 (beyond that tanh rounds to 1 in float), P and Q of degree
4 with P(0) = Q(0) = 1. Two steps:

1. fit: least squares on the linearised relative error (P - f Q) / (f Q_prev), f = tanh(x)/x, iterated
   so Q_prev converges to Q (Loeb) and reweighted by each point's error (Lawson) to approach minimax.
   Relative error of the exact rational: about 2.4e-8, under half an ulp.
2. nudge: the float evaluation's rounding dominates (up to ~5 ulp), so each float coefficient is moved
   by a few ulps at a time, kept when the worst error over a float sample, evaluated both with FMA
   (the AVX2/AVX-512 kernels contract) and without (the baseline build), drops.

Needs numpy only. Prints the C++ arrays and the worst errors; takes a few minutes.
Usage: python3 scripts/fit_tanh.py [--steps 3000]
"""
import argparse

import numpy as np

CLAMP = np.float32(9.1)
DEGREE = 4


def fit():
    x = np.concatenate([np.linspace(1e-4, float(CLAMP), 200000), np.geomspace(1e-6, 1.0, 20000)])
    z, f = x * x, np.tanh(x) / x
    weights, q_prev, best = np.ones_like(x), np.ones_like(x), None
    for it in range(200):
        cols = [z**k for k in range(1, DEGREE + 1)] + [-f * z**k for k in range(1, DEGREE + 1)]
        a = np.stack(cols, axis=1)
        scale = np.sqrt(weights) / (f * q_prev)
        a_scaled = a * scale[:, None]
        norms = np.linalg.norm(a_scaled, axis=0)
        sol, *_ = np.linalg.lstsq(a_scaled / norms, (f - 1.0) * scale, rcond=None)
        sol /= norms
        p, q = np.concatenate([[1.0], sol[:DEGREE]]), np.concatenate([[1.0], sol[DEGREE:]])
        q_prev = np.polyval(q[::-1], z)
        err = (np.polyval(p[::-1], z) / q_prev - f) / f
        worst = np.max(np.abs(err))
        if best is None or worst < best[0]:
            best = (worst, p, q)
        if it > 5:
            weights = weights * np.abs(err)
            weights /= weights.sum()
    print(f"fit: max relative error of the exact rational {best[0]:.3g}")
    return best[1].astype(np.float32), best[2].astype(np.float32)


def horner(c, z, fma):
    acc = np.full_like(z, c[-1])
    for k in range(len(c) - 2, -1, -1):
        if fma:  # the product of two floats is exact in double; one rounding to float, as an FMA does
            acc = (acc.astype(np.float64) * z + np.float64(c[k])).astype(np.float32)
        else:
            acc = (acc * z).astype(np.float32) + c[k]
    return acc


def evaluate(p, q, x, fma):
    ax = np.minimum(x, CLAMP)
    z = ax * ax
    r = (ax * horner(p, z, fma)) / horner(q, z, fma)
    return np.minimum(r, np.float32(1))


def sample():
    bits = np.arange(np.float32(1e-6).view(np.uint32), np.float32(9.5).view(np.uint32), 61, dtype=np.uint32)
    x = bits.view(np.float32)
    exact = np.tanh(x.astype(np.float64))
    e32 = np.abs(exact.astype(np.float32))
    ulp = (np.nextafter(e32, np.float32(np.inf)) - e32).astype(np.float64)
    return x, exact, ulp


def worst_ulps(p, q, x, exact, ulp):
    return max(np.max(np.abs(evaluate(p, q, x, fma) - exact) / ulp) for fma in (True, False))


def nudge(p, q, steps):
    x, exact, ulp = sample()
    rng = np.random.default_rng(5)
    best = worst_ulps(p, q, x, exact, ulp)
    print(f"nudge: {x.size} sample floats, worst {best:.3f} ulp before")
    for step in range(steps):
        cand_p, cand_q = p.copy(), q.copy()
        k = int(rng.integers(1, 2 * DEGREE + 1))
        target, index = (cand_p, k) if k <= DEGREE else (cand_q, k - DEGREE)
        delta = int(rng.integers(-8, 9))
        if delta == 0:
            continue
        target[index:index + 1] = (target[index:index + 1].view(np.int32) + delta).view(np.float32)
        w = worst_ulps(cand_p, cand_q, x, exact, ulp)
        if w < best:
            best, p, q = w, cand_p, cand_q
            print(f"  step {step}: worst {best:.3f} ulp", flush=True)
    return p, q


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="nudge attempts")
    args = parser.parse_args()
    p, q = nudge(*fit(), args.steps)
    fmt = lambda c: ", ".join(f"{float(v):.9e}f" for v in c[1:])
    print(f"inline constexpr float kTanhP[5] = {{1.0f, {fmt(p)}}};")
    print(f"inline constexpr float kTanhQ[5] = {{1.0f, {fmt(q)}}};")


if __name__ == "__main__":
    main()
