#!/usr/bin/python3
"""tests/golden/transformer_fixtures.py — golden values for layer_norm, gelu, scaled_dot_product_attention and a Transformer block, from PyTorch.

Writes tests/golden/fixtures/transformer/<case>.safetensors, read by tests/ops/layer_norm_test.cpp,
tests/ops/gelu_test.cpp, tests/ops/attention_test.cpp and tests/nn/transformer_test.cpp. Everything is
float64 (inputs, an upstream gradient `grad_output`, `expected_output` and `expected_<input>_grad`), so
the C++ side can be held to 1e-12 relative. Settings (causal, eps, ...) are strings in __metadata__.

Attention: q, k, v are (batch, heads, time, head_dim); `key_padding_mask` (batch, Tk) int64 with 1 =
padded key (recsys's convention). torch gets the boolean attn_mask of allowed pairs (True = attend),
or is_causal=True alone when there is no padding. A query row with no key left is defined by recsys as
output 0 with zero gradient; older torch versions give NaN there, so for those rows torch is given an
all-allowed row and a zero upstream gradient (its output row is then replaced by 0): the gradients of
every input are exactly the ones recsys must produce, whatever the torch version.

Transformer block: torch.nn.TransformerEncoderLayer(batch_first=True, dropout=0) with random weights,
post-LN (norm_first=False, SASRec/RecBole) and pre-LN, GELU and ReLU, under a causal src_mask and a
src_key_padding_mask. Its parameters are stored under recsys's names and layouts
(nn::TransformerBlock::named_parameters(): Dense kernels are (in, out), the transpose of torch's
Linear weight; in_proj_weight is split into query/key/value), their gradients as grad.<name>.

Run:  python3 tests/golden/transformer_fixtures.py     (needs torch and numpy)
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ops_fixtures import write_safetensors  # noqa: E402  (the one safetensors writer of the fixture scripts)

OUT = os.path.join(HERE, "fixtures", "transformer")


def numpy_dict(t):
    return {k: v.detach().numpy() for k, v in t.items()}


def randn(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_()


def layer_norm_case(g, shape, affine, eps, offset=0.0):
    n = shape[-1]
    x = (torch.randn(*shape, generator=g, dtype=torch.float64) * 2.0 + offset).requires_grad_()
    w = randn(g, n) if affine else None
    b = randn(g, n) if affine else None
    out = F.layer_norm(x, (n,), w, b, eps)
    grad_output = torch.randn(*out.shape, generator=g, dtype=torch.float64)
    out.backward(grad_output)
    t = {"x": x, "grad_output": grad_output, "expected_output": out, "expected_x_grad": x.grad}
    if affine:
        t.update({"weight": w, "bias": b, "expected_weight_grad": w.grad, "expected_bias_grad": b.grad})
    return numpy_dict(t), {"eps": repr(eps)}


def gelu_case(g):
    x = torch.cat([torch.linspace(-6, 6, 61, dtype=torch.float64),
                   torch.randn(3, 13, generator=g, dtype=torch.float64).flatten() * 3]).requires_grad_()
    out = F.gelu(x)  # approximate='none': the erf form
    grad_output = torch.randn(*out.shape, generator=g, dtype=torch.float64)
    out.backward(grad_output)
    return numpy_dict({"x": x, "grad_output": grad_output, "expected_output": out, "expected_x_grad": x.grad}), {}


def left_right_padding(B, T, left):
    """int64 (B, T): `left` padded keys at the start of each row (SASRec pads on the left), row b's last b too."""
    m = torch.zeros(B, T, dtype=torch.int64)
    for b in range(B):
        m[b, :left] = 1
        if b:
            m[b, T - b:] = 1
    return m


def sdpa_case(g, B, H, Tq, Tk, d, dv, causal, padding):
    q, k, v = randn(g, B, H, Tq, d), randn(g, B, H, Tk, d), randn(g, B, H, Tk, dv)
    grad_output = torch.randn(B, H, Tq, dv, generator=g, dtype=torch.float64)
    t = {"q": q, "k": k, "v": v, "grad_output": grad_output}
    if padding is None:
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        out.backward(grad_output)
    else:
        allowed = (padding == 0)[:, None, None, :].expand(B, H, Tq, Tk)
        if causal:
            allowed = allowed & torch.ones(Tq, Tk, dtype=torch.bool).tril()
        empty = ~allowed.any(-1)  # (B, H, Tq): rows with no key left
        allowed = allowed | empty[..., None]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        out.backward(grad_output * (~empty)[..., None])
        out = out.detach() * (~empty)[..., None]
        t["key_padding_mask"] = padding
        print(f"  {int(empty.sum())} fully masked query rows")
    t.update({"expected_output": out, "expected_q_grad": q.grad, "expected_k_grad": k.grad,
              "expected_v_grad": v.grad})
    return numpy_dict(t), {"causal": int(causal)}


def block_params(layer, dim):
    """recsys's TransformerBlock parameters from a torch TransformerEncoderLayer (values or gradients)."""
    def grab(p, grad):
        return p.grad if grad else p

    def named(grad):
        w, b = grab(layer.self_attn.in_proj_weight, grad), grab(layer.self_attn.in_proj_bias, grad)
        out = {}
        for i, part in enumerate(["query", "key", "value"]):
            out[f"attention.{part}.kernel"] = w[i * dim:(i + 1) * dim].t()
            out[f"attention.{part}.bias"] = b[i * dim:(i + 1) * dim]
        out["attention.output.kernel"] = grab(layer.self_attn.out_proj.weight, grad).t()
        out["attention.output.bias"] = grab(layer.self_attn.out_proj.bias, grad)
        out["norm1.gamma"], out["norm1.beta"] = grab(layer.norm1.weight, grad), grab(layer.norm1.bias, grad)
        out["ffn_in.kernel"], out["ffn_in.bias"] = grab(layer.linear1.weight, grad).t(), grab(layer.linear1.bias, grad)
        out["ffn_out.kernel"], out["ffn_out.bias"] = grab(layer.linear2.weight, grad).t(), grab(layer.linear2.bias, grad)
        out["norm2.gamma"], out["norm2.beta"] = grab(layer.norm2.weight, grad), grab(layer.norm2.bias, grad)
        return out
    return named


def block_case(g, B, T, dim, heads, hidden, norm_first, activation):
    layer = torch.nn.TransformerEncoderLayer(dim, heads, hidden, dropout=0.0, activation=activation,
                                             layer_norm_eps=1e-5, batch_first=True, norm_first=norm_first,
                                             dtype=torch.float64)
    with torch.no_grad():
        for p in layer.parameters():  # every parameter random, LayerNorm scales around 1, biases nonzero
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * (0.3 if p.dim() == 2 else 0.2))
        layer.norm1.weight.add_(1.0)
        layer.norm2.weight.add_(1.0)
    x = randn(g, B, T, dim)
    padding = torch.zeros(B, T, dtype=torch.int64)
    for b in range(B):  # right padding: with the causal mask every query still sees a key
        padding[b, T - b:] = 1 if b else 0
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = not allowed (torch's src_mask convention)
    out = layer(x, src_mask=causal, src_key_padding_mask=padding.bool())
    grad_output = torch.randn(*out.shape, generator=g, dtype=torch.float64)
    out.backward(grad_output)
    named = block_params(layer, dim)
    t = {"x": x, "key_padding_mask": padding, "grad_output": grad_output, "expected_output": out,
         "expected_x_grad": x.grad}
    t.update(named(False))
    t.update({f"grad.{k}": v for k, v in named(True).items()})
    return numpy_dict(t), {"heads": heads, "hidden": hidden, "norm_first": int(norm_first), "activation": activation,
                           "causal": 1}


CASES = {
    "layer_norm_affine": lambda g: layer_norm_case(g, (3, 4, 8), True, 1e-5),
    "layer_norm_plain": lambda g: layer_norm_case(g, (5, 6), False, 1e-5),
    "layer_norm_eps": lambda g: layer_norm_case(g, (4, 16), True, 1e-12, offset=3.0),
    "gelu": gelu_case,
    "sdpa_plain": lambda g: sdpa_case(g, 2, 2, 5, 5, 4, 4, False, None),
    "sdpa_causal": lambda g: sdpa_case(g, 2, 2, 6, 6, 3, 3, True, None),
    "sdpa_padding": lambda g: sdpa_case(g, 2, 2, 5, 5, 4, 4, False, left_right_padding(2, 5, 0)),
    "sdpa_causal_left_padding": lambda g: sdpa_case(g, 3, 2, 6, 6, 4, 4, True, left_right_padding(3, 6, 2)),
    "sdpa_cross": lambda g: sdpa_case(g, 2, 1, 3, 7, 4, 5, True, None),
    "block_post_ln_gelu": lambda g: block_case(g, 3, 5, 8, 2, 16, False, "gelu"),
    "block_pre_ln_relu": lambda g: block_case(g, 3, 5, 8, 2, 16, True, "relu"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for seed, (name, make) in enumerate(CASES.items()):
        g = torch.Generator().manual_seed(500 + seed)
        tensors, metadata = make(g)
        path = os.path.join(OUT, f"{name}.safetensors")
        write_safetensors(path, tensors, metadata)
        print(f"wrote {os.path.relpath(path, HERE)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
