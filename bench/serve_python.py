#!/usr/bin/env python3
"""bench/serve_python.py — the peer of `recsys serve` for bench/serve_bench.sh: the same trained mf run served
the way a Python user would, FastAPI + uvicorn with numpy scoring. Reads the run folder's model.safetensors,
users.csv, items.csv, interactions.csv and held_out.csv; POST /v1/recommend {"user", "n"} answers the same
JSON as ours (unseen items only: neither rated in training nor held out; unknown users get the most-rated
items with "cold_start": true).

usage: RUN=runs/ml_mf uvicorn --app-dir bench serve_python:app --port 8090 [--workers 2]
"""
import csv
import json
import os
import struct

import numpy as np
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

RUN = os.environ.get("RUN", "runs/ml_mf")


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        blob = f.read()
    types = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(blob[a:b], dtype=types[t["dtype"]]).reshape(t["shape"])
    return out


def read_column(path, column):
    with open(path, newline="", encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f)]


w = read_safetensors(os.path.join(RUN, "model.safetensors"))
P = np.ascontiguousarray(w["user_factors.embeddings"], dtype=np.float32)
Q = np.ascontiguousarray(w["item_factors.embeddings"], dtype=np.float32)
bu = w["user_bias.embeddings"].reshape(-1).astype(np.float32)
bi = w["item_bias.embeddings"].reshape(-1).astype(np.float32)
mu = float(np.asarray(w["global_mean"]).reshape(-1)[0])
user_ids = read_column(os.path.join(RUN, "users.csv"), "user_id")
item_ids = read_column(os.path.join(RUN, "items.csv"), "item_id")
titles = read_column(os.path.join(RUN, "items.csv"), "title")
user_index = {u: k for k, u in enumerate(user_ids)}
item_index = {i: k for k, i in enumerate(item_ids)}
seen = [[] for _ in user_ids]
counts = np.zeros(len(item_ids))
with open(os.path.join(RUN, "interactions.csv"), newline="") as f:
    for row in csv.DictReader(f):
        seen[user_index[row["user_id"]]].append(item_index[row["item_id"]])
        counts[item_index[row["item_id"]]] += 1
held = os.path.join(RUN, "held_out.csv")
if os.path.exists(held):
    with open(held, newline="") as f:
        for row in csv.DictReader(f):
            if row["user_id"] in user_index and row["item_id"] in item_index:
                seen[user_index[row["user_id"]]].append(item_index[row["item_id"]])
seen = [np.array(sorted(set(s)), dtype=np.int64) for s in seen]
popular = np.argsort(-counts, kind="stable")

app = FastAPI()


class RecommendRequest(BaseModel):
    user: str
    n: int = 10


@app.post("/v1/recommend")
def recommend(req: RecommendRequest):
    if not 1 <= req.n <= 1000:
        raise HTTPException(status_code=400, detail="n must be between 1 and 1000")
    u = user_index.get(req.user)
    if u is None:
        top = popular[: req.n]
        scores = counts[top]
    else:
        s = Q @ P[u] + bi + (mu + bu[u])
        s[seen[u]] = -np.inf
        n = min(req.n, len(s) - len(seen[u]))
        part = np.argpartition(-s, n - 1)[:n]
        top = part[np.argsort(-s[part], kind="stable")]
        scores = s[top]
    return {"user": req.user, "cold_start": u is None,
            "items": [{"item": item_ids[i], "title": titles[i], "score": float(v)} for i, v in zip(top, scores)],
            "model": "mf"}
