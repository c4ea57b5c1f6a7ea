#!/usr/bin/env python3
"""bench/compare_peers.py — the usual Python recommenders on exactly the split a `recsys train` run exported,
scored by the C++ scorer (`recsys evaluate RUN --scores FILE.npy`), so both sides are measured by one metric
implementation.

    python3 bench/compare_peers.py RUN [RUN ...] [--recsys build/release/tools/recsys]
        [--peers pop,itemknn,ease,als,bpr,lightfm,svd,svdpp,sasrec,gru4rec] [--threads 2] [--out FILE.md]

The first RUN's export is the data: users.csv / items.csv (row order = index), interactions.csv (the fit rows),
held_out.csv (the test targets), validation/ (the tuning split, with --tune) and tuning.json (its grid size).
Every RUN must have the same split (interactions.csv, held_out.csv, candidates.csv); their numbers come from
their metrics.json. Each peer: grid of `grid_size` points (tuning.json, else 6), each point fit on
validation/interactions.csv and scored on validation/held_out.csv by the C++ scorer's ndcg@K; the best point is
refit on interactions.csv (timed: "fit s") and scored on the test split. Without validation/ a peer is fit once
with its default setting. A peer whose library is missing is skipped, one that fails is marked failed; the
others go on. Dependencies: scripts/peers-setup.sh (bench/requirements-peers.txt).
"""
from __future__ import annotations

import os
import sys


def _threads_from_argv(argv: list[str]) -> int:
    """--threads must be known before numpy (and its BLAS) is imported."""
    for n, a in enumerate(argv):
        if a == "--threads" and n + 1 < len(argv):
            return int(argv[n + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 2


def _into_venv() -> None:
    """scripts/peers-setup.sh installs the peers into build/peers-venv (PEERS_VENV=DIR elsewhere): run there when
    it exists, so this works as `python3 bench/compare_peers.py`. PEERS_VENV=none: stay in this interpreter."""
    want = os.environ.get("PEERS_VENV", "")
    if want == "none":
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    venv = os.path.abspath(want or os.path.join(root, "build", "peers-venv"))
    py = os.path.join(venv, "bin", "python")
    if os.path.isfile(py) and os.path.realpath(sys.prefix) != os.path.realpath(venv):
        print(f"compare_peers: running in {venv}", file=sys.stderr, flush=True)
        os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


_into_venv()
THREADS = _threads_from_argv(sys.argv[1:])
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = str(THREADS)
os.environ.setdefault("PYTHONHASHSEED", "0")
# the machine may be shared: idle OpenMP threads sleep instead of spinning (a spinning barrier on an oversubscribed
# core makes torch and OpenBLAS many times slower); as in the C++ tests
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("KMP_BLOCKTIME", "0")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

SEED = 42
ALL_PEERS = ["pop", "itemknn", "ease", "als", "bpr", "lightfm", "svd", "svdpp", "sasrec", "gru4rec"]
DEFAULT_GRID = 6


class Skipped(Exception):
    """A peer that cannot run here (its library is not installed): the table says why."""


# --------------------------------------------------------------------------------------------------------------
# The exported split


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_column(path: Path, column: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise SystemExit(f"{path}: no column '{column}' (header: {reader.fieldnames})")
        return [r[column] for r in reader]


@dataclass
class FitData:
    """One fit part (test: interactions.csv; validation: validation/interactions.csv), in our index order."""
    n_users: int
    n_items: int
    users: np.ndarray      # int64 per row
    items: np.ndarray      # int64 per row
    ratings: np.ndarray    # float64 per row (NaN where the file has none)
    times: np.ndarray      # float64 per row
    _X: sp.csr_matrix | None = None
    _seqs: list[np.ndarray] | None = None

    @property
    def X(self) -> sp.csr_matrix:
        """Binary user × item matrix (float32): every interaction row counts as 1, repeats collapse."""
        if self._X is None:
            X = sp.csr_matrix((np.ones(len(self.users), np.float32), (self.users, self.items)),
                              shape=(self.n_users, self.n_items))
            X.sum_duplicates()
            X.data[:] = 1.0
            self._X = X
        return self._X

    def sequences(self) -> list[np.ndarray]:
        """Each user's items by timestamp (ties: file order)."""
        if self._seqs is None:
            order = np.lexsort((np.arange(len(self.users)), self.times, self.users))
            u, i = self.users[order], self.items[order]
            bounds = np.searchsorted(u, np.arange(self.n_users + 1))
            self._seqs = [i[bounds[n]:bounds[n + 1]] for n in range(self.n_users)]
        return self._seqs


@dataclass
class Split:
    run: Path
    user_ids: list[str]
    item_ids: list[str]
    test: FitData
    validation: FitData | None
    grid_size: int
    k: int
    protocol: str
    sampled: bool
    tuning: dict = field(default_factory=dict)


def load_fit(path: Path, uidx: dict[str, int], iidx: dict[str, int]) -> FitData:
    rows = read_rows(path)
    missing = [(r["user_id"], r["item_id"]) for r in rows if r["user_id"] not in uidx or r["item_id"] not in iidx]
    if missing:
        raise SystemExit(f"{path}: {len(missing)} rows name a user or item not in users.csv/items.csv, "
                         f"e.g. {missing[0]}")

    def num(r: dict[str, str], key: str) -> float:
        v = r.get(key)
        return float(v) if v not in (None, "") else math.nan

    return FitData(len(uidx), len(iidx),
                   np.array([uidx[r["user_id"]] for r in rows], np.int64),
                   np.array([iidx[r["item_id"]] for r in rows], np.int64),
                   np.array([num(r, "rating") for r in rows], np.float64),
                   np.array([num(r, "timestamp") for r in rows], np.float64))


def load_split(run: Path) -> Split:
    for f in ("users.csv", "items.csv", "interactions.csv", "held_out.csv", "config.json"):
        if not (run / f).is_file():
            raise SystemExit(f"{run}: no {f} (make the run with `recsys train ... --eval leave-last-out --out {run}`)")
    user_ids = read_column(run / "users.csv", "user_id")
    item_ids = read_column(run / "items.csv", "item_id")
    uidx = {u: n for n, u in enumerate(user_ids)}
    iidx = {i: n for n, i in enumerate(item_ids)}
    if len(uidx) != len(user_ids) or len(iidx) != len(item_ids):
        raise SystemExit(f"{run}: users.csv or items.csv repeats an id")
    test = load_fit(run / "interactions.csv", uidx, iidx)
    validation = None
    if (run / "validation" / "interactions.csv").is_file() and (run / "validation" / "held_out.csv").is_file():
        validation = load_fit(run / "validation" / "interactions.csv", uidx, iidx)
    config = json.loads((run / "config.json").read_text())
    ev = config.get("evaluation", {}) if isinstance(config.get("evaluation"), dict) else {}
    tuning = json.loads((run / "tuning.json").read_text()) if (run / "tuning.json").is_file() else {}
    grid = int(tuning.get("grid_size", DEFAULT_GRID)) if tuning else DEFAULT_GRID
    ks = ev.get("ks") if isinstance(ev.get("ks"), list) and ev.get("ks") else [ev.get("k", 10)]
    return Split(run, user_ids, item_ids, test, validation, max(1, grid), int(ev.get("k", ks[0])),
                 str(ev.get("description") or ev.get("protocol", "?")), (run / "candidates.csv").is_file(), tuning)


def split_fingerprint(run: Path) -> dict[str, str]:
    """What must be equal for two runs' numbers to be comparable: the fit rows, the targets, the candidates."""
    out = {}
    for f in ("interactions.csv", "held_out.csv", "candidates.csv"):
        p = run / f
        out[f] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "(none)"
    return out


# --------------------------------------------------------------------------------------------------------------
# The C++ scorer


class Scorer:
    def __init__(self, binary: str, run: Path, workdir: Path):
        self.binary, self.run, self.workdir = binary, run, workdir
        self.calls = 0

    def __call__(self, scores: np.ndarray, name: str, split: str) -> dict:
        if not np.all(np.isfinite(scores)):
            raise ValueError(f"{name}: scores hold NaN or inf")
        self.calls += 1
        path = self.workdir / f"scores_{self.calls:04d}.npy"
        np.save(path, np.ascontiguousarray(scores, dtype=np.float32))
        cmd = [self.binary, "evaluate", str(self.run), "--scores", str(path), "--name", name, "--split", split,
               "--json"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        path.unlink(missing_ok=True)
        if p.returncode != 0:
            raise RuntimeError(f"scorer exited {p.returncode}: {(p.stderr or p.stdout).strip()[-400:]}")
        return parse_json_object(p.stdout)


def parse_json_object(text: str) -> dict:
    """The scorer prints one JSON object; tolerate log lines around it."""
    text = text.strip()
    with contextlib.suppress(json.JSONDecodeError):
        v = json.loads(text)
        if isinstance(v, dict):
            return v
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                return json.loads(line)
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        return json.loads(text[start:end + 1])
    raise ValueError(f"scorer printed no JSON object: {text[:300]!r}")


def check_scorer(binary: str) -> None:
    if shutil.which(binary) is None and not Path(binary).is_file():
        raise SystemExit(f"no scorer binary '{binary}' (build it: cmake --build build/release --target recsys_cli)")
    p = subprocess.run([binary, "evaluate", "--help"], capture_output=True, text=True)
    if "--scores" not in (p.stdout + p.stderr):
        raise SystemExit(f"'{binary} evaluate --help' does not mention --scores: this recsys cannot score external "
                         "models yet (rebuild it)")


# --------------------------------------------------------------------------------------------------------------
# Grids


def log_grid(lo: float, hi: float, n: int, integer: bool = False) -> list:
    """n points spaced evenly in log between lo and hi, rounded to 2 significant digits."""
    if n == 1:
        vals = [math.sqrt(lo * hi)]
    else:
        vals = list(np.geomspace(lo, hi, n))
    out = []
    for v in vals:
        r = float(f"{v:.2g}")
        r = int(round(r)) if integer else r
        if r not in out:
            out.append(r)
    return out


def sample_grid(axes: dict[str, list], default: dict, n: int) -> list[dict]:
    """The factorial grid of `axes` if it has at most n points; else `default` plus n-1 others drawn from it
    with a fixed seed (random search of the same budget)."""
    names = list(axes)
    full = [dict(zip(names, vals)) for vals in itertools.product(*(axes[a] for a in names))]
    if len(full) <= n:
        return full
    assert default in full, (default, axes)
    rest = [p for p in full if p != default]
    return [default] + random.Random(SEED).sample(rest, n - 1)


def setting_str(p: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items()) or "-"


# --------------------------------------------------------------------------------------------------------------
# Peers: each is grid(n) -> list of settings, and fit(data, setting) -> (scores U×I, fit seconds)


class Timer:
    def __init__(self):
        self.seconds = 0.0

    @contextlib.contextmanager
    def __call__(self):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - t


def seed_all(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed)


def floor_unseen(scores: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Items a model never saw get a finite score below every real one."""
    if (~known).any() and known.any():
        scores[:, ~known] = scores[:, known].min() - 1.0
    return scores


# popularity -------------------------------------------------------------------------------------------------------

def pop_grid(n: int) -> list[dict]:
    return [{}]


def pop_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    t = Timer()
    with t():
        counts = np.bincount(d.items, minlength=d.n_items).astype(np.float32)
    return np.broadcast_to(counts, (d.n_users, d.n_items)).copy(), t.seconds


# item-kNN ---------------------------------------------------------------------------------------------------------

def itemknn_grid(n: int) -> list[dict]:
    return [{"k": k} for k in log_grid(10, 1000, n, integer=True)]


def itemknn_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    """Cosine between item columns of the binary matrix; item j keeps its k most similar items;
    score(u, j) = sum over the user's items i among j's neighbours of sim(i, j), i.e. X · S."""
    t = Timer()
    with t():
        X = d.X
        co = (X.T @ X).toarray().astype(np.float32)
        norms = np.sqrt(np.diag(co)).astype(np.float32)
        norms[norms == 0] = 1.0
        co /= norms[:, None]
        co /= norms[None, :]
        np.fill_diagonal(co, 0.0)
        k = min(int(p["k"]), d.n_items - 1)
        # column j keeps its top-k rows; S is symmetric, so take the row-wise top-k of co and transpose
        top = np.argpartition(-co, k - 1, axis=1)[:, :k]
        rows = np.repeat(np.arange(d.n_items), k)
        vals = co[rows, top.ravel()]
        del co
        S = sp.csr_matrix((vals, (top.ravel(), rows)), shape=(d.n_items, d.n_items))  # S[i, j]: i in N_k(j)
        S.eliminate_zeros()
    scores = np.asarray((X @ S).toarray(), dtype=np.float32)
    return scores, t.seconds


# EASE ---------------------------------------------------------------------------------------------------------------

def ease_grid(n: int) -> list[dict]:
    if n == 6:
        return [{"lambda": v} for v in (50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)]
    return [{"lambda": v} for v in log_grid(20, 5000, n)]


def ease_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    """Steck 2019: G = XᵀX + λI, P = G⁻¹, B = -P / diag(P), diag(B) = 0, scores = X · B."""
    from scipy.linalg import lapack
    t = Timer()
    with t():
        X = d.X
        # float32 Cholesky + inverse (LAPACK spotrf/spotri): 2× faster than float64 and λ ≥ 100 keeps XᵀX + λI
        # well conditioned for it
        G = (X.T @ X).toarray().astype(np.float32)
        G[np.diag_indices_from(G)] += float(p["lambda"])
        c, info = lapack.spotrf(G, lower=False, overwrite_a=True)
        if info != 0:
            raise RuntimeError(f"Cholesky of XᵀX + λI failed (info {info})")
        P, info = lapack.spotri(c, lower=False, overwrite_c=True)
        if info != 0:
            raise RuntimeError(f"inverse of XᵀX + λI failed (info {info})")
        P = np.triu(P) + np.triu(P, 1).T
        B = P / (-np.diag(P))[None, :]
        np.fill_diagonal(B, 0.0)
        del P
    scores = np.asarray(X @ B, dtype=np.float32)
    return scores, t.seconds


# implicit ALS / BPR -------------------------------------------------------------------------------------------------

def _implicit():
    try:
        import implicit  # noqa: F401
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking
    except Exception as e:  # noqa: BLE001
        raise Skipped(f"implicit not importable ({type(e).__name__}: {e})")
    return AlternatingLeastSquares, BayesianPersonalizedRanking


def _one_blas_thread():
    """implicit runs its own `num_threads` loops and asks for single-threaded BLAS inside them."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(1, "blas")
    except Exception:  # noqa: BLE001
        return contextlib.nullcontext()


def als_grid(n: int) -> list[dict]:
    axes = {"factors": [32, 64, 128], "regularization": [0.01, 0.1, 1.0], "alpha": [1.0, 5.0, 20.0],
            "iterations": [15, 30]}
    return sample_grid(axes, {"factors": 64, "regularization": 0.01, "alpha": 1.0, "iterations": 15}, n)


def als_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    ALS, _ = _implicit()
    t = Timer()
    with _one_blas_thread():
        m = ALS(factors=int(p["factors"]), regularization=float(p["regularization"]), alpha=float(p["alpha"]),
                iterations=int(p["iterations"]), random_state=SEED, num_threads=THREADS,
                calculate_training_loss=False)
    with t(), _one_blas_thread():
        m.fit(d.X.tocsr(), show_progress=False)
    return np.asarray(m.user_factors @ m.item_factors.T, dtype=np.float32), t.seconds


def bpr_grid(n: int) -> list[dict]:
    axes = {"factors": [32, 64, 128], "learning_rate": [0.01, 0.05, 0.1], "regularization": [0.001, 0.01],
            "iterations": [100, 300]}
    return sample_grid(axes, {"factors": 64, "learning_rate": 0.01, "regularization": 0.01, "iterations": 100}, n)


def bpr_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    _, BPR = _implicit()
    t = Timer()
    with _one_blas_thread():
        m = BPR(factors=int(p["factors"]), learning_rate=float(p["learning_rate"]),
                regularization=float(p["regularization"]), iterations=int(p["iterations"]), random_state=SEED,
                num_threads=THREADS)
    with t(), _one_blas_thread():
        m.fit(d.X.tocsr(), show_progress=False)
    return np.asarray(m.user_factors @ m.item_factors.T, dtype=np.float32), t.seconds


# LightFM WARP ---------------------------------------------------------------------------------------------------------

def lightfm_grid(n: int) -> list[dict]:
    axes = {"no_components": [32, 64, 128], "epochs": [10, 30, 60], "learning_rate": [0.01, 0.05, 0.1]}
    return sample_grid(axes, {"no_components": 32, "epochs": 30, "learning_rate": 0.05}, n)


def lightfm_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    try:
        from lightfm import LightFM
    except Exception as e:  # noqa: BLE001
        raise Skipped(f"lightfm not importable ({type(e).__name__}: {e})")
    t = Timer()
    m = LightFM(no_components=int(p["no_components"]), loss="warp", learning_rate=float(p["learning_rate"]),
                random_state=np.random.RandomState(SEED))
    with t():
        m.fit(d.X.tocoo(), epochs=int(p["epochs"]), num_threads=THREADS)
    ub, ue = m.get_user_representations()
    ib, ie = m.get_item_representations()
    scores = ue @ ie.T + ib[None, :] + ub[:, None]
    return np.asarray(scores, dtype=np.float32), t.seconds


# Surprise SVD / SVD++ -------------------------------------------------------------------------------------------------

def _surprise_trainset(d: FitData):
    try:
        import pandas as pd
        from surprise import Dataset, Reader
    except Exception as e:  # noqa: BLE001
        raise Skipped(f"scikit-surprise not importable ({type(e).__name__}: {e})")
    if np.isnan(d.ratings).any():
        raise RuntimeError("interactions.csv has rows without a rating: SVD needs ratings")
    lo, hi = float(d.ratings.min()), float(d.ratings.max())
    df = pd.DataFrame({"u": d.users, "i": d.items, "r": d.ratings})
    return Dataset.load_from_df(df, Reader(rating_scale=(lo, hi))).build_full_trainset()


def _surprise_scores(algo, ts, d: FitData, implicit_term: bool) -> np.ndarray:
    """The unclipped predicted rating of every (user, item): mu + b_u + b_i + q_i·(p_u [+ |N(u)|^-½ Σ y_j]);
    clipping to the rating scale would only add ties. Users/items the fit never saw rank below every other."""
    n_u, n_i = ts.n_users, ts.n_items
    u_of = np.array([ts.to_raw_uid(x) for x in range(n_u)], np.int64)
    i_of = np.array([ts.to_raw_iid(x) for x in range(n_i)], np.int64)
    pu = np.array(algo.pu, np.float64)
    if implicit_term:
        yj = np.array(algo.yj, np.float64)
        for u in range(n_u):
            js = [j for (j, _) in ts.ur[u]]
            pu[u] += yj[js].sum(axis=0) / math.sqrt(len(js))
    est = ts.global_mean + np.asarray(algo.bu)[:, None] + np.asarray(algo.bi)[None, :] + pu @ np.asarray(algo.qi).T
    scores = np.full((d.n_users, d.n_items), est.min() - 1.0, np.float32)
    scores[np.ix_(u_of, i_of)] = est.astype(np.float32)
    return scores


def svd_grid(n: int) -> list[dict]:
    axes = {"n_factors": [50, 100, 200], "n_epochs": [20, 40], "lr_all": [0.005, 0.01], "reg_all": [0.02, 0.05, 0.1]}
    return sample_grid(axes, {"n_factors": 100, "n_epochs": 20, "lr_all": 0.005, "reg_all": 0.02}, n)


def svd_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    ts = _surprise_trainset(d)
    from surprise import SVD
    t = Timer()
    algo = SVD(n_factors=int(p["n_factors"]), n_epochs=int(p["n_epochs"]), lr_all=float(p["lr_all"]),
               reg_all=float(p["reg_all"]), random_state=SEED)
    with t():
        algo.fit(ts)
    return _surprise_scores(algo, ts, d, False), t.seconds


def svdpp_grid(n: int) -> list[dict]:
    # kept small: SVD++ is single-threaded Cython, ~2.3 s an epoch at 20 factors on 100k ratings (grows with factors)
    axes = {"n_factors": [10, 20], "n_epochs": [10, 20], "lr_all": [0.005, 0.007, 0.01], "reg_all": [0.02, 0.05]}
    return sample_grid(axes, {"n_factors": 20, "n_epochs": 20, "lr_all": 0.007, "reg_all": 0.02}, n)


def svdpp_fit(d: FitData, p: dict) -> tuple[np.ndarray, float]:
    ts = _surprise_trainset(d)
    from surprise import SVDpp
    t = Timer()
    algo = SVDpp(n_factors=int(p["n_factors"]), n_epochs=int(p["n_epochs"]), lr_all=float(p["lr_all"]),
                 reg_all=float(p["reg_all"]), random_state=SEED, cache_ratings=True)
    with t():
        algo.fit(ts)
    return _surprise_scores(algo, ts, d, True), t.seconds


# RecBole SASRec / GRU4Rec ----------------------------------------------------------------------------------------------

SEQ = {"max_len": 50, "epochs": {"sasrec": 15, "gru4rec": 15}, "batch": 64, "train": "allpos", "grid": None}


def seq_grid(n: int) -> list[dict]:
    axes = {"dropout": [0.1, 0.2, 0.3, 0.5], "learning_rate": [0.0005, 0.001, 0.002, 0.005]}
    m = n if SEQ["grid"] is None else min(n, SEQ["grid"])
    return sample_grid(axes, {"dropout": 0.2, "learning_rate": 0.001}, m)


def _recbole():
    try:
        import torch
        from recbole.config import Config
        from recbole.data import create_dataset
        from recbole.model.sequential_recommender import GRU4Rec, SASRec
        from recbole.utils import init_seed
    except Exception as e:  # noqa: BLE001
        raise Skipped(f"recbole not importable ({type(e).__name__}: {e})")
    # RecBole 1.2.1's sine.py, imported with every sequential model, turns on autograd anomaly detection for the
    # whole process (a NaN check after every backward op: ~6x the cost of a SASRec step on CPU). Off again.
    torch.autograd.set_detect_anomaly(False)
    return torch, Config, create_dataset, {"sasrec": SASRec, "gru4rec": GRU4Rec}, init_seed


@contextlib.contextmanager
def _in_dir(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def seq_fit(kind: str, d: FitData, p: dict) -> tuple[np.ndarray, float]:
    """RecBole's SASRec (hidden 64, 2 layers, 2 heads) or GRU4Rec (embedding/hidden 64, 1 layer), max sequence 50,
    full-softmax cross-entropy over all items (loss_type='CE', no negative sampling). The atomic .inter file is
    interactions.csv ordered by (user, timestamp, file row). Training (SEQ['train']):
      allpos  — our loop over RecBole's model: each user's sequence cut into windows of ≤50 inputs from its end,
                CE of the next item at every position (RecBole's forward with its last-position gather off);
                every training interaction after a user's first is a target once an epoch.
      recbole — RecBole's Trainer on RecBole's prefix augmentation (one sample per target, the whole ≤50 prefix
                run through the network for each): the same targets at ~50× the compute.
    Scores: the model's full_sort_predict on the user's last ≤50 training items; RecBole ids mapped back."""
    torch, Config, create_dataset, models, init_seed = _recbole()
    torch.set_num_threads(THREADS)
    L = SEQ["max_len"]
    work = Path(tempfile.mkdtemp(prefix=f"peers_{kind}_"))
    try:
        seqs = d.sequences()
        (work / "data" / "peers").mkdir(parents=True)
        with open(work / "data" / "peers" / "peers.inter", "w") as f:
            f.write("user_id:token\titem_id:token\ttimestamp:float\n")
            for u, s in enumerate(seqs):
                for pos, i in enumerate(s):
                    f.write(f"{u}\t{i}\t{pos}\n")  # the position is the time: keeps our tie order
        drop = float(p["dropout"])
        cfg = {
            "data_path": str(work / "data"), "checkpoint_dir": str(work / "ckpt"),
            "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
            "load_col": {"inter": ["user_id", "item_id", "timestamp"]}, "MAX_ITEM_LIST_LENGTH": L,
            "loss_type": "CE", "train_neg_sample_args": None,
            "hidden_size": 64, "embedding_size": 64, "inner_size": 256, "n_layers": 2 if kind == "sasrec" else 1,
            "n_heads": 2, "hidden_dropout_prob": drop, "attn_dropout_prob": drop, "dropout_prob": drop,
            "hidden_act": "gelu", "layer_norm_eps": 1e-12, "initializer_range": 0.02,
            "epochs": SEQ["epochs"][kind], "train_batch_size": SEQ["batch"] if SEQ["train"] == "allpos" else 256,
            "learning_rate": float(p["learning_rate"]), "weight_decay": 0.0,
            "seed": SEED, "reproducibility": True, "device": "cpu", "use_gpu": False, "show_progress": False,
            "log_wandb": False, "eval_step": 0, "state": "ERROR", "worker": 0, "save_dataset": False,
            "save_dataloaders": False,
        }
        with _in_dir(work), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            argv, sys.argv = sys.argv, sys.argv[:1]  # RecBole's Config reads (and complains about) sys.argv
            try:
                config = Config(model=models[kind].__name__, dataset="peers", config_dict=cfg)
            finally:
                sys.argv = argv
            init_seed(SEED, True)
            logging.getLogger().setLevel(logging.ERROR)
            dataset = create_dataset(config)
            tokens = dataset.field2id_token["item_id"]          # RecBole item id -> our index (as text), 0 = [PAD]
            utokens = dataset.field2id_token["user_id"]
            item_of = np.array([-1] + [int(x) for x in tokens[1:]], np.int64)
            rb_item = np.zeros(d.n_items, np.int64)
            rb_item[item_of[1:]] = np.arange(1, len(item_of))
            init_seed(SEED, True)
            model = models[kind](config, dataset).to("cpu")
            t = Timer()
            with t():
                if SEQ["train"] == "allpos":
                    _train_allpos(torch, model, [rb_item[s] for s in seqs], L, SEQ["epochs"][kind], SEQ["batch"],
                                  float(p["learning_rate"]))
                else:
                    _train_recbole(config, dataset, model)
            scores = _seq_scores(torch, model, seqs, rb_item, item_of, d, L)
        del utokens
        return scores, t.seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _windows(seqs: list[np.ndarray], L: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-item targets, left-aligned and 0-padded: windows of L+1 items cut from each sequence's end."""
    xs, ys = [], []
    for s in seqs:
        end = len(s)
        while end >= 2:
            start = max(0, end - (L + 1))
            w = s[start:end]
            x = np.zeros(L, np.int64)
            y = np.zeros(L, np.int64)
            x[:len(w) - 1] = w[:-1]
            y[:len(w) - 1] = w[1:]
            xs.append(x)
            ys.append(y)
            end = start + 1  # the next window's last target is this window's first input
    return np.stack(xs), np.stack(ys)


def _train_allpos(torch, model, seqs, L, epochs, batch, lr) -> None:
    X, Y = _windows(seqs, L)
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    lengths = (X != 0).sum(1)
    model.gather_indexes = lambda output, gather_index: output  # every position's output, not only the last
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(SEED)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    try:
        for _ in range(epochs):
            for b in torch.randperm(len(X), generator=gen).split(batch):
                y = Y[b]
                keep = y != 0                                                # no logits for padding
                out = model.forward(X[b], lengths[b])[keep]                 # [targets, H]
                loss = loss_fn(out @ model.item_embedding.weight.T, y[keep])  # CE over all items
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        del model.gather_indexes


def _train_recbole(config, dataset, model) -> None:
    from recbole.data.dataloader import TrainDataLoader
    from recbole.trainer import Trainer
    dataset._change_feat_format()  # RecBole's prefix augmentation, over every row (no RecBole split)
    train = TrainDataLoader(config, dataset, None, shuffle=True)
    Trainer(config, model).fit(train, None, verbose=False, saved=False, show_progress=False)


def _seq_scores(torch, model, seqs, rb_item, item_of, d: FitData, L: int) -> np.ndarray:
    from recbole.data.interaction import Interaction
    model.eval()
    scores = np.zeros((d.n_users, d.n_items), np.float32)
    users = [u for u, s in enumerate(seqs) if len(s) > 0]
    known = np.zeros(d.n_items, bool)
    known[item_of[1:]] = True
    with torch.no_grad():
        for chunk in range(0, len(users), 256):
            us = users[chunk:chunk + 256]
            x = np.zeros((len(us), L), np.int64)
            n = np.zeros(len(us), np.int64)
            for r, u in enumerate(us):
                s = rb_item[seqs[u][-L:]]
                x[r, :len(s)] = s
                n[r] = len(s)
            inter = Interaction({model.ITEM_SEQ: torch.from_numpy(x), model.ITEM_SEQ_LEN: torch.from_numpy(n)})
            out = model.full_sort_predict(inter).numpy()               # [B, items+1], column 0 = [PAD]
            scores[np.array(us)[:, None], item_of[None, 1:]] = out[:, 1:]
    return floor_unseen(scores, known)


def sasrec_fit(d, p):
    return seq_fit("sasrec", d, p)


def gru4rec_fit(d, p):
    return seq_fit("gru4rec", d, p)


PEERS = {
    "pop": ("popularity (training interactions per item)", pop_grid, pop_fit),
    "itemknn": ("item-kNN cosine (numpy/scipy)", itemknn_grid, itemknn_fit),
    "ease": ("EASE (numpy closed form)", ease_grid, ease_fit),
    "als": ("implicit ALS", als_grid, als_fit),
    "bpr": ("implicit BPR", bpr_grid, bpr_fit),
    "lightfm": ("LightFM WARP", lightfm_grid, lightfm_fit),
    "svd": ("Surprise SVD (ratings)", svd_grid, svd_fit),
    "svdpp": ("Surprise SVD++ (ratings)", svdpp_grid, svdpp_fit),
    "sasrec": ("RecBole SASRec", seq_grid, sasrec_fit),
    "gru4rec": ("RecBole GRU4Rec", seq_grid, gru4rec_fit),
}


# --------------------------------------------------------------------------------------------------------------
# Running one peer


@dataclass
class PeerResult:
    key: str
    label: str
    status: str = "ok"          # ok | skipped: ... | failed: ...
    setting: dict | None = None
    test: dict = field(default_factory=dict)
    fit_seconds: float | None = None
    grid: list = field(default_factory=list)   # (setting, validation metrics or error, fit seconds)
    wall: float = 0.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_peer(key: str, split: Split, score: Scorer) -> PeerResult:
    label, grid_fn, fit_fn = PEERS[key]
    res = PeerResult(key, label)
    t0 = time.perf_counter()
    metric = f"ndcg@{split.k}"
    try:
        grid = grid_fn(split.grid_size)
        best = grid[0]
        if split.validation is not None and len(grid) > 1:
            best_v = -math.inf
            for n, p in enumerate(grid):
                seed_all()
                try:
                    s, fs = fit_fn(split.validation, p)
                    m = score(s, f"{key}-val-{n}", "validation")
                    del s
                except Skipped:
                    raise
                except Exception as e:  # noqa: BLE001 (one bad grid point does not sink the peer)
                    log(f"  {key} {setting_str(p)}: failed: {type(e).__name__}: {e}")
                    res.grid.append((p, {"error": f"{type(e).__name__}: {e}"}, None))
                    continue
                v = float(m.get(metric, math.nan))
                log(f"  {key} [{n + 1}/{len(grid)}] {setting_str(p)}: validation {metric} {v:.4f} (fit {fs:.1f} s)")
                res.grid.append((p, m, fs))
                if v > best_v:
                    best_v, best = v, p
            if best_v == -math.inf:
                raise RuntimeError("every grid point failed")
        elif split.validation is not None:
            res.grid.append((best, {}, None))
        seed_all()
        s, fs = fit_fn(split.test, best)
        res.test = score(s, key, "test")
        res.setting, res.fit_seconds = best, fs
        log(f"  {key} {setting_str(best)}: test {metric} {float(res.test.get(metric, math.nan)):.4f} "
            f"(fit {fs:.1f} s)")
    except Skipped as e:
        res.status = f"skipped: {e}"
        log(f"  {key}: {res.status}")
    except Exception as e:  # noqa: BLE001
        res.status = f"failed: {type(e).__name__}: {e}".replace("\n", " ")[:300]
        log(f"  {key}: {res.status}")
        traceback.print_exc(file=sys.stderr)
    res.wall = time.perf_counter() - t0
    return res


# --------------------------------------------------------------------------------------------------------------
# Report


def fmt(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (int, float)):
        return f"{v:.{digits}f}"
    return str(v)


def our_row(run: Path, k: int) -> list[str]:
    config = json.loads((run / "config.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").is_file() else {}
    rank = metrics.get("ranking", {}) if isinstance(metrics.get("ranking"), dict) else {}
    secs = metrics.get("seconds", {}) if isinstance(metrics.get("seconds"), dict) else {}
    model = config.get("model", run.name)
    if isinstance(model, dict):
        model = model.get("kind") or model.get("name") or run.name
    setting = "-"
    tuning = json.loads((run / "tuning.json").read_text()) if (run / "tuning.json").is_file() else {}
    for key in ("best", "chosen", "best_setting", "selected", "best_params"):
        if key in tuning:
            b = tuning[key]
            b = b.get("setting", b.get("params", b)) if isinstance(b, dict) else b
            setting = setting_str(b) if isinstance(b, dict) else str(b)
            break
    return [f"**{model}** (recsys, `{run}`)", setting, fmt(rank.get(f"hr@{k}")), fmt(rank.get(f"ndcg@{k}")),
            fmt(rank.get(f"recall@{k}")), fmt(rank.get("mrr")), fmt(secs.get("fit"), 2)]


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def report(split: Split, runs: list[Path], results: list[PeerResult], wall: float, notes: list[str]) -> str:
    k = split.k
    ranking = "targets ranked among candidates.csv" if split.sampled else "every unseen item a candidate"
    users = next((r.test.get("users") for r in results if r.test.get("users") is not None), None)
    head = [f"## Peers side by side: `{split.run}`", "",
            f"Split: {split.protocol}, {ranking}, K = {k}; {len(split.user_ids)} users × {len(split.item_ids)} items, "
            f"{len(split.test.users)} fit rows" + (f", {users} evaluated users" if users is not None else "") + ". "
            f"All numbers by the C++ scorer (`recsys evaluate --scores`). Peers tuned on "
            + (f"validation/ by validation ndcg@{k}, grid of {split.grid_size} points"
               if split.validation is not None else "nothing (the run has no validation/: default settings)")
            + f"; fit s = wall clock of the final fit on interactions.csv ({THREADS} threads).", ""]
    rows = [our_row(r, k) for r in runs]
    for r in results:
        if r.status != "ok":
            rows.append([r.label, r.status, "", "", "", "", ""])
            continue
        t = r.test
        rows.append([r.label, setting_str(r.setting or {}), fmt(t.get(f"hr@{k}")), fmt(t.get(f"ndcg@{k}")),
                     fmt(t.get(f"recall@{k}")), fmt(t.get("mrr")), fmt(r.fit_seconds, 2)])
    table = md_table(["model", "setting", f"HR@{k}", f"NDCG@{k}", f"Recall@{k}", "MRR", "fit s"], rows)
    grid_rows = []
    for r in results:
        for p, m, fs in r.grid:
            chosen = "**chosen**" if r.status == "ok" and p == r.setting else ""
            v = m.get("error") if "error" in m else fmt(m.get(f"ndcg@{k}"))
            grid_rows.append([r.key, setting_str(p), v, fmt(fs, 2), chosen])
    parts = head + [table, ""]
    if grid_rows:
        parts += [f"### Grids (validation ndcg@{k} of each point)", "",
                  md_table(["peer", "setting", f"val NDCG@{k}", "fit s", ""], grid_rows), ""]
    parts += ["Notes:"] + [f"- {n}" for n in notes]
    parts += [f"- harness wall time {wall:.0f} s; per peer: " +
              ", ".join(f"{r.key} {r.wall:.0f} s" for r in results), ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run folders of `recsys train` on one split; the first "
                                                       "one's export is the data")
    ap.add_argument("--recsys", default="build/release/tools/recsys", help="the recsys binary (the scorer)")
    ap.add_argument("--peers", default=",".join(ALL_PEERS), help="comma list of " + ",".join(ALL_PEERS))
    ap.add_argument("--threads", type=int, default=2, help="threads every peer gets (BLAS, OpenMP, implicit, "
                                                           "LightFM, torch)")
    ap.add_argument("--out", type=Path, help="also write the markdown report here")
    ap.add_argument("--sampled", action="store_true", help="expect a sampled protocol: the C++ scorer ranks "
                                                           "candidates.csv (the run must have it)")
    ap.add_argument("--grid-size", type=int, help="override tuning.json's grid_size")
    ap.add_argument("--seq-epochs", type=int, help="epochs of SASRec and GRU4Rec (default 15 with allpos, about 9 s "
                                                          "each on 2 cores; 2 with --seq-train recbole)")
    ap.add_argument("--seq-grid", type=int, help="cap the SASRec/GRU4Rec grid below grid_size (CPU time)")
    ap.add_argument("--seq-train", choices=["allpos", "recbole"], default="allpos",
                    help="SASRec/GRU4Rec training loop (see seq_fit); recbole = RecBole's Trainer, ~50x slower")
    a = ap.parse_args()

    t_start = time.perf_counter()
    peers = [p.strip() for p in a.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise SystemExit(f"unknown peers {unknown}; known: {','.join(ALL_PEERS)}")
    check_scorer(a.recsys)

    split = load_split(a.runs[0])
    ref = split_fingerprint(a.runs[0])
    for r in a.runs[1:]:
        fp = split_fingerprint(r)
        diff = [f for f in ref if ref[f] != fp[f]]
        if diff:
            raise SystemExit(f"{r} and {a.runs[0]} were not evaluated on the same split: {', '.join(diff)} differ. "
                             "Compare runs made with the same --data and --eval options.")
    if a.sampled and not split.sampled:
        raise SystemExit(f"--sampled: {a.runs[0]} has no candidates.csv (train it with --eval-negatives N)")
    if a.grid_size:
        split.grid_size = a.grid_size
    others = {}
    for r in a.runs[1:]:
        if (r / "tuning.json").is_file():
            g = json.loads((r / "tuning.json").read_text()).get("grid_size")
            if g is not None and int(g) != split.grid_size:
                others[str(r)] = int(g)
    if a.seq_epochs:
        SEQ["epochs"] = {"sasrec": a.seq_epochs, "gru4rec": a.seq_epochs}
    SEQ["grid"], SEQ["train"] = a.seq_grid, a.seq_train
    if a.seq_train == "recbole" and not a.seq_epochs:
        SEQ["epochs"] = {"sasrec": 2, "gru4rec": 2}

    notes = [f"seed {SEED} for every peer; implicit BPR and LightFM run Hogwild-style over {THREADS} threads "
             "(not bitwise repeatable)",
             "implicit feedback (pop, item-kNN, EASE, ALS, BPR, LightFM, SASRec, GRU4Rec): each interactions.csv "
             "row counts as 1; SVD and SVD++ fit the ratings and rank by predicted rating (unclipped)"]
    if any(p in peers for p in ("sasrec", "gru4rec")):
        n_seq = len(seq_grid(split.grid_size))
        notes.append(f"SASRec (hidden 64, 2 layers, 2 heads) and GRU4Rec (hidden 64, 1 layer): max sequence "
                     f"{SEQ['max_len']}, CE over all items, {SEQ['epochs']['sasrec']} / {SEQ['epochs']['gru4rec']} "
                     f"epochs, training loop '{SEQ['train']}'"
                     + (" (every position's next item; RecBole's prefix-augmented Trainer costs ~50× the compute)"
                        if SEQ["train"] == "allpos" else " (RecBole's Trainer; epochs capped for CPU time)")
                     + (f"; grid cut to {n_seq} of {split.grid_size} points for CPU time"
                        if n_seq < split.grid_size else ""))
    if others:
        notes.append(f"grid size {split.grid_size} from the first run ({a.runs[0]}); the other runs tuned over "
                     + ", ".join(f"{g} ({r})" for r, g in others.items()))
    if split.validation is None:
        notes.append("the run has no validation/ (train it with --tune): every peer ran its default setting")

    log(f"split: {a.runs[0]} ({len(split.user_ids)} users, {len(split.item_ids)} items, {len(split.test.users)} "
        f"fit rows; grid {split.grid_size}; threads {THREADS})")
    results = []
    with tempfile.TemporaryDirectory(prefix="peers_scores_") as tmp:
        score = Scorer(a.recsys, a.runs[0], Path(tmp))
        for key in peers:
            log(f"{key}: {PEERS[key][0]}")
            results.append(run_peer(key, split, score))
    text = report(split, a.runs, results, time.perf_counter() - t_start, notes)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
