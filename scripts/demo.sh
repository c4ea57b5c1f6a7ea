#!/usr/bin/env bash
# scripts/demo.sh — watch the reference CNN-LSTM train: installs what is missing, builds Release, runs the Keras-style example.
# For now the demo is examples/keras_style.cpp on a synthetic token task (a later stage runs the recommender
# pipeline instead). Its files — weights, history CSV, an SVG chart of the loss and accuracy curves — land in
# build/demo/. Pass epochs and samples to change the budget: scripts/demo.sh 2 1000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build build/release --target keras_style -j "$(nproc)"

mkdir -p build/demo
cd build/demo
../release/examples/keras_style "$@"
echo "demo: outputs in $(pwd)"
