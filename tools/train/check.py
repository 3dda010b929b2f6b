"""Independent float64 numpy forward pass of a `llama` (Mixtral-layout) or `qwen2moe` GGUF, written
from the GGUF notes (../../shared/docs/gguf-moe.md Part 1 sections 0-1 and the qwen2moe notes),
not from model.py.

Used to prove the export: the same tokens through this forward on the exported file and through
the torch model must give the same logits and the same routing. `python3 check.py --self-test`
first checks this forward against llama.cpp's own logits for the reference model.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import gguf


def forward(path, tokens):
    """Returns logits [T][V] (float64) and routing [layer][T][k] for tokens (BOS included)."""
    r = gguf.Reader(path)
    kv = r.kv
    a = kv["general.architecture"]
    if a not in ("llama", "qwen2moe"):
        raise ValueError("not a llama or qwen2moe GGUF")
    qwen = a == "qwen2moe"  # NEOX RoPE, QKV biases, no top-k renormalisation, gated shared expert
    E = kv[a + ".embedding_length"]
    H = kv[a + ".attention.head_count"]
    Hkv = kv.get(a + ".attention.head_count_kv", H)
    hd = E // H
    n_rot = kv.get(a + ".rope.dimension_count", hd)
    eps = kv[a + ".attention.layer_norm_rms_epsilon"]
    base = kv.get(a + ".rope.freq_base", 10000.0)
    k_used = kv[a + ".expert_used_count"]
    W = lambda name: r.tensor(name).astype(np.float64)  # noqa: E731 (numpy shape = reversed ne)

    def proj(h, name, required_bias):  # h @ W^T (+ bias)
        y = h @ W(name + ".weight").T
        return y + W(name + ".bias") if required_bias else y

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    T = len(tokens)
    pos = np.arange(T, dtype=np.float64)
    theta = pos[:, None] * base ** (-2.0 * np.arange(n_rot // 2) / n_rot)[None, :]  # [T][n_rot/2]
    cos, sin = np.cos(theta), np.sin(theta)

    def rope(x):  # x [T][heads][hd]; NORM: pairs (2i, 2i+1); NEOX: pairs (i, i + n_rot/2)
        x = x.copy()
        first = slice(0, n_rot // 2) if qwen else slice(0, n_rot, 2)
        second = slice(n_rot // 2, n_rot) if qwen else slice(1, n_rot, 2)
        u, w = x[:, :, first].copy(), x[:, :, second].copy()
        c, s = cos[:, None, :], sin[:, None, :]
        x[:, :, first] = u * c - w * s
        x[:, :, second] = u * s + w * c
        return x

    x = W("token_embd.weight")[tokens]  # [T][E]
    routing = []
    n_layer = kv[a + ".block_count"]
    for il in range(n_layer):
        p = "blk.%d." % il
        h = rms(x, W(p + "attn_norm.weight"))
        q = rope(proj(h, p + "attn_q", qwen).reshape(T, H, hd))
        k = rope(proj(h, p + "attn_k", qwen).reshape(T, Hkv, hd))
        v = proj(h, p + "attn_v", qwen).reshape(T, Hkv, hd)
        out = np.empty((T, H, hd))
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for hh in range(H):
            g = hh // (H // Hkv)
            sc = q[:, hh, :] @ k[:, g, :].T / np.sqrt(hd) + mask
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            out[:, hh, :] = (sc / sc.sum(-1, keepdims=True)) @ v[:, g, :]
        x = x + out.reshape(T, H * hd) @ W(p + "attn_output.weight").T
        h = rms(x, W(p + "ffn_norm.weight"))
        logits = h @ W(p + "ffn_gate_inp.weight").T  # [T][X]
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        gate, up, down = W(p + "ffn_gate_exps.weight"), W(p + "ffn_up_exps.weight"), \
            W(p + "ffn_down_exps.weight")  # [X][F][E], [X][F][E], [X][E][F]
        y = np.zeros_like(x)
        layer_routes = []
        for t in range(T):
            sel = np.argsort(-probs[t], kind="stable")[:k_used]
            w = probs[t, sel] if qwen else probs[t, sel] / probs[t, sel].sum()
            layer_routes.append([int(e) for e in sel])
            for e, we in zip(sel, w):
                g = gate[e] @ h[t]
                y[t] += we * (down[e] @ (g / (1.0 + np.exp(-g)) * (up[e] @ h[t])))
        if qwen:  # shared expert, gated per token by sigmoid(w_g . h)
            g = h @ W(p + "ffn_gate_shexp.weight").T
            s = (g / (1.0 + np.exp(-g)) * (h @ W(p + "ffn_up_shexp.weight").T)) \
                @ W(p + "ffn_down_shexp.weight").T
            y += s / (1.0 + np.exp(-(h @ W(p + "ffn_gate_inp_shexp.weight").reshape(-1))))[:, None]
        routing.append(layer_routes)
        x = x + y
    x = rms(x, W("output_norm.weight"))
    out_w = W("output.weight") if "output.weight" in r.infos else W("token_embd.weight")
    return x @ out_w.T, routing


def self_test(shared, name):
    """This forward vs llama.cpp's logits on an F32 reference model (must agree to ~1e-4)."""
    ref = os.path.join(shared, "reference")
    meta = json.load(open(os.path.join(ref, "logits", name, "tokens.json")))
    want = np.fromfile(os.path.join(ref, "logits", name, "logits.f32"),
                       dtype="<f4").reshape(meta["n_tokens"], meta["n_vocab"])
    got, routing = forward(os.path.join(ref, "models", name + ".gguf"), meta["tokens"])
    want_routing = json.load(open(os.path.join(ref, "logits", name, "routing.json")))["topk"]
    want_routing = [want_routing[str(i)] for i in range(len(routing))]
    diff = np.abs(got - want).max()
    same_routing = routing == want_routing
    print("self-test vs llama.cpp (%s): max |dlogit| %.2e, routing identical: %s" % (
        name, diff, same_routing))
    return diff < 1e-3 and same_routing


def engine_parity(moescope, path, n_tokens, seed=7, threads=2, exact=False):
    """MoEScope's engine (`moescope eval --dump-logits`) vs this forward on the same file, on BOS +
    n_tokens - 1 random token ids (the function, not the text, is compared; a long sequence checks
    the RoPE positions too). `exact`: the engine dequantizes the weights exactly and computes in
    float (`--exact`), as this forward does; otherwise a quantized file is compared on the engine's
    fast path, which also quantizes the activations (as llama.cpp does) and differs by more.
    Returns max |dlogit| and the logit standard deviation."""
    r = gguf.Reader(path)
    a = r.kv["general.architecture"]
    rng = np.random.default_rng(seed)
    tokens = [int(r.kv["tokenizer.ggml.bos_token_id"])] + [
        int(t) for t in rng.integers(259, r.kv[a + ".vocab_size"], n_tokens - 1)]
    want, _ = forward(path, tokens)
    with tempfile.TemporaryDirectory() as tmp:
        ids = os.path.join(tmp, "tokens.txt")
        with open(ids, "w") as f:
            f.write(" ".join(map(str, tokens)))
        out = os.path.join(tmp, "logits.f32")
        subprocess.run([moescope, "eval", "--model", path, "--tokens", ids, "--dump-logits", out,
                        "--threads", str(threads)] + (["--exact"] if exact else []), check=True,
                       stdout=subprocess.DEVNULL)
        got = np.fromfile(out, dtype="<f4").reshape(len(tokens), -1)
    return float(np.abs(got - want).max()), float(want.std())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--shared", default="/work/shared")
    ap.add_argument("--engine", metavar="MOESCOPE", help="compare this moescope binary's logits "
                    "on --model with this forward")
    ap.add_argument("--model", help="GGUF file for --engine")
    ap.add_argument("--tokens", type=int, default=300, help="sequence length for --engine")
    ap.add_argument("--exact", action="store_true",
                    help="--engine: the engine's exact path (weights dequantized, float compute)")
    ap.add_argument("--threads", type=int, default=2, help="engine threads for --engine")
    args = ap.parse_args()
    if args.engine:
        diff, std = engine_parity(args.engine, args.model, args.tokens, threads=args.threads,
                                  exact=args.exact)
        print("engine%s vs numpy forward on %s, %d tokens: max |dlogit| %.2e (logit std %.2f)"
              % (" (--exact)" if args.exact else "", args.model, args.tokens, diff, std))
        sys.exit(0 if diff < 1e-3 * max(1.0, std) else 1)
    if args.self_test:
        ok = [self_test(args.shared, name) for name in ("llama-moe-f32", "qwen2moe-f32")]
        sys.exit(0 if all(ok) else 1)
