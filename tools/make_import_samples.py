#!/usr/bin/env python3
"""Writes small routing files in every format `moescope import` reads (docs/import.md), with the
routing they hold as JSON beside them, so that an import can be checked entry by entry.

Standard library only (no torch, no numpy): the .pt file is written the way torch.save writes it
(a ZIP of stored entries: archive/data.pkl, a protocol-2 pickle whose tensors are
torch._utils._rebuild_tensor_v2 over persistent storages, and archive/data/<key> raw storages).

usage: make_import_samples.py OUT_DIR [--seed N]
"""
import base64
import collections
import io
import json
import os
import pickle
import random
import struct
import sys
import types
import zipfile

# ---- fake torch names, so that pickle writes the same GLOBALs torch.save does ---------------
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
    raise NotImplementedError


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class IntStorage:
    pass


class LongStorage:
    pass


IntStorage.__module__ = LongStorage.__module__ = "torch"
torch.IntStorage, torch.LongStorage, torch._utils = IntStorage, LongStorage, torch_utils
sys.modules.setdefault("torch", torch)
sys.modules.setdefault("torch._utils", torch_utils)


class Tensor:
    """An integer tensor: shape and C-order values (int32 or int64)."""

    def __init__(self, shape, values, dtype="int32"):
        self.shape, self.values, self.dtype = tuple(shape), list(values), dtype

    def __reduce__(self):
        stride, acc = [], 1
        for d in reversed(self.shape):
            stride.insert(0, acc)
            acc *= d
        return (_rebuild_tensor_v2,
                (_Storage(self), 0, self.shape, tuple(stride), False, collections.OrderedDict()))


class _Storage:
    def __init__(self, tensor):
        self.tensor = tensor


def torch_save(obj, path):
    storages = []

    class P(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, _Storage):
                key = str(len(storages))
                storages.append(o.tensor)
                kind = IntStorage if o.tensor.dtype == "int32" else LongStorage
                return ("storage", kind, key, "cpu", len(o.tensor.values))
            return None

    buf = io.BytesIO()
    P(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", "little")
        for i, t in enumerate(storages):
            fmt = "<%d%s" % (len(t.values), "i" if t.dtype == "int32" else "q")
            z.writestr("archive/data/%d" % i, struct.pack(fmt, *t.values))
        z.writestr("archive/version", "3\n")


# ---- the samples -----------------------------------------------------------------------------
def routed(rng, n_tokens, layers, k, experts, dense):
    """[tokens][layers][k] ids, -1 at dense layers."""
    out = []
    for _ in range(n_tokens):
        tok = []
        for l in range(layers):
            tok.append([-1] * k if l in dense else rng.sample(range(experts), k))
        out.append(tok)
    return out


def flat(routing):
    return [e for tok in routing for layer in tok for e in layer]


def write_routed_experts(out, rng):
    # SGLang: meta_info.routed_experts = base64 raw int32 [tokens, layers, k]; layer 0 dense.
    reqs, lines = [], []
    for r in range(3):
        prompt, completion = rng.randint(2, 5), rng.randint(1, 4)
        routing = routed(rng, prompt + completion - 1, 4, 2, 8, {0})
        raw = struct.pack("<%di" % len(flat(routing)), *flat(routing))
        lines.append(json.dumps({"text": "x", "meta_info": {
            "id": "req-%d" % r, "prompt_tokens": prompt, "completion_tokens": completion,
            "routed_experts": base64.b64encode(raw).decode()}}))
        reqs.append({"prompt_tokens": prompt, "routing": routing})
    with open(os.path.join(out, "sglang-routed.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "sglang-routed.expected.json"), "w") as f:
        json.dump({"layers": 4, "topk": 2, "requests": reqs}, f)

    # vLLM: choices[].routed_experts = base64 of a .npy buffer, int16 [tokens, layers, k].
    reqs, lines = [], []
    for r in range(2):
        choices = []
        for c in range(2):
            routing = routed(rng, rng.randint(3, 6), 3, 2, 16, set())
            header = "{'descr': '<i2', 'fortran_order': False, 'shape': (%d, 3, 2), }" % len(routing)
            header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
            npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
            npy += struct.pack("<%dh" % len(flat(routing)), *flat(routing))
            choices.append({"index": c, "text": "y",
                            "routed_experts": base64.b64encode(npy).decode()})
            reqs.append({"routing": routing})
        lines.append(json.dumps({"id": "cmpl-%d" % r, "choices": choices,
                                 "usage": {"prompt_tokens": 2}}))
    with open(os.path.join(out, "vllm-routed.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "vllm-routed.expected.json"), "w") as f:
        json.dump({"requests": reqs}, f)


def write_llama_csv(out, rng):
    # phase,token,layer,rank,expert: a prefill call of 3 tokens, then 2 decode tokens.
    rows, tokens = ["phase,token,layer,rank,expert"], []
    calls = [("prefill", [0, 1, 2]), ("decode", [3]), ("decode", [4])]
    for phase, toks in calls:
        routing = {t: routed(rng, 1, 2, 2, 6, set())[0] for t in toks}
        for l in range(2):
            for t in toks:
                for rank, e in enumerate(routing[t][l]):
                    rows.append("%s,%d,%d,%d,%d" % (phase, t, l, rank, e))
        tokens += [routing[t] for t in toks]
    with open(os.path.join(out, "llama-trace.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    with open(os.path.join(out, "llama-trace.expected.json"), "w") as f:
        json.dump({"tokens": tokens}, f)


def write_sglang_pt(out, rng):
    layers, k, logical, physical = 3, 8, 6, 8
    # Physical slots 6 and 7 are replicas of logical experts 1 and 4; layer 0 is dense.
    p2l = [[0, 1, 2, 3, 4, 5, 1, 4] for _ in range(layers)]
    records, expected = [], []
    def record(fid, mode, lens, positions, n_sel):
        T = len(positions)
        topk = [[[-1] * k for _ in range(T)] for _ in range(layers)]
        toks = []
        for t in range(T):
            tok = []
            for l in range(layers):
                if l == 0:
                    tok.append([])
                    continue
                phys = rng.sample(range(physical), physical)
                chosen, seen = [], set()
                for p in phys:
                    if p2l[l][p] not in seen and len(chosen) < n_sel:
                        chosen.append(p)
                        seen.add(p2l[l][p])
                topk[l][t][:n_sel] = chosen
                tok.append([p2l[l][p] for p in chosen])
            toks.append(tok)
        records.append({"forward_pass_id": fid, "rank": 0, "gatherer_key": "primary",
                        "input_ids": [100 + p for p in positions], "positions": positions,
                        "extend_seq_lens": lens, "forward_mode": mode,
                        "topk_ids_of_layer": Tensor((layers, T, k), flat(topk)),
                        "misc_objects": [], "global_physical_count":
                            Tensor((layers, physical), [0] * layers * physical)})
        expected.append({"forward_pass_id": fid, "tokens": toks, "positions": positions})
    record(7, 1, [3, 2], [0, 1, 2, 0, 1], 2)  # extend: two new requests
    record(8, 2, None, [3, 2], 2)             # decode: one token each (second request first)
    record(9, 2, None, [4, 3], 2)
    torch_save({"records": records,
                "last_physical_to_logical_map": Tensor((layers, physical), flat([p2l]), "int64")},
               os.path.join(out, "sglang-per-token.pt"))
    with open(os.path.join(out, "sglang-per-token.expected.json"), "w") as f:
        json.dump({"records": expected}, f)
    counts = [[[rng.randint(0, 9) if l else 0 for e in range(logical)] for l in range(layers)]
              for s in range(4)]
    torch_save({"rank": 0, "logical_count": Tensor((4, layers, logical), flat(counts)),
                "average_utilization_rate_over_window": None},
               os.path.join(out, "sglang-stat.pt"))
    with open(os.path.join(out, "sglang-stat.expected.json"), "w") as f:
        json.dump({"logical_count": counts}, f)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--seed" else 1
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    write_routed_experts(out, rng)
    write_llama_csv(out, rng)
    write_sglang_pt(out, rng)


if __name__ == "__main__":
    main()
