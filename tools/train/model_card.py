#!/usr/bin/python3
"""Measures every number of the default model's card and prints it as markdown.

  /usr/bin/python3 tools/train/model_card.py --moescope build/app/moescope \\
      --model resources/models/moescope-default-q8_0.gguf --work tools/train/work \\
      [--summary WORK/runs/stage2/summary.json --summary WORK/runs/default/summary.json] \\
      [--update-card resources/models/README.md]

Everything is measured with MoEScope's own engine on the held-out text (WORK/corpus/valid.txt), so
the card describes what a user of `moescope` gets:

- file: size, SHA-256, the training keys of the GGUF, and `moescope inspect --json`;
- training: steps, tokens, wall time and the validation-loss curve of each `summary.json` given
  (train.py writes one per run; the default model is stage 2 followed by its continuation);
- perplexity (`moescope perplexity`, llama-perplexity's method): context 256 on the whole file,
  and 256 / 1024 / 2048 on the same first N tokens (N = --subset-chunks × 2048), so the three are
  comparable; the unigram baseline of the same tokenizer (`unigram_ppl.py`, the tokens perplexity
  scores at context 256);
- routing (`moescope routing-stats --json`, whole file in 256-token chunks as perplexity cuts it):
  per layer the expert load skew (most / least used expert), idle experts, Jain's fairness, router
  entropy, hot set and the top-1 mutual information with the next layer; SRP and SCH suitability;
- generation: the sample with the default sampling, and `generate -n 1500` with no stop;
- parity: MoEScope's logits vs the independent float64 numpy forward of `check.py`.

The engine runs with --threads (default 1: the card is measured beside other work; the numbers do
not depend on it). Each step's wall time is printed. With --update-card FILE the output replaces
the block between the markers "<!-- model_card.py: begin -->" and "<!-- model_card.py: end -->".
"""

import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check  # noqa: E402  (the numpy forward; imports gguf)
import gguf  # noqa: E402

BEGIN, END = "<!-- model_card.py: begin -->", "<!-- model_card.py: end -->"
SAMPLE_PROMPT = "It is a truth"
LONG_GENERATION = 1500


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moescope", required=True, help="the moescope binary")
    ap.add_argument("--model", required=True, help="the GGUF file the card describes")
    ap.add_argument("--work", required=True, help="train.py's work directory (corpus, tokenizer)")
    ap.add_argument("--summary", action="append", default=[],
                    help="a run's summary.json, in training order (repeatable)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--subset-chunks", type=int, default=40,
                    help="the comparable subset: this many 2048-token chunks (default 40)")
    ap.add_argument("--parity-tokens", type=int, default=600)
    ap.add_argument("--update-card", metavar="FILE", help="write the output into FILE's block")
    ap.add_argument("--cache", metavar="DIR",
                    help="keep each measurement's result here, keyed by the files it depends on "
                         "(model, binary, held-out text, tokenizer), and reuse it: an interrupted "
                         "run resumes, and the unigram baseline (model-independent) is reused")
    return ap.parse_args()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Runner:
    """Runs the measurements and keeps each one's wall time."""

    def __init__(self, args):
        self.args = args
        self.timings = []
        self.facts = {}  # what the requirement checks read
        self.valid = os.path.join(args.work, "corpus", "valid.txt")
        self.model_sha = sha256(args.model)
        self.text_key = [sha256(self.valid),
                         sha256(os.path.join(args.work, "tokenizer", "spm.model"))]
        self.model_key = [self.model_sha, sha256(args.moescope)] + self.text_key

    def cached(self, what, key, compute):
        """compute(), or its result from --cache when `key` (the inputs) was measured before."""
        if not self.args.cache:
            return compute()
        name = hashlib.sha256(json.dumps([what] + key).encode()).hexdigest()[:20]
        path = os.path.join(self.args.cache, name + ".json")
        if os.path.exists(path):
            self.timings.append((what + " (cached)", 0.0))
            return json.load(open(path))
        value = compute()
        os.makedirs(self.args.cache, exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump(value, f)
        os.replace(path + ".tmp", path)
        return value

    def run(self, what, cmd):
        start = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, text=True)
        self.timings.append((what, time.monotonic() - start))
        if done.returncode != 0:
            sys.exit("model_card: %s failed (exit %d): %s\n%s" % (
                what, done.returncode, " ".join(cmd), done.stderr.strip()[-2000:]))
        return done

    def moescope(self, what, *argv):
        return self.run(what, [self.args.moescope, *argv, "--model", self.args.model])


def perplexity(r, ctx, chunks=None):
    return r.cached("perplexity %d %s" % (ctx, chunks), r.model_key,
                    lambda: measure_perplexity(r, ctx, chunks))


def measure_perplexity(r, ctx, chunks):
    argv = ["perplexity", "--file", r.valid, "--ctx", str(ctx), "--threads", str(r.args.threads)]
    if chunks:
        argv += ["--chunks", str(chunks)]
    done = r.moescope("perplexity ctx %d%s" % (ctx, ", %d chunks" % chunks if chunks else ""),
                      *argv)
    ppl = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", done.stdout)
    counts = re.search(r"perplexity: (\d+) tokens, (\d+) chunks of (\d+), (\d+) predictions",
                       done.stderr)
    if not ppl or not counts:
        sys.exit("model_card: unexpected perplexity output:\n%s\n%s" % (done.stdout[-500:],
                                                                        done.stderr))
    return {"ppl": float(ppl.group(1)), "err": float(ppl.group(2)),
            "tokens": int(counts.group(1)), "chunks": int(counts.group(2)),
            "scored": int(counts.group(4))}


def file_section(r, info):
    path = r.args.model
    sha = r.model_sha
    kv = gguf.Reader(path).kv
    size = os.path.getsize(path)
    layers = info["expert_bytes_per_layer"]
    lines = [
        "### File and architecture (`moescope inspect`)", "",
        "| | |", "|---|---|",
        "| file | `%s`, %s bytes (%.1f MiB), SHA-256 `%s` |" % (
            os.path.basename(path), "{:,}".format(size), size / 2**20, sha),
        "| architecture | `%s`, %d layers, every one MoE; d_model %d; %d query / %d KV heads |" % (
            info["architecture"], info["n_layer"], info["n_embd"], info["n_head"],
            info["n_head_kv"]),
        "| experts | %d routed per layer, top-%d, plus %d shared expert(s) (`%s.expert_feed_forward"
        "_length` %s, `expert_shared_feed_forward_length` %s) |" % (
            info["n_expert"], info["n_expert_used"], info["n_expert_shared"],
            info["architecture"], kv.get(info["architecture"] + ".expert_feed_forward_length"),
            kv.get(info["architecture"] + ".expert_shared_feed_forward_length")),
        "| context | %d tokens (`context_length`) |" % info["n_ctx_train"],
        "| vocabulary | %d (`%s` tokenizer) |" % (info["n_vocab"], info["tokenizer"]),
        "| parameters | %.2f M total, %.2f M active per token, %.2f M in experts |" % (
            info["n_params"] / 1e6, info["n_params_active"] / 1e6,
            info["n_params_expert"] / 1e6),
        "| bytes per expert | %s |" % ", ".join(sorted({"{:,}".format(l["bytes_per_expert"])
                                                        for l in layers})),
        "| tensor types | %s |" % ", ".join("%s: %d tensors" % (t, v["tensors"])
                                            for t, v in sorted(info["tensor_types"].items())),
        "| training keys | %s |" % ", ".join("`%s` = %s" % (k, kv[k]) for k in sorted(kv)
                                              if k.startswith("moescope.")),
    ]
    return lines


def training_section(summaries):
    lines = ["### Training (`summary.json` of each run)", ""]
    if not summaries:
        return lines + ["(no summary.json given)", ""]
    lines += ["| run | config | steps | tokens | wall budget | threads | seed |",
              "|---|---|---|---|---|---|---|"]
    for path, s in summaries:
        st = s["state"]
        lines.append("| `%s` | %s | %d | %s | %.1f of %.0f min | %s | %s |" % (
            os.path.basename(os.path.dirname(path)), s["config"], st["step"],
            "{:,}".format(st["tokens"]), st["elapsed"] / 60, st["budget_minutes"],
            s.get("threads"), s.get("seed")))
    lines += ["", "Validation loss (torch, nats/token, mean of the six sources): `ctx` on "
              "windows of the model's context, `256` on 256-token windows.", "",
              "| run | step | minutes | valid (ctx) | valid (256) | max/min expert load per layer |",
              "|---|---|---|---|---|---|"]
    for path, s in summaries:
        for e in s["state"]["evals"]:
            lines.append("| `%s` | %d | %.1f | %.3f | %s | %s |" % (
                os.path.basename(os.path.dirname(path)), e["step"], e["minutes"],
                e["valid_mean"], "%.3f" % e["valid_256_mean"] if "valid_256_mean" in e else "–",
                " ".join("%.1f" % x for x in e.get("load_max_min", []))))
    return lines + [""]


def perplexity_section(r, unigram):
    whole = perplexity(r, 256)
    n = r.args.subset_chunks
    subset = {ctx: perplexity(r, ctx, n * 2048 // ctx) for ctx in (256, 1024, 2048)}
    r.facts.update(ppl_256=whole, subset=subset, unigram=unigram)
    lines = ["### Held-out perplexity (`moescope perplexity`, `%s`)" % os.path.basename(r.valid),
             "",
             "| text | ctx | chunks | tokens scored | perplexity |", "|---|---|---|---|---|",
             "| whole file (%s tokens) | 256 | %d | %s | **%.2f ± %.2f** |" % (
                 "{:,}".format(whole["tokens"]), whole["chunks"], "{:,}".format(whole["scored"]),
                 whole["ppl"], whole["err"])]
    for ctx, p in subset.items():
        lines.append("| first %s tokens | %d | %d | %s | **%.2f ± %.2f** |" % (
            "{:,}".format(n * 2048), ctx, p["chunks"], "{:,}".format(p["scored"]), p["ppl"],
            p["err"]))
    lines += ["", "Unigram baseline of the same tokenizer (`unigram_ppl.py`: add-one smoothed "
              "counts of the training split, scored on the same %s tokens as context 256 on the "
              "whole file): **%.1f ± %.1f**; the model is **%.1f×** better." % (
                  "{:,}".format(unigram["scored"]), unigram["unigram_ppl"],
                  unigram["unigram_ppl_error"], unigram["unigram_ppl"] / whole["ppl"]),
              "Id check: %s." % unigram["id_check"], ""]
    return lines


def routing_section(r):
    out = r.cached("routing-stats 256", r.model_key, lambda: json.loads(r.moescope(
        "routing-stats ctx 256", "routing-stats", "--file", r.valid, "--ctx", "256", "--json",
        "--threads", str(r.args.threads)).stdout))
    layers = out["layers"]
    r.facts["layers"] = layers
    lines = ["### Routing on the held-out text (`moescope routing-stats --ctx 256`)", "",
             "%s tokens in %d chunks of at most %d, each routed to %d of %d experts in each of "
             "%d layers." % ("{:,}".format(out["n_tokens"]), out["n_chunks"], out["ctx"],
                             layers[0]["activations"] // max(1, layers[0]["tokens"]),
                             layers[0]["n_expert"], len(layers)), "",
             "| layer | max/min expert traffic | MI with next layer (bits) | most / least used "
             "expert (activations) | idle experts | Jain's fairness | router entropy (bits) | "
             "hot set (80 % of traffic) |", "|---|---|---|---|---|---|---|---|"]
    for l in layers:
        ratio = "%.2f" % l["max_min_ratio"] if l["max_min_ratio"] is not None else "∞"
        mi = "%.3f" % l["top1_mi_next_bits"] if l["top1_mi_next_bits"] is not None else "–"
        lines.append("| %d | %s | %s | %s / %s | %d | %.3f | %.2f | %d of %d |" % (
            l["layer"], ratio, mi, "{:,}".format(l["max_load"]), "{:,}".format(l["min_load"]),
            l["idle_experts"], l["jain_fairness"], l["router_entropy_bits"], l["hot_set_80"],
            l["n_expert"]))
    ratios = [l["max_min_ratio"] for l in layers if l["max_min_ratio"] is not None]
    mis = [l["top1_mi_next_bits"] for l in layers if l["top1_mi_next_bits"] is not None]
    if ratios and mis:
        lines += ["", "Max/min expert traffic %.1f–%.1f per layer; top-1 mutual information of "
                  "consecutive layers %.2f–%.2f bits (of at most %.0f)." % (
                      min(ratios), max(ratios), min(mis), max(mis),
                      math.log2(layers[0]["n_expert"]))]
    return lines + [""] + suitability_lines(out["suitability"])


def suitability_lines(s):
    lines = ["Offloading suitability (`docs/suitability.md`; the whole held-out text as one token "
             "stream):", "",
             "| m | " + " | ".join(str(v["m"]) for v in s["srp"]) + " |",
             "|---|" + "---|" * len(s["srp"]),
             "| SRP(m), model (floor %.3f) | " % s["srp_floor"] +
             " | ".join("%.3f" % v["model"] for v in s["srp"]) + " |"]
    for c in s["capacities"]:
        k = "k" if c["multiple_of_k"] == 1 else "%dk" % c["multiple_of_k"]
        lines.append("| SCH(m, %s), model | " % k +
                     " | ".join("%.1f %%" % (100 * v["model"]) for v in c["sch"]) + " |")
    lines.append("")
    for c in s["capacities"]:
        k = "k" if c["multiple_of_k"] == 1 else "%dk" % c["multiple_of_k"]
        lines.append("- %s slots per layer (%d in all): LRU %.1f %%, OPT %.1f %% per layer; one "
                     "pool: LRU %.1f %%, OPT %.1f %%" % (
                         k, c["total_slots"], 100 * c["lru"], 100 * c["opt"],
                         100 * c["lru_global"], 100 * c["opt_global"]))
    b = s["break_even"]
    lines += ["- verdict (%s link, break-even hit rate %.1f %% with compute measured %s): **%s**"
              % (b["link"], 100 * b["hit_rate"], "on this machine"
                 if b["compute_origin"] == "measured" else "as given", s["verdict_text"]), ""]
    return lines


def generation_section(r):
    t = str(r.args.threads)
    sample = r.cached("generate 60", r.model_key, lambda: json.loads(r.moescope(
        "generate sample", "generate", "--prompt", SAMPLE_PROMPT, "-n", "60", "--json",
        "--threads", t).stdout))
    long = r.cached("generate %d" % LONG_GENERATION, r.model_key, lambda: json.loads(r.moescope(
        "generate -n %d" % LONG_GENERATION, "generate", "--prompt", SAMPLE_PROMPT, "-n",
        str(LONG_GENERATION), "--json", "--threads", t).stdout))
    r.facts["long_generation"] = long
    return ["### Generation", "",
            "`moescope generate --prompt \"%s\" -n 60` (default sampling: temperature 0.8, top-k "
            "40, top-p 0.95, min-p 0.05, seed %s; the prompt, in italics, is not part of the "
            "output):" % (SAMPLE_PROMPT, sample["seed"]), "",
            "> *%s*%s" % (SAMPLE_PROMPT, sample["text"].replace("\n", " ")), "",
            "`moescope generate --prompt \"%s\" -n %d`: %d tokens generated, stopped by %s, "
            "%.1f tokens/s with %s thread(s)." % (
                SAMPLE_PROMPT, LONG_GENERATION, long["generated_tokens"], long["stop_reason"],
                long["decode_tokens_per_s"], t), ""]


def parity_section(r):
    def measure():
        start = time.monotonic()
        out = check.engine_parity(r.args.moescope, r.args.model, r.args.parity_tokens,
                                  threads=r.args.threads, exact=True)
        r.timings.append(("parity (numpy forward + eval)", time.monotonic() - start))
        return out

    diff, std = r.cached("parity %d" % r.args.parity_tokens, r.model_key, measure)
    r.facts["parity"] = (diff, std)
    return ["### Parity", "",
            "MoEScope's logits (`moescope eval`) vs the independent float64 numpy forward of "
            "`check.py` on the same file, BOS + %d random tokens, the engine's exact path (`eval "
            "--exact`, weights dequantized exactly, float compute): max |Δlogit| %.2e (logit "
            "standard deviation %.2f)." % (r.args.parity_tokens - 1, diff, std), ""]


def holds(p, base):
    """Perplexity p at a longer context against base at 256 on the same tokens."""
    if p["ppl"] < base["ppl"]:
        return "improves"
    return "holds (within 2 σ)" if p["ppl"] - base["ppl"] <= 2 * max(p["err"], base["err"]) \
        else "worse"


def requirements_section(r, size):
    """Issue #17's bars (and the v1 card's) with the measured values, each marked met or not."""
    f = r.facts
    sub = f["subset"]
    ratios = [l["max_min_ratio"] for l in f["layers"]]
    mis = [l["top1_mi_next_bits"] for l in f["layers"] if l["top1_mi_next_bits"] is not None]
    diff, std = f["parity"]
    long = f["long_generation"]
    rows = [
        ("held-out perplexity, ctx 256, whole file ≤ 61.3 (v1: 61.29 on the same text and "
         "tokenizer)", "%.2f" % f["ppl_256"]["ppl"], f["ppl_256"]["ppl"] <= 61.3),
        ("perplexity at 1024 and 2048 keeps improving or holds (same first %s tokens as 256)"
         % "{:,}".format(r.args.subset_chunks * 2048),
         "%.2f / %.2f / %.2f: 1024 %s, 2048 %s" % (
             sub[256]["ppl"], sub[1024]["ppl"], sub[2048]["ppl"], holds(sub[1024], sub[256]),
             holds(sub[2048], sub[256])),
         "worse" not in (holds(sub[1024], sub[256]), holds(sub[2048], sub[256]))),
        ("unigram perplexity / model perplexity ≥ 5", "%.1f" % (
            f["unigram"]["unigram_ppl"] / f["ppl_256"]["ppl"]),
         f["unigram"]["unigram_ppl"] / f["ppl_256"]["ppl"] >= 5),
        ("Q8_0 file ≤ 48 MB", "{:,} bytes".format(size), size <= 48e6),
        ("every layer: max/min expert traffic ≥ 2, no idle expert", "%.1f–%.1f, idle %d" % (
            min(x or math.inf for x in ratios), max(x or math.inf for x in ratios),
            sum(l["idle_experts"] for l in f["layers"])),
         all(x is not None and x >= 2 for x in ratios)),
        ("consecutive layers' top-1 mutual information ≥ 0.3 bits", "%.2f–%.2f" % (
            min(mis), max(mis)), min(mis) >= 0.3),
        ("`generate -n %d` with no stop generates them all" % LONG_GENERATION,
         "%d tokens, stopped by %s" % (long["generated_tokens"], long["stop_reason"]),
         long["generated_tokens"] == LONG_GENERATION and long["stop_reason"] == "length"),
        ("engine vs numpy forward: max |Δlogit| < 1e-3 × max(1, logit std)", "%.1e" % diff,
         diff < 1e-3 * max(1.0, std)),
    ]
    lines = ["### Requirements (issue #17, and the v1 card's floors)", "",
             "| requirement | measured | met |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % (what, value, "yes" if ok else "**NO**")
              for what, value, ok in rows]
    return lines + [""]


def unigram(r):
    """The baseline depends on the tokenizer and the text only (the model's tokenizer is checked
    to give SentencePiece's ids), so a cached result serves every model of this tokenizer."""
    return r.cached("unigram 256", r.text_key, lambda: json.loads(r.run(
        "unigram baseline", ["/usr/bin/python3", os.path.join(HERE, "unigram_ppl.py"), "--work",
                             r.args.work, "--moescope", r.args.moescope, "--model", r.args.model,
                             "--ctx", "256", "--json"]).stdout))


def main():
    args = parse_args()
    started = time.monotonic()
    r = Runner(args)
    info = json.loads(r.run("inspect", [args.moescope, "inspect", args.model, "--json"]).stdout)
    summaries = [(p, json.load(open(p))) for p in args.summary]
    # The quick measurements first, so that a problem shows before the long ones.
    generation, parity = generation_section(r), parity_section(r)
    lines = file_section(r, info) + [""] + training_section(summaries)
    lines += perplexity_section(r, unigram(r))
    lines += routing_section(r)
    lines += generation + parity
    lines = requirements_section(r, os.path.getsize(args.model)) + lines
    lines += ["Measured by `tools/train/model_card.py` with %d engine thread(s) in %.1f min: %s." % (
        args.threads, (time.monotonic() - started) / 60,
        ", ".join("%s %.0f s" % (w, s) for w, s in r.timings))]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.update_card:
        card = open(args.update_card, encoding="utf-8").read()
        if BEGIN not in card or END not in card:
            sys.exit("model_card: %s has no %s ... %s block" % (args.update_card, BEGIN, END))
        head, rest = card.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        with open(args.update_card, "w", encoding="utf-8") as f:
            f.write(head + BEGIN + "\n" + text + END + tail)


if __name__ == "__main__":
    main()
