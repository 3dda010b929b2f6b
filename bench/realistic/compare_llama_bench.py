#!/usr/bin/env python3
"""MoEScope's `moescope bench` beside llama.cpp / ik_llama.cpp's `llama-bench` on the realistic
models (bench_realistic generates them into its cache), in interleaved rounds, at each thread count,
prefill (ppN) and decode (tgN); prints medians, ratios and decode as % of the read-bandwidth bound
as a markdown table.

  bench/realistic/compare_llama_bench.py \\
      --llama-bench llama.cpp=/work/peers/llama.cpp/build/bin/llama-bench \\
      --llama-bench ik_llama.cpp=/work/peers/ik_llama.cpp/build/bin/llama-bench

Every round runs each (model, threads) once per engine, engines in a rotated order, each run one
repetition after the tool's own warm-up (-r 1); medians are over the rounds. See README.md here.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--llama-bench", action="append", default=[], metavar="[LABEL=]PATH",
                   help="a llama-bench binary (repeatable); LABEL defaults to the checkout's name")
    p.add_argument("--build", default=os.path.join(REPO, "build"), help="MoEScope build directory")
    p.add_argument("--moescope", help="moescope binary (default BUILD/app/moescope)")
    p.add_argument("--cache", help="model cache directory (default: bench_realistic's)")
    p.add_argument("--models", help="comma-separated model names (default: all)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("-p", type=int, default=64, help="prompt tokens (pp test)")
    p.add_argument("-n", type=int, default=16, help="generated tokens (tg test)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--timeout", type=int, default=900, help="seconds per run")
    p.add_argument("--json-out", help="write every sample here")
    return p.parse_args()


def engines_of(args):
    moescope = args.moescope or os.path.join(args.build, "app", "moescope")
    engines = [("MoEScope", moescope)]
    for spec in args.llama_bench:
        label, _, path = spec.rpartition("=")
        if not label:  # .../<checkout>/build/bin/llama-bench
            label = os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(
                os.path.abspath(path)))))
        engines.append((label, path))
    for label, path in engines:
        if not os.access(path, os.X_OK):
            sys.exit(f"compare_llama_bench: {label}: {path} is not an executable")
    return engines


def realistic(args, *extra):
    cmd = [os.path.join(args.build, "bench", "realistic", "bench_realistic"), *extra]
    if args.cache:
        cmd += ["--cache", args.cache]
    if args.models:
        cmd += ["--models", args.models]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def run_once(engine, model, threads, args):
    """{"pp": tok/s, "tg": tok/s} of one run, or None (and the error on stderr)."""
    label, path = engine
    if label == "MoEScope":
        cmd = [path, "bench", "--model", model, "--json"]
    else:
        cmd = [path, "-m", model, "-o", "json"]
    cmd += ["-p", str(args.p), "-n", str(args.n), "-t", str(threads), "-r", "1"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print(f"  {label} timed out on {os.path.basename(model)} -t {threads}", file=sys.stderr)
        return None
    if out.returncode != 0:
        tail = " | ".join(out.stderr.strip().splitlines()[-3:])
        print(f"  {label} failed on {os.path.basename(model)} -t {threads}: {tail}",
              file=sys.stderr)
        return None
    result = {}
    for test in json.loads(out.stdout):
        kind = "pp" if test["n_gen"] == 0 else "tg"
        result[kind] = test["avg_ts"]
    return result


def fmt(x, spec=".2f"):
    return "n/a" if x is None else format(x, spec)


def print_table(args, models, threads_list, engines, samples, bandwidth):
    peers = [label for label, _ in engines[1:]]
    head = ["model", "threads", "test"] + [label for label, _ in engines]
    head += [f"MoEScope / {p}" for p in peers]
    head += [f"{label} % of bound" for label, _ in engines]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * 3 + "---:|" * (len(head) - 3))
    for name, _, decode_bytes in models:
        for t in threads_list:
            for kind in ("pp", "tg"):
                med = {}
                for label, _ in engines:
                    vals = samples[name][t][label][kind]
                    med[label] = statistics.median(vals) if vals else None
                row = [name, str(t), kind + str(args.p if kind == "pp" else args.n)]
                row += [fmt(med[label]) for label, _ in engines]
                for p in peers:
                    ok = med["MoEScope"] is not None and med[p]
                    row.append(fmt(med["MoEScope"] / med[p] if ok else None) + ("×" if ok else ""))
                for label, _ in engines:
                    if kind == "tg" and med[label] is not None:
                        row.append(f"{100 * med[label] * decode_bytes / bandwidth[t]:.0f} %")
                    else:
                        row.append("")
                print("| " + " | ".join(row) + " |")


def main():
    args = parse_args()
    engines = engines_of(args)
    threads_list = [int(t) for t in args.threads.split(",")]
    models = [line.split() for line in realistic(args, "--list").splitlines() if line.strip()]
    models = [(name, path, int(b)) for name, path, b in models]

    def bandwidth():
        out = realistic(args, "--bandwidth", "--threads", args.threads)
        return {int(t): (float(w), float(c)) for t, w, c in (l.split() for l in out.splitlines())}

    load_before = open("/proc/loadavg").read().strip()
    bw_before = bandwidth()
    samples = {m[0]: {t: {e[0]: {"pp": [], "tg": []} for e in engines} for t in threads_list}
               for m in models}
    start = time.time()
    for r in range(args.rounds):
        for name, path, _ in models:
            for t in threads_list:
                order = engines[r % len(engines):] + engines[:r % len(engines)]
                for engine in order:
                    res = run_once(engine, path, t, args)
                    for kind, ts in (res or {}).items():
                        samples[name][t][engine[0]][kind].append(ts)
        print(f"round {r + 1}/{args.rounds} done ({time.time() - start:.0f} s)", file=sys.stderr)
        if args.json_out:  # after every round, so that an interrupted run keeps its samples
            with open(args.json_out, "w") as f:
                json.dump({"args": vars(args), "models": models, "bandwidth_before": bw_before,
                           "rounds_done": r + 1, "samples": samples}, f, indent=1)
    bw_after = bandwidth()
    load_after = open("/proc/loadavg").read().strip()
    # The bound: the best wall-time bandwidth of the two measurements (STREAM's figure).
    bw = {t: max(bw_before[t][0], bw_after[t][0]) for t in threads_list}

    print(f"{args.rounds} interleaved rounds, -p {args.p} -n {args.n}, medians of the rounds; "
          f"{time.time() - start:.0f} s.")
    print(f"Load average before: {load_before}; after: {load_after}.")
    for t in threads_list:
        print(f"Read bandwidth {t} thread(s): {bw[t] / 1e9:.1f} GB/s wall (before "
              f"{bw_before[t][0] / 1e9:.1f}, after {bw_after[t][0] / 1e9:.1f}); CPU-time "
              f"{bw_before[t][1] / 1e9:.1f} / {bw_after[t][1] / 1e9:.1f} GB/s.")
    print("Bytes read per decode token: " + ", ".join(
        f"{name} {b / 1e9:.3f} GB" for name, _, b in models) + ".\n")
    print_table(args, models, threads_list, engines, samples, bw)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "models": models, "bandwidth_before": bw_before,
                       "bandwidth_after": bw_after, "rounds_done": args.rounds,
                       "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
