#!/usr/bin/env python3
"""tests/golden/make_data_fixtures.py — golden outputs of pandas and scikit-learn for the data tests.

Run by hand (python3 with pandas and scikit-learn) from the repository root:
    python3 tests/golden/make_data_fixtures.py
It writes small files under tests/golden/fixtures/data/, which are committed; the C++ tests
(tests/data/*_golden_test.cpp) read them and never need Python. The real-data fixture (TF-IDF of
imdb_labelled.txt) is written only when ../shared/data is present; it holds derived numbers
(vocabulary, idf, per-row sums), never the sentences.
"""
import csv
import math
import os
import random

import numpy as np
import pandas as pd
import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "fixtures", "data")
SHARED = os.path.join(ROOT, "..", "shared", "data")
NA = ["", "NA", "NaN"]  # the C++ reader's default na_values


def path(name):
    return os.path.join(OUT, name)


def read(name):
    return pd.read_csv(path(name), keep_default_na=False, na_values=NA)


def write_frame(df, name):
    df.to_csv(path(name), index=False, na_rep="", float_format="%.17g", lineterminator="\n")


# ---------------------------------------------------------------- tables
def make_table():
    rng = random.Random(7)
    reviews = ["great", "bad, really", 'said "wow"', "meh", "two\nlines", "NA", ""]
    rows = []
    for i in range(60):
        user = rng.randint(1, 6)
        item = rng.randint(1, 8)
        rating = rng.choice([0.5, 1.0, 2.5, 3.0, 3.5, 4.0, 5.0, None])
        review = rng.choice(reviews)
        count = rng.choice([1, 2, 3, None])
        rows.append([user, item, rating, review, count])
        if i % 5 == 0:
            rows.append(list(rows[rng.randrange(len(rows))]))  # an exact duplicate
    # pandas writes None as an empty field; "NA" and "" read back as missing too.
    with open(path("table_input.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["user_id", "item_id", "rating", "review", "count"])
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    items = pd.DataFrame({"item_id": [1, 2, 3, 5, 8, 8, 9], "title": ["A", "B, the", "C", "E", "H", "H2", "I"]})
    write_frame(items, "table_items.csv")


def table_fixtures():
    df = read("table_input.csv")
    items = read("table_items.csv")
    write_frame(df.drop_duplicates(), "drop_duplicates_all.csv")
    write_frame(df.drop_duplicates(subset=["user_id", "item_id"]), "drop_duplicates_subset.csv")
    write_frame(df.fillna({"rating": 2.75, "review": "none", "count": 0}), "fillna.csv")
    write_frame(df.dropna(subset=["rating", "count"]), "dropna.csv")
    write_frame(df.sort_values(["rating", "user_id"], ascending=[False, True], kind="stable", na_position="last"),
                "sort.csv")
    g = df.groupby(["user_id"], sort=True)
    write_frame(g.size().reset_index(name="count"), "groupby_count.csv")
    write_frame(g[["rating", "count"]].mean().reset_index(), "groupby_mean.csv")
    write_frame(df.merge(items, on="item_id", how="inner"), "inner_join.csv")
    write_frame(df.merge(items, on="item_id", how="left"), "left_join.csv")


# ---------------------------------------------------------------- text
CORPUS = [
    "The movie was GREAT, great acting!",
    "I didn't like the movie; the plot was thin.",
    "Great plot, great cast -- a must-see (10/10).",
    "Worst film ever... 0/10, would not watch again",
    "snake_case tokens and CamelCase: keep_them",
    "Café crème at the café: très bon!",
    "naïve ÉLAN — “quoted” words… and an em—dash",
    "a b c d e",
    "",
    "Numbers 2024 and 3.14 and 1,000,000 count too",
    "The the THE tHe",
    "Plot twist: the movie was the plot.",
]


def write_sparse(m, stem):
    m = m.tocsr()
    m.sort_indices()
    with open(path(stem + "_matrix.csv"), "w") as f:
        f.write("row,col,value\n")
        for r in range(m.shape[0]):
            for k in range(m.indptr[r], m.indptr[r + 1]):
                f.write(f"{r},{m.indices[k]},{float(m.data[k])!r}\n")
    with open(path(stem + "_shape.txt"), "w") as f:
        f.write(f"{m.shape[0]} {m.shape[1]} {m.nnz}\n")


def write_lines(lines, name):
    with open(path(name), "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(f"{line}\n")


def text_fixtures():
    write_lines(CORPUS, "text_corpus.txt")
    configs = {
        "count_default": CountVectorizer(),
        "count_binary_min_df2": CountVectorizer(binary=True, min_df=2),
        "count_max_features": CountVectorizer(max_features=7),
        "count_max_df": CountVectorizer(max_df=0.2),
        "tfidf_default": TfidfVectorizer(),
        "tfidf_sublinear_l1_nosmooth": TfidfVectorizer(sublinear_tf=True, norm="l1", smooth_idf=False),
        "tfidf_noidf_nonorm": TfidfVectorizer(use_idf=False, norm=None),
        "tfidf_binary_min_df2": TfidfVectorizer(binary=True, min_df=2),
        "count_ngram_1_2": CountVectorizer(ngram_range=(1, 2)),
        "tfidf_ngram_2_3_min_df2": TfidfVectorizer(ngram_range=(2, 3), min_df=2, sublinear_tf=True),
    }
    for stem, vec in configs.items():
        m = vec.fit_transform(CORPUS)
        if stem == "count_max_features":  # the kept set must not hinge on a tie (sklearn breaks ties arbitrarily)
            full = CountVectorizer().fit(CORPUS)
            totals = sorted(np.asarray(full.transform(CORPUS).sum(axis=0)).ravel(), reverse=True)
            assert totals[6] != totals[7], "max_features boundary is a tie; pick another size"
        write_lines(vec.get_feature_names_out(), stem + "_vocab.txt")
        write_sparse(m, stem)
        if hasattr(vec, "idf_"):
            write_lines([repr(float(v)) for v in vec.idf_], stem + "_idf.txt")

    imdb = os.path.join(SHARED, "uci-sentiment-labelled-sentences", "imdb_labelled.txt")
    if not os.path.exists(imdb):
        print("skipping the real-data fixture:", imdb, "is absent")
        return
    with open(imdb, encoding="utf-8", newline="") as f:
        docs = [line.split("\t")[0] for line in f.read().split("\n") if line]
    assert len(docs) == 1000
    vec = TfidfVectorizer()
    m = vec.fit_transform(docs).tocsr()
    write_lines(vec.get_feature_names_out(), "imdb_tfidf_vocab.txt")
    write_lines([repr(float(v)) for v in vec.idf_], "imdb_tfidf_idf.txt")
    m.sort_indices()
    with open(path("imdb_tfidf_rows.csv"), "w") as f:
        f.write("row,nnz,sum,max,col_weighted_sum\n")  # the last is sum(col * value): it checks the columns
        for r in range(m.shape[0]):
            cols, vals = m.indices[m.indptr[r]:m.indptr[r + 1]], m.data[m.indptr[r]:m.indptr[r + 1]]
            top = float(vals.max()) if len(vals) else 0.0
            f.write(f"{r},{len(vals)},{float(vals.sum())!r},{top!r},{float((cols * vals).sum())!r}\n")


# ---------------------------------------------------------------- splits
def approximate_mode_has_ties(counts, n_draws):
    """True when sklearn's _approximate_mode would break a tie at random for these counts."""
    counts = np.asarray(counts)
    cont = counts / counts.sum() * n_draws
    floored = np.floor(cont)
    need = int(n_draws - floored.sum())
    if need == 0:
        return False
    rem = cont - floored
    values = np.sort(np.unique(rem))[::-1]
    for v in values:
        inds = np.where(rem == v)[0]
        if need < len(inds):
            return True
        need -= len(inds)
        if need == 0:
            return False
    return False


def split_fixtures():
    scenarios = [
        ("balanced", [0] * 50 + [1] * 50, 0.2),
        ("skewed", [0] * 47 + [1] * 31 + [2] * 22, 0.25),
        ("strings", ["pos"] * 13 + ["neg"] * 7 + ["mid"] * 5, 0.3),
        ("count", [1] * 60 + [0] * 40 + [2] * 3, 17),
        ("seed_size", [1] * 500 + [0] * 500, 0.2),
    ]
    label_rows, size_rows = [], []
    for name, labels, test_size in scenarios:
        y = np.array(labels)
        rng = random.Random(len(name))
        order = list(range(len(y)))
        rng.shuffle(order)
        y = y[order]  # interleave the classes
        train, test = train_test_split(np.arange(len(y)), test_size=test_size, random_state=42, stratify=y)
        classes, counts = np.unique(y, return_counts=True)
        n_test = len(test)
        n_train = len(train)
        assert not approximate_mode_has_ties(counts, n_train), name
        assert not approximate_mode_has_ties(counts - np.array([np.sum(y[train] == c) for c in classes]), n_test), name
        for i, label in enumerate(y):
            label_rows.append([name, str(label)])
        for c, total in zip(classes, counts):
            size_rows.append([name, repr(test_size), str(c), int(total), int(np.sum(y[train] == c)),
                              int(np.sum(y[test] == c))])
        plain_train, plain_test = train_test_split(np.arange(len(y)), test_size=test_size, random_state=0)
        size_rows.append([name, repr(test_size), "*", len(y), len(plain_train), len(plain_test)])
    with open(path("split_labels.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["scenario", "label"])
        w.writerows(label_rows)
    with open(path("split_sizes.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["scenario", "test_size", "class", "total", "train", "test"])
        w.writerows(size_rows)

    fold_rows = []
    for n, k in [(23, 5), (10, 3), (6, 6)]:
        for f_idx, (_, test) in enumerate(KFold(n_splits=k).split(np.arange(n))):
            for i in test:
                fold_rows.append(["kfold", n, k, int(i), f_idx, ""])
    y = np.array([2, 0, 1, 1, 0, 2, 2, 2, 0, 1, 0, 0, 2, 1, 1, 2, 0, 2, 2, 1, 0, 2, 1])
    for k in (2, 3, 5):
        for f_idx, (_, test) in enumerate(StratifiedKFold(n_splits=k).split(np.zeros(len(y)), y)):
            for i in test:
                fold_rows.append(["stratified", len(y), k, int(i), f_idx, int(y[i])])
    with open(path("kfold.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kind", "n", "k", "sample", "fold", "label"])
        w.writerows(fold_rows)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print("pandas", pd.__version__, "scikit-learn", sklearn.__version__)
    make_table()
    table_fixtures()
    text_fixtures()
    split_fixtures()
    print("wrote", len(os.listdir(OUT)), "files to", OUT)
