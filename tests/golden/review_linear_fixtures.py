#!/usr/bin/env python3
"""tests/golden/review_linear_fixtures.py — scikit-learn's optimum for ReviewLinear's test corpus.

Run by hand (python3 with scikit-learn) from the repository root:
    python3 tests/golden/review_linear_fixtures.py
It writes tests/golden/fixtures/rec/review_linear.csv (term, weight; the bias as the term "<bias>"),
committed; tests/rec/review_linear_test.cpp fits ReviewLinear on the same twelve reviews and
checks that it reaches the same weights. The objective is (1/N) sum BCE + (l2/2)|w|^2, which is
sklearn's LogisticRegression with C = 1 / (l2 N).
"""
import os

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "fixtures", "rec", "review_linear.csv")

# (review, liked): the corpus of the C++ test, in the same order.
REVIEWS = [
    ("a great fun film", 1), ("not good at all", 0), ("great acting and a great story", 1),
    ("dull and not fun", 0), ("good fun", 1), ("not great", 0), ("a story told well", 1),
    ("awful acting", 0), ("good story, good acting", 1), ("not a good film", 0),
    ("fun, fun, fun", 1), ("dull story told badly", 0),
]
L2 = 0.05

if __name__ == "__main__":
    texts = [t for t, _ in REVIEWS]
    y = [l for _, l in REVIEWS]
    vec = TfidfVectorizer(ngram_range=(1, 2))
    x = vec.fit_transform(texts)
    m = LogisticRegression(C=1.0 / (L2 * len(texts)), tol=1e-12, max_iter=100000).fit(x, y)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("term,weight\n")
        for term, w in zip(vec.get_feature_names_out(), m.coef_[0]):
            f.write(f"{term},{float(w)!r}\n")
        f.write(f"<bias>,{float(m.intercept_[0])!r}\n")
    print("wrote", OUT)
