#!/usr/bin/python3
"""Trains MoEScope's default model: corpus -> tokenizer -> MoE transformer -> GGUF (F32 + Q8_0).

  /usr/bin/python3 tools/train/train.py --minutes 75            # v2 default (resumable: --resume)
  /usr/bin/python3 tools/train/train.py --config stage2 --minutes 65  # stage 2: upcycled v1
  /usr/bin/python3 tools/train/train.py --config v1 --minutes 85  # stage 1: the v1 model
  /usr/bin/python3 tools/train/train.py --config smoke --minutes 4

Each stage is skipped when its output exists in tools/train/work/. See README.md.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# name -> (model config, batch rows, peak learning rate, initialisation)
# "v1" is the first default model (trained from scratch, shipped until v2); "stage2" starts from
# v1's file by upcycling (upcycle.py) and trains on 2048-token windows; "default" (v2) continues
# stage 2's final weights on a mix of 2048-token windows and BOS-led 256-token windows (the
# short windows are what a chunked perplexity and a short prompt look like: BOS, then text that
# starts mid-document; stage 2 trained on them only by accident).
V2 = dict(arch="qwen2moe", d_model=192, n_layer=8, n_head=4, n_head_kv=2, n_expert=32,
          n_expert_used=4, d_expert=96, d_shared=192, ctx=2048)
# The "default" config's batch: per step LONG_ROWS windows of ctx plus SHORT_ROWS BOS-led windows
# of SHORT_CTX tokens (half the step's tokens each).
LONG_ROWS, SHORT_ROWS, SHORT_CTX = 2, 16, 256
CONFIGS = {
    "smoke": (dict(arch="qwen2moe", d_model=64, n_layer=2, n_head=4, n_head_kv=2, n_expert=8,
                   n_expert_used=4, d_expert=32, d_shared=64, ctx=128), 16, 3e-3, "scratch"),
    "v1": (dict(d_model=192, n_layer=6, n_head=4, n_head_kv=2, n_expert=16, n_expert_used=2,
                d_expert=192, ctx=256), 16, 2.5e-3, "scratch"),
    "stage2": (V2, 4, 5e-4, "upcycle-v1"),
    "default": (V2, LONG_ROWS, 3e-4, "continue-stage2"),
    "upcycle-smoke": (dict(arch="qwen2moe", d_model=192, n_layer=8, n_head=4, n_head_kv=2,
                           n_expert=32, n_expert_used=4, d_expert=96, d_shared=192, ctx=256), 2,
                      5e-4, "upcycle-v1"),
}
# The v1 model's file, from git history (stage 1's output; upcycle-v1 configs start from it).
V1_COMMIT = "86e10785b91d8d94b8645437aae25fc29f91f095"
V1_PATH = "resources/models/moescope-default-q8_0.gguf"
V1_SHA256 = "84f071e660c52cd8722f5883990f27392ded3e1e6d39800cfdfc24449d93c889"
MAX_Q8_0_BYTES = 48 * 1024 * 1024

# Sampling weight of each source in a batch (the raw sizes are dominated by Spurgeon; fiction and
# the small satire/jargon sources are up-weighted so every domain is learned).
SOURCE_WEIGHTS = {"austen": 0.24, "web": 0.17, "tdavid": 0.30, "mhcc": 0.12, "jargon": 0.12,
                  "devil": 0.05}


def parse_args():
    ap = argparse.ArgumentParser(description="Train MoEScope's default MoE model.")
    ap.add_argument("--config", default="default", choices=sorted(CONFIGS))
    ap.add_argument("--minutes", type=float, default=55.0, help="wall-clock training budget")
    ap.add_argument("--steps", type=int, default=0,
                    help="train exactly this many steps (schedule by step, not by time)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    ap.add_argument("--finalize", action="store_true",
                    help="only export + check + quantize the run's checkpoint")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--balance", type=float, default=0.003,
                    help="load-balancing loss weight (weak on purpose: hot and cold experts)")
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--out", default=None, help="Q8_0 GGUF path (default: work/runs/CONFIG/"
                    "model-q8_0.gguf; pass resources/models/moescope-default-q8_0.gguf to ship it)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--eval-minutes", type=float, default=12.0)
    ap.add_argument("--log-steps", type=int, default=5, help="log the training loss every N steps")
    return ap.parse_args()


ARGS = parse_args()
# Thread settings must precede the torch import: with busy-waiting OpenMP workers 2 threads ran
# slower than 1 on this machine, and Debian's torch reads these at load time.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, HERE)
import check  # noqa: E402
import corpus  # noqa: E402
import export  # noqa: E402
import tokenizer  # noqa: E402
import upcycle  # noqa: E402
from model import Config, Transformer, balance_loss, param_counts  # noqa: E402

torch.set_num_threads(ARGS.threads)
torch.set_num_interop_threads(1)


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def prepare_data(work, vocab):
    if not os.path.exists(os.path.join(work, "corpus", "manifest.json")):
        corpus.build(work)
    if not os.path.exists(os.path.join(work, "tokenizer", "spm.model")):
        t0 = time.time()
        tokenizer.train(work, vocab, ARGS.threads)
        log("tokenizer trained in %.0f s" % (time.time() - t0))
    sp = tokenizer.load(work)
    if sp.get_piece_size() != vocab:
        raise SystemExit("error: work/tokenizer has %d pieces, wanted %d (delete it to retrain)"
                         % (sp.get_piece_size(), vocab))
    if not os.path.exists(os.path.join(work, "data", "valid_devil.npy")):
        tokenizer.encode_corpus(work, sp)
    data = {}
    for part in ("train", "valid"):
        data[part] = {s[0]: np.load(os.path.join(work, "data", "%s_%s.npy" % (part, s[0])))
                      for s in corpus.SOURCES}
    return sp, data


class Batches:
    """Random windows of ctx+1 tokens; the source of each row is drawn by SOURCE_WEIGHTS."""

    def __init__(self, data, rows, ctx, seed, bos=None):
        self.data, self.rows, self.ctx, self.bos = data, rows, ctx, bos
        self.names = sorted(data)
        w = np.array([SOURCE_WEIGHTS[n] for n in self.names])
        self.p = w / w.sum()
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def next(self):
        x = np.empty((self.rows, self.ctx + 1), dtype=np.int64)
        for i, src in enumerate(self.rng.choice(len(self.names), size=self.rows, p=self.p)):
            arr = self.data[self.names[src]]
            o = self.rng.integers(0, len(arr) - self.ctx - 1)
            x[i] = arr[o:o + self.ctx + 1]
        if self.bos is not None:
            x[:, 0] = self.bos  # as a chunked perplexity does: BOS replaces the first token
        x = torch.from_numpy(x)
        return x[:, :-1], x[:, 1:]


def eval_windows(valid, ctx, per_source=24):
    """Fixed, evenly spaced validation windows per source (same every evaluation)."""
    out = {}
    for name, arr in sorted(valid.items()):
        n = min(per_source, (len(arr) - 1) // ctx)
        starts = np.linspace(0, len(arr) - ctx - 1, n).astype(np.int64)
        out[name] = torch.from_numpy(np.stack([arr[s:s + ctx + 1] for s in starts]).astype(np.int64))
    return out


@torch.no_grad()
def evaluate(model, windows):
    model.eval()
    losses, loads = {}, None
    for name, w in windows.items():
        total = 0.0
        for chunk in w.split(8):
            logits, routing = model(chunk[:, :-1])
            total += torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1),
                reduction="sum").item()
            counts = torch.stack([c for _, c in routing])  # [layer][X]
            loads = counts if loads is None else loads + counts
        losses[name] = total / (w.shape[0] * (w.shape[1] - 1))
    model.train()
    return losses, loads


def lr_at(progress, peak):
    warm = 0.03
    if progress < warm:
        return peak * progress / warm
    x = min(1.0, (progress - warm) / (1.0 - warm))
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * x)))


def save_checkpoint(path, model, opt, batches, state):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                "batch_rng": [b.rng.bit_generator.state for b in batches],
                "torch_rng": torch.get_rng_state(),
                "state": state, "config": model.cfg.dict()}, tmp)
    os.replace(tmp, path)


def v1_file(work):
    """Stage 1's output, the v1 default model, extracted from git history and checked."""
    path = os.path.join(work, "stage1", "moescope-v1-q8_0.gguf")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        blob = subprocess.run(["git", "-C", REPO, "show", "%s:%s" % (V1_COMMIT, V1_PATH)],
                              check=True, capture_output=True).stdout
        with open(path + ".tmp", "wb") as f:
            f.write(blob)
        os.replace(path + ".tmp", path)
    with open(path, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != V1_SHA256:
            raise SystemExit("error: %s is not the v1 model (sha256 differs)" % path)
    return path


def initialise(model, init, data, sp, rows):
    """Random init (done by Transformer) or upcycling from the v1 model's file."""
    if init == "scratch":
        return
    if init == "continue-stage2":
        path = os.path.join(ARGS.work, "runs", "stage2", "checkpoint.pt")
        if not os.path.exists(path):
            raise SystemExit("error: %s is missing; run --config stage2 first" % path)
        saved = torch.load(path)
        if saved["config"] != model.cfg.dict() or not saved["state"].get("done"):
            raise SystemExit("error: %s is not a finished stage-2 run of this model" % path)
        model.load_state_dict(saved["model"])
        log("continuing stage 2's weights (step %d, %.2fM tokens)"
            % (saved["state"]["step"], saved["state"]["tokens"] / 1e6))
        return
    v1 = upcycle.read_v1(v1_file(ARGS.work), sp)
    sample = Batches(data["train"], 8, v1.cfg.ctx, ARGS.seed + 1).next()[0]
    scales = upcycle.upcycle(model, v1, sample)
    log("upcycled from v1: expert down-projection scale per layer %s"
        % " ".join("%.2f" % s for s in scales))


def train(run_dir, data, cfg, rows, peak_lr, init, sp):
    ckpt = os.path.join(run_dir, "checkpoint.pt")
    torch.manual_seed(ARGS.seed)
    model = Transformer(cfg)
    if not os.path.exists(ckpt):
        initialise(model, init, data, sp, rows)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=peak_lr, betas=(0.9, 0.95), eps=1e-8)
    # One or two batch streams per step (see CONFIGS): their losses are averaged per token.
    batches = [Batches(data["train"], rows, cfg.ctx, ARGS.seed)]
    if init == "continue-stage2":
        batches.append(Batches(data["train"], SHORT_ROWS, SHORT_CTX, ARGS.seed + 2, sp.bos_id()))
    state = {"step": 0, "elapsed": 0.0, "tokens": 0, "budget_minutes": ARGS.minutes,
             "steps_target": ARGS.steps, "evals": []}
    if os.path.exists(ckpt):
        if not ARGS.resume:
            raise SystemExit("error: %s exists; pass --resume to continue it or delete it" % ckpt)
        saved = torch.load(ckpt)
        if saved["config"] != cfg.dict():
            raise SystemExit("error: checkpoint config differs from --config %s" % ARGS.config)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        rngs = saved["batch_rng"]
        for b, r in zip(batches, rngs if isinstance(rngs, list) else [rngs]):
            b.rng.bit_generator.state = r
        torch.set_rng_state(saved["torch_rng"])
        state = saved["state"]
        log("resumed at step %d, %.1f min elapsed" % (state["step"], state["elapsed"] / 60))
    budget = state["budget_minutes"] * 60.0
    steps_target = state["steps_target"]
    total, active = param_counts(cfg)
    log("config %s: %s rows=%d lr=%.1e balance=%.3g; params %.2fM total, %.2fM active/token"
        % (ARGS.config, json.dumps(cfg.dict()), rows, peak_lr, ARGS.balance, total / 1e6,
           active / 1e6))
    # On long windows the evaluation is kept short (one window per source; on the shared 2 cores
    # evaluations come out of the training budget), plus 8 of v1's 256-token windows per source
    # so the two models' losses compare directly.
    windows = eval_windows(data["valid"], cfg.ctx, 24 if cfg.ctx <= 256 else 1)
    windows_256 = eval_windows(data["valid"], 256, 8) if cfg.ctx > 256 else None

    def progress():
        if steps_target:
            return state["step"] / steps_target
        return state["elapsed"] / budget

    def run_eval():
        losses, loads = evaluate(model, windows)
        mean = sum(losses.values()) / len(losses)
        extra = {}
        if windows_256 is not None:
            losses_256, _ = evaluate(model, windows_256)
            extra = {"valid_256": losses_256,
                     "valid_256_mean": sum(losses_256.values()) / len(losses_256)}
        ratio = (loads.max(1).values.float() / loads.min(1).values.clamp(min=1).float()).tolist()
        idle = (loads == 0).sum(1).tolist()
        state["evals"].append({"step": state["step"], "minutes": state["elapsed"] / 60,
                               "valid": losses, "valid_mean": mean, "load_max_min": ratio,
                               "idle_experts": idle, **extra})
        log("eval step %d: valid loss %.3f (%s)%s; expert load max/min per layer %s; idle experts "
            "%s" % (state["step"], mean, " ".join("%s %.2f" % kv for kv in sorted(losses.items())),
                    " (at ctx 256: %.3f)" % extra["valid_256_mean"] if extra else "",
                    " ".join("%.1f" % r for r in ratio), idle))

    if state["step"] == 0:
        run_eval()  # the start of the loss curve (for an upcycled model: what it inherited)
    model.train()
    t_last = time.time()
    last_ckpt = last_eval = state["elapsed"]
    window_tokens, window_time = 0, 0.0
    while progress() < 1.0:
        lr = lr_at(progress(), peak_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        ce, aux, n_tokens = 0.0, 0.0, sum(b.rows * b.ctx for b in batches)
        for b in batches:
            x, y = b.next()
            logits, routing = model(x)
            share = x.numel() / n_tokens
            ce = ce + share * torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab),
                                                                y.reshape(-1))
            aux = aux + share * balance_loss(routing, cfg)
        loss = ce + ARGS.balance * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        now = time.time()
        dt, t_last = now - t_last, now
        state["elapsed"] += dt
        state["step"] += 1
        state["tokens"] += n_tokens
        window_tokens += n_tokens
        window_time += dt
        if state["step"] % ARGS.log_steps == 0:
            log("step %d  %.1f%%  loss %.3f  balance %.3f  lr %.2e  %.0f tok/s  %.1f min" % (
                state["step"], 100 * progress(), ce.item(), aux.item(), lr,
                window_tokens / window_time, state["elapsed"] / 60))
            window_tokens, window_time = 0, 0.0
        if state["elapsed"] - last_eval >= ARGS.eval_minutes * 60:
            run_eval()
            last_eval = state["elapsed"]
            t_last = time.time()  # evaluation time is not charged to training throughput...
            state["elapsed"] += t_last - now  # ...but it is charged to the wall-clock budget
        if state["elapsed"] - last_ckpt >= ARGS.checkpoint_minutes * 60:
            save_checkpoint(ckpt, model, opt, batches, state)
            last_ckpt = state["elapsed"]
            t_last = time.time()
    run_eval()
    state["done"] = True
    save_checkpoint(ckpt, model, opt, batches, state)
    log("training done: %d steps, %.2fM tokens, %.1f min" % (
        state["step"], state["tokens"] / 1e6, state["elapsed"] / 60))
    return model, state


def verify_export(model, f32_path, q8_path, data):
    """Runs the independent numpy forward on the exported files and compares with torch."""
    arr = data["valid"]["austen"]
    tokens = [int(t) for t in arr[1000:1032]]
    model.eval()
    with torch.no_grad():
        logits, routing = model(torch.tensor([tokens]))
    want = logits[0].double().numpy()
    want_routes = [r[0].topk(model.cfg.n_expert_used, dim=-1).indices.tolist() for r in routing]
    result = {}
    for label, path in (("f32", f32_path), ("q8_0", q8_path)):
        got, routes = check.forward(path, tokens)
        same = np.mean([a == b for la, lb in zip(routes, want_routes) for a, b in zip(la, lb)])
        result[label] = {"max_abs_diff": float(np.abs(got - want).max()),
                         "logit_std": float(want.std()),
                         "argmax_agree": float(np.mean(got.argmax(-1) == want.argmax(-1))),
                         "routing_agree": float(same)}
        log("check %s GGUF vs torch on %d tokens: max |dlogit| %.2e (logit std %.2f), argmax "
            "agree %.0f%%, routing agree %.0f%%" % (label, len(tokens), result[label][
                "max_abs_diff"], want.std(), 100 * result[label]["argmax_agree"], 100 * same))
    if result["f32"]["max_abs_diff"] > 2e-3 or result["f32"]["routing_agree"] < 0.99:
        raise SystemExit("error: F32 export does not reproduce the torch model")
    return result


def finalize(run_dir, model, state, sp, data):
    f32_path = os.path.join(run_dir, "model-f32.gguf")
    # The shipped file is replaced only on request (--out), after the model card's measurements.
    q8_path = ARGS.out or os.path.join(run_dir, "model-q8_0.gguf")
    meta = {"training_steps": state["step"], "training_tokens": state["tokens"],
            "training_minutes": "%.1f" % (state["elapsed"] / 60), "config": ARGS.config,
            "initialisation": CONFIGS[ARGS.config][3]}
    export.write(model, sp, f32_path, quantize=False, meta=meta)
    os.makedirs(os.path.dirname(os.path.abspath(q8_path)), exist_ok=True)
    export.write(model, sp, q8_path + ".tmp", quantize=True, meta=meta)
    os.replace(q8_path + ".tmp", q8_path)
    log("wrote %s (%.1f MB) and %s (%.1f MB)" % (f32_path, os.path.getsize(f32_path) / 1e6,
                                                 q8_path, os.path.getsize(q8_path) / 1e6))
    checks = verify_export(model, f32_path, q8_path, data)
    sample = generate(model, sp, "It is a truth", 40)
    log("sample (greedy): %r" % sample)
    total, active = param_counts(model.cfg)
    summary = {"config": ARGS.config, "model": model.cfg.dict(), "params_total": total,
               "params_active": active, "state": state, "checks": checks, "sample": sample,
               "q8_0_path": os.path.relpath(q8_path, REPO), "q8_0_bytes": os.path.getsize(q8_path),
               "source_weights": SOURCE_WEIGHTS, "balance_weight": ARGS.balance,
               "threads": ARGS.threads, "seed": ARGS.seed}
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if os.path.getsize(q8_path) > MAX_Q8_0_BYTES:
        raise SystemExit("error: %s is larger than 48 MiB" % q8_path)


@torch.no_grad()
def generate(model, sp, prompt, n):
    model.eval()
    ids = [sp.bos_id()] + sp.encode(prompt)
    for _ in range(n):
        logits, _ = model(torch.tensor([ids[-model.cfg.ctx:]]))
        ids.append(int(logits[0, -1].argmax()))
    return sp.decode(ids[1:])


def main():
    os.makedirs(ARGS.work, exist_ok=True)
    sp, data = prepare_data(ARGS.work, ARGS.vocab)
    params, rows, peak_lr, init = CONFIGS[ARGS.config]
    cfg = Config(vocab=ARGS.vocab, **params)
    run_dir = os.path.join(ARGS.work, "runs", ARGS.config)
    os.makedirs(run_dir, exist_ok=True)
    if ARGS.finalize:
        saved = torch.load(os.path.join(run_dir, "checkpoint.pt"))
        model = Transformer(Config(**saved["config"]))
        model.load_state_dict(saved["model"])
        state = saved["state"]
    else:
        model, state = train(run_dir, data, cfg, rows, peak_lr, init, sp)
    finalize(run_dir, model, state, sp, data)
    log("finished")


if __name__ == "__main__":
    main()
