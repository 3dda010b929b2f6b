#!/usr/bin/env python3
"""Writes a synthetic SGLang routed-experts JSONL workload (one response per line, base64 int32
[tokens][layers][top_k]) of an OLMoE-like shape (16 MoE layers x 64 experts, top-8) with hot
experts, per-request topics and inter-layer affinity, for trying `moescope import` and
`moescope placement` on a many-request trace (docs/placement.md).

usage: make_routed_workload.py OUT.jsonl N_REQUESTS      (seeded: the same file every time)
"""
import base64, json, random, struct, sys
L, E, K = 16, 64, 8
random.seed(7)
popularity = [1.0 / (1 + e) ** 0.8 for e in range(E)]
# each expert of layer l prefers a few experts of layer l+1
follow = [[random.sample(range(E), 6) for _ in range(E)] for _ in range(L)]
out = open(sys.argv[1], "w")
for r in range(int(sys.argv[2])):
    prompt, completion = random.randint(40, 120), random.randint(60, 160)
    n = prompt + completion - 1
    topic = random.sample(range(E), 12)
    ids = []
    for t in range(n):
        prev = None
        for l in range(L):
            chosen = []
            while len(chosen) < K:
                u = random.random()
                if prev is not None and u < 0.45:
                    e = random.choice(follow[l - 1][random.choice(prev)])
                elif u < 0.75:
                    e = random.choice(topic)
                else:
                    e = random.choices(range(E), popularity)[0]
                if e not in chosen:
                    chosen.append(e)
            ids += chosen
            prev = chosen
    blob = base64.b64encode(struct.pack("<%di" % len(ids), *ids)).decode()
    out.write(json.dumps({"text": "", "meta_info": {"id": "req-%d" % r, "prompt_tokens": prompt,
                          "completion_tokens": completion, "routed_experts": blob}}) + "\n")
