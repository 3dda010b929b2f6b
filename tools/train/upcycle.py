"""Stage 2 initialisation of the v2 default model: upcycles the v1 default model (a 6-layer,
16-expert top-2 `llama` MoE, d_model 192, experts of hidden size 192, trained by the `v1` config)
into the v2 layout (qwen2moe: 32 experts of hidden size 96, top-4, a gated shared expert, 8
layers), so the long-context run starts from what v1 learned instead of from noise.

  - Fine-grained expert segmentation (DeepSeekMoE): v1 expert e's SwiGLU hidden units [0, 96) and
    [96, 192) become experts 2e and 2e+1. A SwiGLU is a sum over its hidden units, so
    FFN_e = FFN_2e + FFN_2e+1 exactly. Both halves get e's router row: softmax over the 32 gives
    each half p_e / 2, so top-4 picks exactly the two halves of v1's top-2 experts.
  - qwen2moe does not renormalise the top-k weights (v1 did: p_e / (p_1 + p_2)). The halves'
    down projections are scaled by 2 * median(1 / (p_1 + p_2)) of the layer, measured with the v1
    model on training text, so the layer's output keeps its typical magnitude.
  - The shared expert starts with a zero down projection (contributes nothing; its gate logit 0).
  - Two layers are added, each a copy of the v1 layer before it (so their routers start with its
    skewed routing) with zero attention-output and expert down projections: the residual stream
    passes through them unchanged until training gives them a role.
  - Q/K/V biases start at zero; embeddings, norms and the output head are copied.
v1 uses the NORM RoPE convention the torch model uses, so its Q/K rows are copied as they are.
"""

import numpy as np
import torch

import gguf
import tokenizer
from model import Config, Transformer

V1_CONFIG = dict(d_model=192, n_layer=6, n_head=4, n_head_kv=2, n_expert=16, n_expert_used=2,
                 d_expert=192, ctx=256)
# v2 layer i is initialised from v1 layer V2_FROM_V1[i]; a repeated v1 layer is a new layer.
V2_FROM_V1 = [0, 1, 2, 2, 3, 4, 5, 5]


def read_v1(path, sp):
    """The v1 GGUF as a torch Transformer (weights dequantized to float32)."""
    r = gguf.Reader(path)
    kv = r.kv
    cfg = Config(vocab=kv["llama.vocab_size"], **V1_CONFIG)
    want = dict(d_model=kv["llama.embedding_length"], n_layer=kv["llama.block_count"],
                n_expert=kv["llama.expert_count"], n_expert_used=kv["llama.expert_used_count"],
                d_expert=kv["llama.feed_forward_length"], ctx=kv["llama.context_length"])
    for key, value in want.items():
        if getattr(cfg, key) != value:
            raise SystemExit("error: %s has %s = %s, the v1 layout needs %s"
                             % (path, key, value, getattr(cfg, key)))
    tokens, scores, _ = tokenizer.vocab(sp)
    if tokens != kv["tokenizer.ggml.tokens"] or not np.allclose(scores, kv["tokenizer.ggml.scores"]):
        raise SystemExit("error: work/tokenizer differs from the v1 model's tokenizer")
    model = Transformer(cfg)
    t = lambda name: torch.from_numpy(np.array(r.tensor(name), dtype=np.float32))  # noqa: E731
    sd = {"tok_embd.weight": t("token_embd.weight"), "out_norm.weight": t("output_norm.weight"),
          "output.weight": t("output.weight")}
    for i in range(cfg.n_layer):
        p, b = "blk.%d." % i, "blocks.%d." % i
        for gg, tt in (("attn_norm.weight", "attn_norm.weight"), ("attn_q.weight", "attn.wq.weight"),
                       ("attn_k.weight", "attn.wk.weight"), ("attn_v.weight", "attn.wv.weight"),
                       ("attn_output.weight", "attn.wo.weight"), ("ffn_norm.weight", "ffn_norm.weight"),
                       ("ffn_gate_inp.weight", "moe.router.weight"), ("ffn_gate_exps.weight", "moe.w_gate"),
                       ("ffn_up_exps.weight", "moe.w_up"), ("ffn_down_exps.weight", "moe.w_down")):
            sd[b + tt] = t(p + gg)
    model.load_state_dict(sd)
    return model


@torch.no_grad()
def topk_mass(v1, x):
    """Per v1 layer: the router's top-k probability mass p_1 + ... + p_k for each token of x."""
    v1.eval()
    _, routing = v1(x)
    k = v1.cfg.n_expert_used
    return [probs.topk(k, dim=-1).values.sum(-1) for probs, _ in routing]


@torch.no_grad()
def upcycle(model, v1, sample):
    """Overwrites model's (v2) weights from v1. sample: [B][T] training tokens for the scale."""
    cfg, old = model.cfg, v1.cfg
    split = cfg.n_expert // old.n_expert
    if (split < 1 or split * old.n_expert != cfg.n_expert or split * cfg.d_expert != old.d_expert
            or split * old.n_expert_used != cfg.n_expert_used or cfg.d_model != old.d_model
            or len(V2_FROM_V1) != cfg.n_layer or not cfg.qwen2moe):
        raise SystemExit("error: config is not an upcycling of the v1 layout")
    mass = topk_mass(v1, sample)
    src = v1.state_dict()
    dst = model.state_dict()
    for name in ("tok_embd.weight", "out_norm.weight", "output.weight"):
        dst[name].copy_(src[name])
    scales = []
    for i, j in enumerate(V2_FROM_V1):
        new_layer = i > 0 and V2_FROM_V1[i - 1] == j
        b, o = "blocks.%d." % i, "blocks.%d." % j
        for name in ("attn_norm.weight", "attn.wq.weight", "attn.wk.weight", "attn.wv.weight",
                     "attn.wo.weight", "ffn_norm.weight"):
            dst[b + name].copy_(src[o + name])
        for name in ("attn.wq.bias", "attn.wk.bias", "attn.wv.bias"):
            dst[b + name].zero_()
        F = cfg.d_expert
        dst[b + "moe.router.weight"].copy_(src[o + "moe.router.weight"].repeat_interleave(split, 0))
        gate = src[o + "moe.w_gate"].reshape(old.n_expert, split, F, cfg.d_model)
        up = src[o + "moe.w_up"].reshape(old.n_expert, split, F, cfg.d_model)
        down = src[o + "moe.w_down"].reshape(old.n_expert, cfg.d_model, split, F)
        scale = float(split * (1.0 / mass[j]).median())
        scales.append(0.0 if new_layer else scale)
        dst[b + "moe.w_gate"].copy_(gate.reshape(cfg.n_expert, F, cfg.d_model))
        dst[b + "moe.w_up"].copy_(up.reshape(cfg.n_expert, F, cfg.d_model))
        dst[b + "moe.w_down"].copy_(down.permute(0, 2, 1, 3).reshape(cfg.n_expert, cfg.d_model, F)
                                    * scales[-1])
        dst[b + "moe.sh_down"].zero_()
        dst[b + "moe.sh_gate_inp"].zero_()
        if new_layer:
            dst[b + "attn.wo.weight"].zero_()
    model.load_state_dict(dst)
    return scales
