"""bench/cuda/summarize.py — turns one scripts/gpu-check.sh run (Google Benchmark JSON, the PyTorch JSON, the test
log) into the results table with the ratios the CUDA issue asks for. Usage: summarize.py OUT_DIR > summary.md"""
import json
import os
import re
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def benchmarks(doc):
    """name -> benchmark entry (the last one of that name)."""
    return {b["name"]: b for b in (doc or {}).get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"}


def main():
    out = sys.argv[1]
    lines = []
    say = lines.append
    env = open(os.path.join(out, "env.txt")).read().strip() if os.path.exists(os.path.join(out, "env.txt")) else ""
    say("### Environment\n\n```\n" + env + "\n```\n")

    log = open(os.path.join(out, "tests.log"), errors="replace").read() if os.path.exists(os.path.join(out, "tests.log")) else ""
    m = re.findall(r"\[doctest\] test cases:.*", log)
    a = re.findall(r"\[doctest\] assertions:.*", log)
    say("### CUDA tests (recsys_cuda_tests)\n")
    say((m[-1] if m else "no doctest summary (see tests.log)") + ("  \n" + a[-1] if a else "") + "\n")

    gemm = benchmarks(load(os.path.join(out, "gemm.json")))
    say("### SGEMM: ours vs cuBLAS (square n, TFLOP/s; goal >= 70% of cuBLAS FP32 at 4096)\n")
    say("| n | ours FP32 | cuBLAS FP32 | ratio | ours TF32 | cuBLAS TF32 | ratio | ours BF16 | max rel diff FP32 |")
    say("|---|---|---|---|---|---|---|---|---|")
    for n in (512, 1024, 2048, 4096, 8192):
        def tf(name):
            b = gemm.get(f"BM_gemm/{name}/{n}/iterations:3/manual_time")
            return b.get("TFLOPS") if b else None
        of, cf, ot, ct, ob = tf("ours_fp32"), tf("cublas_fp32"), tf("ours_tf32"), tf("cublas_tf32"), tf("ours_bf16")
        diff = (gemm.get(f"BM_gemm/ours_fp32/{n}/iterations:3/manual_time") or {}).get("max_rel_diff_vs_cublas")
        fmt = lambda v: f"{v:.1f}" if v is not None else "–"
        ratio = lambda x, y: f"{x / y:.2f}" if x and y else "–"
        diff_s = f"{diff:.1e}" if diff is not None else "–"
        say(f"| {n} | {fmt(of)} | {fmt(cf)} | {ratio(of, cf)} | {fmt(ot)} | {fmt(ct)} | {ratio(ot, ct)} | {fmt(ob)} | {diff_s} |")

    lstm = benchmarks(load(os.path.join(out, "lstm.json")))
    say("\n### LSTM layer forward + backward, T=49, I=H=128 (ms per call; goal: ours within 1.5x of cuDNN)\n")
    say("Stepwise: a recurrent GEMM and a cell kernel per step; persistent: all steps in one cooperative kernel.\n")
    say("| batch | ours stepwise | ours persistent | cuDNN | stepwise / cuDNN | persistent / cuDNN |")
    say("|---|---|---|---|---|---|")
    ms = lambda b: b["real_time"] if b else None
    fmt_ms = lambda v: "–" if v is None else round(v, 3)
    ratio = lambda x, y: round(x / y, 2) if x and y else "–"
    for b in (32, 256):
        s, p = ms(lstm.get(f"BM_lstm_ours/{b}/persistent:0/manual_time")), ms(lstm.get(f"BM_lstm_ours/{b}/persistent:1/manual_time"))
        c = ms(lstm.get(f"BM_lstm_cudnn/{b}/manual_time"))
        say(f"| {b} | {fmt_ms(s)} | {fmt_ms(p)} | {fmt_ms(c)} | {ratio(s, c)} | {ratio(p, c)} |")

    train = benchmarks(load(os.path.join(out, "train.json")))
    torch = load(os.path.join(out, "torch.json")) or {}
    say("\n### Reference model training step (samples/s; goal: faster than PyTorch CUDA)\n")
    say("| batch | LSTM recurrence | ours | PyTorch | ours / PyTorch | cudaMalloc per step | cache hit rate |")
    say("|---|---|---|---|---|---|---|")
    for b in (32, 256):
        for mode, flag in (("stepwise", 0), ("persistent", 1)):
            t = train.get(f"BM_reference_model_train_step/{b}/persistent:{flag}/min_time:2.000")
            ours = t.get("items_per_second") if t else None
            peer = torch.get(f"samples_per_second_b{b}")
            say(f"| {b} | {mode} | {round(ours) if ours else '–'} | {round(peer) if peer else '–'} | "
                f"{ratio(ours, peer)} | {t.get('cudaMalloc_per_step', '–') if t else '–'} | "
                f"{round(t['cache_hit_rate'], 4) if t and 'cache_hit_rate' in t else '–'} |")
    if torch:
        say(f"\nPyTorch {torch.get('torch')} (cuDNN {torch.get('cudnn')}) on {torch.get('device')}, TF32 off.")
    profile = os.path.join(out, "profile.md")
    if os.path.exists(profile):
        say("\n### Where a training step's time goes (profiler::Session, CUDA events per kernel call)\n")
        say(open(profile, errors="replace").read().rstrip())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
