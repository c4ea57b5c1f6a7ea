#!/usr/bin/env python3
"""tests/tools/serve_client_test.py — `recsys serve` as a client sees it: starts the server on an ephemeral
port of 127.0.0.1, calls every endpoint over HTTP (urllib), checks the error codes, cold start, ten hot
reloads under concurrent requests (0 failed requests), a failed reload, SIGHUP, and a graceful SIGTERM.

usage: serve_client_test.py RECSYS_BINARY WORK_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

RECSYS, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TOKEN = "t0ken-for-tests"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what, flush=True)


def run(*args):
    subprocess.run([RECSYS, *args], check=True, stdout=subprocess.DEVNULL, cwd=WORK)


def call(port, method, path, body=None, headers=None, raw=None):
    """(status, parsed JSON or text) of one request; never raises for an HTTP error status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if method == "POST" and data is None:
        data = b""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text, ctype = r.status, r.read().decode(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, text, ctype = e.code, e.read().decode(), e.headers.get("Content-Type", "")
    return status, (json.loads(text) if ctype.startswith("application/json") else text)


def error_field(answer):
    return answer.get("error", {}).get("field") if isinstance(answer, dict) else None


def point(link, target):
    """Atomically points the served folder (a symlink) at another run."""
    tmp = link + ".tmp"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    run("generate", "--out", "data", "--users", "60", "--items", "150", "--ratings", "3000")
    run("train", "--model", "mf", "--data", "data", "--out", "runs/mf", "--eval", "leave-last-out", "--epochs", "3",
        "--quiet")
    run("train", "--model", "popularity", "--data", "data", "--out", "runs/pop", "--eval", "leave-last-out")
    shutil.copytree(os.path.join(WORK, "runs/mf"), os.path.join(WORK, "runs/broken"))
    with open(os.path.join(WORK, "runs/broken/model.safetensors"), "w") as f:
        f.write("not a weight file")
    live = os.path.join(WORK, "runs/live")
    point(live, os.path.join(WORK, "runs/mf"))
    with open(os.path.join(WORK, "token"), "w") as f:
        f.write(TOKEN + "\n")

    server = subprocess.Popen([RECSYS, "serve", "runs/live", "--port", "0", "--threads", "4", "--admin-token-file",
                               "token", "--max-batch", "50"], cwd=WORK, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    print(line.strip(), flush=True)
    check("listening on http://127.0.0.1:" in line, "the server prints the address it bound")
    port = int(line.split("127.0.0.1:")[1].split("/")[0])
    try:
        exercise(port, live, server)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            out, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            out, err = server.communicate()
            failures.append("the server did not stop within 30 s of SIGTERM")
        print(err, flush=True)
    check(server.returncode == 0, f"SIGTERM: exit status 0 (got {server.returncode})")
    check("stopped" in err, "SIGTERM: the server says it stopped")
    try:
        call(port, "GET", "/healthz")
        failures.append("the port still answers after shutdown")
    except (urllib.error.URLError, ConnectionError):
        pass
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("all serve checks passed", flush=True)


def exercise(port, live, server):
    # ---- liveness, readiness, the model ----
    check(call(port, "GET", "/healthz") == (200, {"status": "ok"}), "GET /healthz")
    s, a = call(port, "GET", "/readyz")
    check(s == 200 and a["status"] == "ready" and a["model_version"] == 1, "GET /readyz")
    s, m = call(port, "GET", "/v1/model")
    check(s == 200 and m["model"] == "mf" and m["run_id"] == "live" and m["model_version"] == 1, "GET /v1/model")
    check(len(m["data_fingerprint"]) > 0 and m["trained_at"].endswith("Z"), "GET /v1/model: fingerprint, trained at")
    check("ranking" in json.dumps(m["metrics"]), "GET /v1/model: the run's metrics.json")
    check(m["capabilities"]["similar"] is True, "GET /v1/model: mf has similar items")

    # ---- recommend, batch, cold start, score, similar ----
    s, r = call(port, "POST", "/v1/recommend", {"user": "1", "n": 5})
    check(s == 200 and r["user"] == "1" and r["cold_start"] is False and len(r["items"]) == 5, "POST /v1/recommend")
    check(all({"item", "title", "score"} <= set(i) for i in r["items"]), "recommend: items have id, title, score")
    scores = [i["score"] for i in r["items"]]
    check(scores == sorted(scores, reverse=True), "recommend: best first")
    top = [i["item"] for i in r["items"]]
    s, r2 = call(port, "POST", "/v1/recommend", {"user": "1", "n": 5, "exclude": top[:2]})
    check(s == 200 and not set(top[:2]) & {i["item"] for i in r2["items"]}, "recommend: exclude")
    s, r3 = call(port, "POST", "/v1/recommend", {"user": "1", "n": 3, "candidates": top[2:] + ["no-such-item"]})
    check(s == 200 and {i["item"] for i in r3["items"]} == set(top[2:]) and r3["unknown_items"] == ["no-such-item"],
          "recommend: candidates")
    s, c = call(port, "POST", "/v1/recommend", {"user": "somebody-new", "n": 4})
    check(s == 200 and c["cold_start"] is True and len(c["items"]) == 4, "recommend: unknown user is cold-started")
    s, b = call(port, "POST", "/v1/recommend", {"users": ["1", "2", "somebody-new"], "n": 2})
    check(s == 200 and [x["user"] for x in b["results"]] == ["1", "2", "somebody-new"] and
          [x["cold_start"] for x in b["results"]] == [False, False, True], "recommend: batch")
    s, sc = call(port, "POST", "/v1/score", {"user": "1", "items": [top[0], "no-such-item"]})
    check(s == 200 and abs(sc["scores"][0]["score"] - r["items"][0]["score"]) < 1e-9 and
          sc["scores"][1]["score"] is None, "POST /v1/score")
    s, sim = call(port, "POST", "/v1/similar", {"item": top[0], "n": 3})
    check(s == 200 and len(sim["items"]) == 3 and top[0] not in [i["item"] for i in sim["items"]], "POST /v1/similar")

    # ---- errors: status and the field named ----
    for what, method, path, body, status, field in [
        ("broken JSON", "POST", "/v1/recommend", b'{"user": ', 400, "body"),
        ("not an object", "POST", "/v1/recommend", b"[]", 400, "body"),
        ("unknown field", "POST", "/v1/recommend", b'{"usr": "1"}', 400, "usr"),
        ("n too large", "POST", "/v1/recommend", b'{"user": "1", "n": 5000}', 400, "n"),
        ("batch too large", "POST", "/v1/recommend", json.dumps({"users": [str(u) for u in range(51)]}).encode(),
         400, "users"),
        ("score without items", "POST", "/v1/score", b'{"user": "1"}', 400, "items"),
        ("similar unknown item", "POST", "/v1/similar", b'{"item": "nope"}', 404, "item"),
        ("unknown path", "GET", "/v1/nothing", None, 404, "path"),
        ("wrong method", "GET", "/v1/recommend", None, 405, "method"),
        ("admin without token", "POST", "/admin/reload", b"", 401, "Authorization"),
        ("body over 1 MiB", "POST", "/v1/recommend", b" " * (2 << 20), 413, "body"),
    ]:
        s, e = call(port, method, path, raw=body)
        check(s == status and error_field(e) == field, f"error: {what}: {status} naming '{field}' (got {s} {e})")
    s, e = call(port, "POST", "/admin/reload", raw=b"", headers={"Authorization": "Bearer wrong"})
    check(s == 401, "admin with a wrong token: 401")

    # ---- ten hot reloads under concurrent requests: not one request fails ----
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0, "kinds": set()}
    lock = threading.Lock()

    def client(k):
        while not stop.is_set():
            try:
                body = {"users": ["1", "2", "new"], "n": 10} if k % 2 else {"user": str(k + 1), "n": 10}
                s, a = call(port, "POST", "/v1/recommend", body)
                ok = s == 200
                kind = a.get("model") if isinstance(a, dict) else None
            except Exception as ex:  # a refused or reset connection counts as a failure too
                ok, kind = False, repr(ex)
            with lock:
                counts["ok" if ok else "failed"] += 1
                counts["kinds"].add(kind)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    auth = {"Authorization": "Bearer " + TOKEN}
    for k in range(10):
        point(live, os.path.join(WORK, "runs/pop" if k % 2 == 0 else "runs/mf"))
        s, a = call(port, "POST", "/admin/reload", raw=b"", headers=auth)
        check(s == 200 and a["model_version"] == k + 2, f"reload {k + 1}: 200, version {k + 2} (got {s} {a})")
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    print(f"reloads under load: {counts['ok']} requests answered, {counts['failed']} failed, "
          f"models seen {sorted(str(k) for k in counts['kinds'])}", flush=True)
    check(counts["failed"] == 0 and counts["ok"] > 20, "0 failed requests during 10 reloads")
    check(counts["kinds"] == {"mf", "popularity"}, "requests were answered by both models")

    # ---- a failed reload keeps the old model and says why ----
    point(live, os.path.join(WORK, "runs/broken"))
    s, a = call(port, "POST", "/admin/reload", raw=b"", headers=auth)
    check(s == 500 and a["reloaded"] is False and "model.safetensors" in a["error"]["message"] and
          a["model_version"] == 11, f"failed reload: 500 naming the file, version 11 kept (got {s} {a})")
    s, r = call(port, "POST", "/v1/recommend", {"user": "1"})
    check(s == 200 and r["model_version"] == 11, "after a failed reload the old model serves")
    s, text = call(port, "GET", "/metrics")
    check(s == 200 and "recsys_model_reload_failures_total 1" in text and "recsys_model_reloads_total 10" in text and
          "recsys_model_last_reload_ok 0" in text, "metrics: reloads and the failure")
    check('recsys_requests_total{endpoint="/v1/recommend",code="200"}' in text and
          'recsys_request_errors_total{endpoint="/v1/recommend",code="400"}' in text and
          'recsys_request_duration_seconds_bucket{endpoint="/v1/recommend",le="+Inf"}' in text and
          "recsys_model_version 11" in text, "metrics: requests, errors, latency histogram, version")

    # ---- SIGHUP reloads too ----
    point(live, os.path.join(WORK, "runs/mf"))
    server.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    version = 11
    while time.time() < deadline and version == 11:
        time.sleep(0.05)
        version = call(port, "GET", "/v1/model")[1]["model_version"]
    check(version == 12, "SIGHUP reloads the run folder")

    # ---- SIGTERM while requests are coming in: those answered are whole 200s, then the port closes ----
    statuses = []
    stop.clear()

    def stream():
        while not stop.is_set():
            try:
                statuses.append(call(port, "POST", "/v1/recommend", {"users": ["1", "2", "3"], "n": 20})[0])
            except Exception:
                return  # refused: the server has stopped accepting

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.3)
    server.send_signal(signal.SIGTERM)
    t.join(timeout=30)
    stop.set()
    check(len(statuses) > 0 and set(statuses) == {200}, f"requests around SIGTERM all 200 (got {set(statuses)})")


if __name__ == "__main__":
    main()
