#!/usr/bin/env python3
"""tests/tools/export_test.py — `recsys recommend` batch export as a process: --all-users to CSV through
--output (replaced atomically, no temporary left), --users - from stdin as JSON lines with an unknown id
skipped, and both formats agreeing with the table of a single --user.

usage: export_test.py RECSYS_BINARY WORK_DIR (WORK_DIR holds runs/mf from the cli_mf fixture)
"""
import csv
import json
import os
import subprocess
import sys

RECSYS, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])


def run(*args, stdin=None):
    return subprocess.run([RECSYS, "recommend", "runs/mf", *args], cwd=WORK, input=stdin, capture_output=True,
                          text=True, check=True)


def main():
    out = os.path.join(WORK, "export_all.csv")
    with open(out, "w") as f:
        f.write("old contents\n")
    r = run("--all-users", "--format", "csv", "--output", out, "-n", "4")
    assert "users' top 4 written to" in r.stderr, r.stderr
    with open(out) as f:
        rows = list(csv.DictReader(f))
    users = {row["user_id"] for row in rows}
    assert len(users) == 60, len(users)
    assert len(rows) == 60 * 4, len(rows)
    assert [row["rank"] for row in rows[:4]] == ["1", "2", "3", "4"]
    first = [row for row in rows if row["user_id"] == "1"]
    scores = [float(row["score"]) for row in first]
    assert scores == sorted(scores, reverse=True), scores
    assert not [n for n in os.listdir(WORK) if n.startswith("export_all.csv.tmp")], "a temporary file was left"

    r = run("--users", "-", "--format", "jsonl", "-n", "4", stdin="user_id\n1\nnobody\n\n2\n")
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["user"] for x in lines] == ["1", "2"], lines
    assert "unknown user id 'nobody' (skipped)" in r.stderr, r.stderr
    assert [i["item"] for i in lines[0]["items"]] == [row["item_id"] for row in first]
    assert all({"item", "title", "score"} <= set(i) for i in lines[0]["items"])

    table = run("--user", "1", "-n", "4").stdout
    for row in first:
        assert row["title"][:40] in table, (row["title"], table)
    print("export checks passed")


if __name__ == "__main__":
    main()
