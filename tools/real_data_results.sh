#!/usr/bin/env bash
# tools/real_data_results.sh — reproduces the README's "Results on real data": every recsys command behind the table, then the table itself (markdown).
# Needs the recsys command built (cmake --build build/release --target recsys_cli) and the data sets in ../shared/data.
# Usage: tools/real_data_results.sh [RECSYS_BINARY] [OUT_DIR]   (defaults: build/release/tools/recsys, build/results)
# Takes about an hour on two cores: the sequence models, the tuning searches, the peers and the three 5-fold ReviewClassifier runs.
set -euo pipefail
cd "$(dirname "$0")/.."
recsys=${1:-build/release/tools/recsys}
out=${2:-build/results}
ml=../shared/data/movielens-ml-latest-small
uci=../shared/data/uci-sentiment-labelled-sentences
[ -x "$recsys" ] || { echo "real_data_results: no recsys binary at $recsys (build the recsys_cli target)" >&2; exit 1; }
[ -d "$ml" ] && [ -d "$uci" ] || { echo "real_data_results: ../shared/data is missing" >&2; exit 1; }
mkdir -p "$out"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

run() {  # run NAME recsys-arguments...: logs the command and its output to $out/NAME.log
  local name=$1
  shift
  echo "recsys $*" | tee "$out/$name.log"
  /usr/bin/time -f "%e s wall, %U s user" "$recsys" "$@" --quiet >>"$out/$name.log" 2>&1
  tail -n 1 "$out/$name.log"
}

# MovieLens: rating prediction on a seeded 80/20 split; MF's settings chosen on a validation split of the training rows.
run ml_split_mf train --model mf --data "$ml" --tune --out "$out/ml_split_mf"
# MovieLens: leave-last-out (each user's latest interaction), ranked against every unseen item (full ranking).
# Settings chosen with --tune on a validation split carved from the training rows by the same rule.
run ml_full_popularity train --model popularity --data "$ml" --eval leave-last-out --out "$out/ml_full_popularity"
run ml_full_content train --model content --data "$ml" --eval leave-last-out --out "$out/ml_full_content"
for m in itemknn ease; do
  run "ml_full_$m" train --model "$m" --data "$ml" --eval leave-last-out --tune --out "$out/ml_full_$m"
done
run ml_full_mf_bpr train --model mf --loss bpr --data "$ml" --eval leave-last-out --tune --out "$out/ml_full_mf_bpr"
# The sequence models at their defaults (SEQ_TUNE=1 searches their 4-point grids too: about 4x the time).
tune_seq=()
[ "${SEQ_TUNE:-0}" = 1 ] && tune_seq=(--tune)
for m in nextitem sasrec; do
  run "ml_full_$m" train --model "$m" --data "$ml" --eval leave-last-out "${tune_seq[@]}" --out "$out/ml_full_$m"
done
for m in content itemknn ease mf_bpr nextitem sasrec; do
  echo "recsys compare $out/ml_full_popularity $out/ml_full_$m" >"$out/compare_$m.log"
  "$recsys" compare "$out/ml_full_popularity" "$out/ml_full_$m" >>"$out/compare_$m.log"
done
# The peers on exactly the same split, scored by the same code (bench/compare_peers.py; scripts/peers-setup.sh).
if [ -x build/peers-venv/bin/python ] && [ "${PEERS:-1}" = 1 ]; then
  build/peers-venv/bin/python bench/compare_peers.py "$out"/ml_full_{ease,itemknn,mf_bpr,nextitem,sasrec,popularity} \
    --recsys "$recsys" --threads 2 --out "$out/peers.md" >"$out/peers.log" 2>&1 || echo "compare_peers failed: $out/peers.log"
fi
# The sampled protocol, for comparison with older papers: each user's latest interaction among 100 uniform negatives.
for m in popularity ease; do
  run "ml_sampled_$m" train --model "$m" --data "$ml" --eval leave-last-out --eval-negatives 100 --out "$out/ml_sampled_$m"
done
# UCI sentences: ReviewClassifier, 5-fold stratified cross-validation, one source at a time.
for src in amazon_cells imdb yelp; do
  run "uci_$src" train --model review --users "$uci/${src}_labelled.txt" --eval cv --folds 5 --out "$out/uci_$src"
done

python3 - "$out" <<'EOF'
import json, re, sys
out = sys.argv[1]
m = lambda name: json.load(open(f"{out}/{name}/metrics.json"))
def ci(model):
    text = open(f"{out}/compare_{model}.log").read()
    d = re.search(r"difference B - A: ([-+0-9.]+), 95% CI \[([-+0-9.]+), ([-+0-9.]+)\]", text)
    return f"{d.group(1)} [{d.group(2)}, {d.group(3)}]"
s = m("ml_split_mf")
print("| ml-latest-small, seeded 80/20 split | RMSE | MAE |\n|---|---:|---:|")
print(f"| MF (biased, MSE) | {s['rating']['rmse']:.4f} | {s['rating']['mae']:.4f} |")
for key, label in (("item_mean", "item mean (baseline)"), ("global_mean", "global mean (baseline)")):
    print(f"| {label} | {s['baselines'][key]['rmse']:.4f} | {s['baselines'][key]['mae']:.4f} |")
def tuned(name):
    try:
        return json.dumps(json.load(open(f"{out}/{name}/tuning.json"))["chosen"])
    except FileNotFoundError:
        return "defaults"
p = m("ml_full_popularity")["ranking"]
print(f"\n| ml-latest-small, leave-last-out, full ranking ({p['users']} users) | settings (validation) | HR@10 | NDCG@10 "
      "| Recall@20 | MRR | NDCG@10 minus popularity's [95% CI] |\n|---|---|---:|---:|---:|---:|---:|")
for name, label in (("ease", "EASE"), ("itemknn", "item-kNN"), ("sasrec", "SASRec (ours)"),
                    ("nextitem", "CNN-LSTM next-item"), ("mf_bpr", "MF (BPR loss)"), ("content", "ContentBased (TF-IDF)")):
    r = m(f"ml_full_{name}")["ranking"]
    print(f"| {label} | {tuned('ml_full_' + name)} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | {r['recall@20']:.4f} "
          f"| {r['mrr']:.4f} | {ci(name)} |")
print(f"| Popularity (baseline) | | {p['hr@10']:.4f} | {p['ndcg@10']:.4f} | {p['recall@20']:.4f} | {p['mrr']:.4f} | |")
print(f"| random order (chance) | | {m('ml_full_popularity')['baselines']['random']['hr@10']:.4f} "
      f"| {m('ml_full_popularity')['baselines']['random']['ndcg@10']:.4f} | | | |")
import os
if os.path.exists(f"{out}/peers.md"):
    print("\nPeers on the same split (bench/compare_peers.py):\n")
    print(open(f"{out}/peers.md").read())
print("\n| ml-latest-small, leave-last-out, 100 sampled negatives (labelled: not comparable to the table above) "
      "| HR@10 | NDCG@10 |\n|---|---:|---:|")
for name in ("ease", "popularity"):
    r = m(f"ml_sampled_{name}")["ranking"]
    print(f"| {name} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} |")
print("\n| UCI sentences, 5-fold stratified CV | ReviewClassifier accuracy (mean ± std over folds) | AUC | majority class |"
      "\n|---|---:|---:|---:|")
for src in ("amazon_cells", "imdb", "yelp"):
    c = m(f"uci_{src}")["cv"]
    print(f"| {src} | {c['accuracy_mean']:.4f} ± {c['accuracy_std']:.4f} | {c['auc_mean']:.4f} | 0.5000 |")
EOF
