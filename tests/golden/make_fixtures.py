#!/usr/bin/env python3
"""tests/golden/make_fixtures.py — regenerates every golden fixture: runs each tests/golden/*_fixtures.py in turn.

Run by hand from anywhere:
    python3 tests/golden/make_fixtures.py                 # every script, with this interpreter
    python3 tests/golden/make_fixtures.py model optim     # only the scripts whose names contain these words
    python3 tests/golden/make_fixtures.py --python /usr/bin/python3 lstm
The scripts need different packages (torch 1.13 for the PyTorch references, pandas and scikit-learn for the
data and metrics ones, safetensors for some); run with an interpreter that has them all, or run the groups
with --python. A script that fails does not stop the others; the summary lists it and the exit status is 1.
Each script's own docstring says what it writes under tests/golden/fixtures/ and which test reads it.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def scripts():
    me = os.path.basename(__file__)
    return sorted(f for f in os.listdir(HERE) if f.endswith("_fixtures.py") and f != me)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run only scripts whose file names contain one of these words")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the scripts (default: this one)")
    args = parser.parse_args()

    chosen = [s for s in scripts() if not args.only or any(word in s for word in args.only)]
    if not chosen:
        print(f"make_fixtures: no script matches {args.only}; there are {', '.join(scripts())}")
        return 1
    results = []
    for script in chosen:
        print(f"== {script}", flush=True)
        start = time.time()
        # From the repository root: some scripts name their outputs relative to it.
        code = subprocess.call([args.python, os.path.join(HERE, script)], cwd=ROOT)
        results.append((script, code, time.time() - start))
    print("\nmake_fixtures summary:")
    for script, code, seconds in results:
        print(f"  {'ok    ' if code == 0 else 'FAILED'} {script} ({seconds:.1f} s{'' if code == 0 else f', exit {code}'})")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
