#!/usr/bin/env python3
"""tests/golden/io_fixtures.py — safetensors interop fixtures, run by hand.

1. Writes tests/golden/fixtures/io/python_written.safetensors (and python_f16.safetensors) with the
   reference `safetensors` library; tests/io/safetensors_test.cpp loads them and checks the values.
2. Loads tests/golden/fixtures/io/cpp_written.safetensors, which our C++ writer produced (the C++ test
   checks that the writer still produces exactly these bytes), and checks its values and metadata in Python.

Needs numpy and safetensors:  python3 -m venv --system-site-packages /tmp/st && /tmp/st/bin/pip install safetensors
"""
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "io")


def python_tensors():
    """The values the C++ test expects (it recomputes them the same way)."""
    return {
        "embedding.weight": (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.25 - 1.0),
        "dense.bias": np.array([0.1], dtype=np.float64),
        "counts": np.array([[-3, 0, 7]], dtype=np.int32),
        "ids": np.array([2**40 + 1, -5], dtype=np.int64),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def write_python_fixtures():
    os.makedirs(OUT, exist_ok=True)
    save_file(python_tensors(), os.path.join(OUT, "python_written.safetensors"),
              metadata={"format": "np", "producer": "io_fixtures.py"})
    save_file({"half": np.ones((2,), dtype=np.float16)}, os.path.join(OUT, "python_f16.safetensors"))


def check_cpp_written():
    path = os.path.join(OUT, "cpp_written.safetensors")
    if not os.path.exists(path):
        print("cpp_written.safetensors not found: run the C++ io tests with RECSYS_WRITE_FIXTURES=1 first")
        return False
    got = load_file(path)
    expected = {
        "layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 8.0 - 0.25,
        "layer.bias": np.array([1.5, -2.0], dtype=np.float64),
        "step": np.array(7, dtype=np.int64),
        "tokens": np.array([[1, 2], [3, 4], [5, 6]], dtype=np.int32),
    }
    ok = set(got) == set(expected)
    for name, want in expected.items():
        have = got.get(name)
        same = have is not None and have.dtype == want.dtype and have.shape == want.shape and np.array_equal(have, want)
        print(f"  {name}: {'ok' if same else 'MISMATCH'} {None if have is None else (have.dtype, have.shape)}")
        ok &= same
    with safe_open(path, framework="np") as f:
        meta = f.metadata()
    print(f"  metadata: {meta}")
    ok &= meta == {"epoch": "3", "note": "written by recsys"}
    return ok


if __name__ == "__main__":
    write_python_fixtures()
    print("wrote", os.path.join(OUT, "python_written.safetensors"))
    ok = check_cpp_written()
    print("cpp_written.safetensors loads in Python:", "OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)
