#!/usr/bin/env bash
# scripts/demo.sh — the README's first command: set up, build the recsys command, generate and clean the built-in data, train the seed's CNN-LSTM as ReviewClassifier, SequenceRanker and next-item model, reload and recommend.
# Everything lands in build/demo/ (data/, runs/review, runs/ranker, runs/mf, runs/next, runs/ease: each run folder holds config.json,
# metrics.json, history.csv, curves.svg to open in a browser, and the model). The data set is sized so that the
# whole demo, build included, takes about three minutes on two cores; DEMO_RATINGS=20000 scripts/demo.sh trains on more.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { printf '\n\033[1m== %s\033[0m  (%ds)\n' "$*" $((SECONDS - start)); }

step "set-up: install what is missing"
scripts/setup.sh

step "build: Release, the recsys command only"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build build/release --target recsys_cli -j "$(nproc)"
recsys=build/release/tools/recsys

out=build/demo
rm -rf "$out/runs"
users=${DEMO_USERS:-300} items=${DEMO_ITEMS:-500} ratings=${DEMO_RATINGS:-10000}

step "data: generate the built-in synthetic movie site ($users users, $items movies, $ratings ratings)"
"$recsys" generate --out "$out/data" --users "$users" --items "$items" --ratings "$ratings"

step "clean: merge duplicates, fill or drop missing values"
"$recsys" clean --data "$out/data" --out "$out/data/clean"

# The seed's training recipe for both: 10 epochs, batch 32, Adam at 1e-3, held-out 20% (split seed 42).
recipe=(--data "$out/data" --epochs 10 --batch-size 32 --optimizer adam --lr 0.001)

# The generated reviews are 17 words long on median and at most 43, so they are padded to 40 ids
# rather than the seed's 100: the same network, without 60 steps of LSTM over padding.
step "ReviewClassifier: the seed's CNN-LSTM on the review text -> liked (rating >= 4)"
"$recsys" train --model review "${recipe[@]}" --max-length 40 --out "$out/runs/review"

# Without sampled negatives the ranker learns P(liked | user's recent likes, candidate) on rated pairs,
# the same question the held-out 20% asks, so its accuracy sits beside the Bayes-optimal one. Its input
# is the candidate's 8 feature tokens after those of the user's 4 latest liked movies: 40 ids.
step "SequenceRanker: the same network on (user's recently liked movies + candidate movie) -> liked"
"$recsys" train --model sequence "${recipe[@]}" --negatives 0 --history 4 --item-tokens 8 --out "$out/runs/ranker"

step "matrix factorization, for a second opinion on the recommendations"
"$recsys" train --model mf --data "$out/data" --out "$out/runs/mf" --quiet

step "A/B: do the ranker's scores separate liked from not liked better than the review model's? (same held-out rows)"
"$recsys" compare "$out/runs/review" "$out/runs/ranker" --metric auc

step "recommend: reload the saved ranker; top-10 unseen movies for three users, MF's list beside"
"$recsys" recommend "$out/runs/ranker" --user 1,2,3 -n 10 --beside "$out/runs/mf"

# The same network as a next-item model: it reads a user's latest movies in time order and scores the whole
# catalogue; judged against every movie the user has not seen (full ranking), beside EASE on the same split.
step "next-item: the seed's CNN-LSTM as a sequence encoder, each user's latest movie ranked among all unseen ones"
"$recsys" train --model nextitem --data "$out/data" --eval leave-last-out --epochs 5 --history 20 --quiet \
  --out "$out/runs/next"
"$recsys" train --model ease --data "$out/data" --eval leave-last-out --quiet --out "$out/runs/ease"
"$recsys" compare "$out/runs/ease" "$out/runs/next"
"$recsys" recommend "$out/runs/next" --user 1,2,3 -n 10 --beside "$out/runs/ease"

step "done in $((SECONDS - start)) s: outputs in $out/ (open $out/runs/ranker/curves.svg in a browser)"
