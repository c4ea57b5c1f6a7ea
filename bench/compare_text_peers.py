#!/usr/bin/env python3
"""bench/compare_text_peers.py — scikit-learn's TF-IDF + logistic regression on exactly the folds of recsys runs.

Each RUN is a folder written by `recsys train --model review|review-linear --users X_labelled.txt --eval cv`:
its per_row.csv gives every sentence's fold, config.json the file. For each run's folds this fits
    sklearn TfidfVectorizer(ngram_range=(1, 2)) + LogisticRegression
twice: at sklearn's default C = 1, and with C chosen the way `recsys train --tune` chooses review-linear's
l2 (the same four points, C = 1 / (l2 * N_fit), on a stratified 20% of the fold's training rows, by AUC),
and prints one table: every run's accuracy beside the peers', on the same folds, scored the same way
(a probability above 0.5 predicts liked).

    build/peers-venv/bin/python bench/compare_text_peers.py build/results/uci_* [--out table.md]
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

L2_GRID = (3e-5, 1e-4, 3e-4, 1e-3)  # review-linear's tuning_grid()


def read_sentences(path):
    """The labelled sentences in file order, as recsys reads them (one 'text<TAB>label' per non-empty line)."""
    texts, labels = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            text, _, label = line.rpartition("\t")
            texts.append(text)
            labels.append(int(label))
    return texts, np.array(labels)


def read_run(run):
    config = json.load(open(os.path.join(run, "config.json")))
    if config["evaluation"]["protocol"] != "cv":
        sys.exit(f"compare_text_peers: {run} was not run with --eval cv")
    path = config["data"]["users"]
    texts, labels = read_sentences(path)
    folds = np.zeros(len(texts), dtype=int)
    with open(os.path.join(run, "per_row.csv")) as f:
        for row in csv.DictReader(f):
            line = int(row["item_id"].rpartition(":")[2])  # items are "<source>:<row number from 1>"
            folds[line - 1] = int(float(row["fold"]))
            if int(float(row["label"])) != labels[line - 1]:
                sys.exit(f"compare_text_peers: {run}: row {line} has another label than {path}")
    if (folds == 0).any():
        sys.exit(f"compare_text_peers: {run}: per_row.csv does not cover every sentence of {path}")
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    return config, os.path.basename(path).replace("_labelled.txt", ""), texts, labels, folds, metrics["cv"]


def fit_predict(train_texts, train_y, test_texts, c):
    vec = TfidfVectorizer(ngram_range=(1, 2))
    x = vec.fit_transform(train_texts)
    model = LogisticRegression(C=c, max_iter=5000, tol=1e-8).fit(x, train_y)
    return model.predict_proba(vec.transform(test_texts))[:, 1]


def tuned_c(texts, y, seed):
    """C from the grid, chosen on a stratified 20% of the fold's training rows by AUC (the fit share's N)."""
    tr, va = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed)
    best = None
    for l2 in L2_GRID:
        c = 1.0 / (l2 * len(tr))
        p = fit_predict([texts[i] for i in tr], y[tr], [texts[i] for i in va], c)
        auc = roc_auc_score(y[va], p)
        if best is None or auc > best[0]:
            best = (auc, l2)
    return 1.0 / (best[1] * len(y))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", help="also write the table (markdown) here")
    a = ap.parse_args()
    rows = []
    for run in a.runs:
        config, source, texts, labels, folds, cv = read_run(run)
        k = folds.max()
        acc = {"default": [], "tuned": []}
        for f in range(1, k + 1):
            tr, te = np.where(folds != f)[0], np.where(folds == f)[0]
            tr_texts, te_texts = [texts[i] for i in tr], [texts[i] for i in te]
            for name, c in (("default", 1.0), ("tuned", tuned_c(tr_texts, labels[tr], 42 + f))):
                p = fit_predict(tr_texts, labels[tr], te_texts, c)
                acc[name].append(float(((p > 0.5) == (labels[te] == 1)).mean()))
        ours = cv["accuracy_mean"]
        rows.append((source, config["model"], "tuned" if "fold_options" in cv else "as given", ours,
                     np.mean(acc["default"]), np.mean(acc["tuned"])))
        print(f"{run}: {source} {config['model']} {ours:.4f}; sklearn C=1 {rows[-1][4]:.4f}, tuned C {rows[-1][5]:.4f}",
              file=sys.stderr)
    lines = ["| sentences | recsys model | settings | recsys accuracy | sklearn TF-IDF+LR, C = 1 | sklearn, C tuned "
             "the same way | recsys minus best sklearn |", "|---|---|---|---:|---:|---:|---:|"]
    for source, model, how, ours, d, t in rows:
        lines.append(f"| {source} | {model} | {how} | {ours:.4f} | {d:.4f} | {t:.4f} | {ours - max(d, t):+.4f} |")
    table = "\n".join(lines)
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
