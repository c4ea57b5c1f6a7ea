#!/usr/bin/env bash
# scripts/peers-setup.sh — pip-installs the Python peers bench/compare_peers.py runs beside recsys (numpy, scipy,
# implicit, scikit-surprise, LightFM, torch, RecBole; pinned in bench/requirements-peers.txt). Benchmark only: the
# library and its CLI need none of it. Each peer installs on its own: one that fails is reported and the harness
# skips it (saying why). Safe to re-run. Installs into the virtual environment build/peers-venv (made with
# ${PYTHON:-python3} -m venv; compare_peers.py runs itself there when it exists), so the pins (numpy < 2,
# pandas 2.2) never touch the interpreter the other benchmarks use. PEERS_VENV=DIR: another place;
# PEERS_VENV=none: into ${PYTHON:-python3} itself.
set -uo pipefail
cd "$(dirname "$0")/.."
venv=${PEERS_VENV:-build/peers-venv}
if [ "$venv" = none ]; then
  py=${PYTHON:-python3}
else
  if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv" || { echo "peers-setup: cannot make the venv $venv (apt-get install python3-venv?)"; exit 1; }
  fi
  py=$venv/bin/python
fi
req=bench/requirements-peers.txt
pin() { grep -E "^$1==" "$req" | head -1; }
pipi() { "$py" -m pip install --disable-pip-version-check -q "$@"; }
failed=()

echo "peers-setup: $("$py" --version) at $(command -v "$py")"
# the harness itself: numpy/scipy (numpy < 2 for RecBole), pandas for Surprise and RecBole
pipi "$(pin numpy)" "$(pin scipy)" "$(pin pandas)" "$(pin threadpoolctl)" || { echo "peers-setup: numpy/scipy failed"; exit 1; }

# LightFM first: it builds only without build isolation and with setuptools < 70, and torch later needs >= 77
if ! "$py" -c "import lightfm" 2>/dev/null; then
  if pipi "setuptools>=69,<70" cython wheel && pipi --no-build-isolation lightfm==1.17; then :; else failed+=(lightfm); fi
fi

for pkg in implicit scikit-surprise torch recbole; do
  echo "peers-setup: $(pin "$pkg")"
  pipi "$(pin "$pkg")" || failed+=("$pkg")
done

# what imports now (the harness marks the others skipped)
"$py" - <<'PY'
import importlib
for mod in ("numpy", "scipy", "implicit", "surprise", "lightfm", "torch", "recbole"):
    try:
        m = importlib.import_module(mod)
        print(f"  {mod:9s} {getattr(m, '__version__', '?')}")
    except Exception as e:
        print(f"  {mod:9s} NOT importable: {type(e).__name__}: {e}")
PY
if ((${#failed[@]})); then
  echo "peers-setup: could not install: ${failed[*]} (compare_peers.py skips those peers)"
fi
exit 0
