"""Decoder-only MoE transformer written so that llama.cpp's graph for the exported architecture
computes the same function. Two layouts (Config.arch):

  llama (Mixtral layout, the v1 default model):
    x = embd[tok]; per layer: h = x + Wo·Attn(RoPE(Wq·rms(x)), RoPE(Wk·rms(x)), Wv·rms(x))
                              x = h + MoE(rms(h)); logits = Wout·rms(x)
    MoE: p = softmax(Wr·x) over all experts; top-k; weights renormalised over the k;
         sum_k w_k · W2[e] (silu(W1[e]·x) * (W3[e]·x)), summed in top-k order.
  qwen2moe (the v2 default model): as llama, plus
    - Q/K/V projections with biases;
    - top-k weights NOT renormalised (w_k = p_k, llama.cpp's qwen2moe passes norm_w = false);
    - a shared expert added to every token: sigmoid(w_sh·x) · W2s (silu(W1s·x) * (W3s·x)).

RoPE here always rotates adjacent pairs (x[2i], x[2i+1]) - ggml's NORM mode, which `llama` uses.
qwen2moe uses NEOX mode (pairs (x[i], x[i + hd/2])) with the same frequencies; export.py permutes
the Q/K rows of each head (even rows first, then odd rows), which turns one into the other exactly.
Parameter shapes equal the GGUF tensors reversed (ggml ne0 = the last torch dim).
"""

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab: int = 4096
    d_model: int = 256
    n_layer: int = 6
    n_head: int = 4
    n_head_kv: int = 2
    n_expert: int = 16
    n_expert_used: int = 2
    d_expert: int = 256  # per-expert SwiGLU hidden size (llama.feed_forward_length)
    ctx: int = 256
    rope_base: float = 10000.0
    rms_eps: float = 1e-5
    arch: str = "llama"  # "llama" (Mixtral layout) or "qwen2moe" (shared expert, QKV biases)
    d_shared: int = 0  # qwen2moe shared-expert SwiGLU hidden size

    @property
    def qwen2moe(self):
        return self.arch == "qwen2moe"

    @property
    def head_dim(self):
        return self.d_model // self.n_head

    def dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, device=None):
    """cos/sin [ctx][head_dim/2]; pair i turns by pos * base^(-2i/head_dim)."""
    inv = cfg.rope_base ** (-torch.arange(0, cfg.head_dim, 2, dtype=torch.float64) / cfg.head_dim)
    angle = torch.arange(cfg.ctx, dtype=torch.float64)[:, None] * inv[None, :]
    return angle.cos().float(), angle.sin().float()


def rope_norm(x, cos, sin):
    """x [B][H][T][hd]; rotates adjacent pairs (ggml NORM mode)."""
    T = x.shape[2]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:T], sin[:T]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        bias = cfg.qwen2moe  # qwen2's attention has Q/K/V biases
        self.wq = nn.Linear(cfg.d_model, cfg.n_head * hd, bias=bias)
        self.wk = nn.Linear(cfg.d_model, cfg.n_head_kv * hd, bias=bias)
        self.wv = nn.Linear(cfg.d_model, cfg.n_head_kv * hd, bias=bias)
        self.wo = nn.Linear(cfg.n_head * hd, cfg.d_model, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        c, hd = self.cfg, self.cfg.head_dim
        q = self.wq(x).view(B, T, c.n_head, hd).transpose(1, 2)  # [B][H][T][hd]
        k = self.wk(x).view(B, T, c.n_head_kv, hd).transpose(1, 2)  # [B][Hkv][T][hd]
        v = self.wv(x).view(B, T, c.n_head_kv, hd).transpose(1, 2)
        q, k = rope_norm(q, cos, sin), rope_norm(k, cos, sin)
        group = c.n_head // c.n_head_kv  # query head h reads kv head h // group
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        # In place where autograd allows: at T = 2048 each [B][H][T][T] copy costs ~100 MB/layer.
        scores = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-1, -2)
        scores += mask[:T, :T]
        out = scores.softmax(-1) @ v  # [B][H][T][hd]
        return self.wo(out.transpose(1, 2).reshape(B, T, c.n_head * hd))


class MoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        X, Fh, E = cfg.n_expert, cfg.d_expert, cfg.d_model
        self.router = nn.Linear(E, X, bias=False)  # ffn_gate_inp {E, X}
        self.w_gate = nn.Parameter(torch.empty(X, Fh, E))  # ffn_gate_exps {E, F, X}
        self.w_up = nn.Parameter(torch.empty(X, Fh, E))  # ffn_up_exps {E, F, X}
        self.w_down = nn.Parameter(torch.empty(X, E, Fh))  # ffn_down_exps {F, E, X}
        if cfg.qwen2moe:
            S = cfg.d_shared
            self.sh_gate_inp = nn.Parameter(torch.empty(E))  # ffn_gate_inp_shexp {E}
            self.sh_gate = nn.Parameter(torch.empty(S, E))  # ffn_gate_shexp {E, S}
            self.sh_up = nn.Parameter(torch.empty(S, E))  # ffn_up_shexp {E, S}
            self.sh_down = nn.Parameter(torch.empty(E, S))  # ffn_down_shexp {S, E}

    def forward(self, x):
        """x [N][E] -> (y [N][E], aux stats). Routing as llama.cpp: softmax, top-k, renormalise
        (llama) or not (qwen2moe)."""
        k = self.cfg.n_expert_used
        probs = self.router(x).softmax(-1)  # [N][X]
        top_w, top_i = probs.topk(k, dim=-1)  # [N][k], best first
        if not self.cfg.qwen2moe:
            top_w = top_w / top_w.sum(-1, keepdim=True)
        flat_e = top_i.reshape(-1)  # [N*k]
        order = flat_e.argsort()
        counts = torch.bincount(flat_e, minlength=self.cfg.n_expert)
        token_of = order // k
        weight_of = top_w.reshape(-1)[order]
        y = torch.zeros_like(x)
        start = 0
        for e, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            idx = token_of[start:start + n]
            xe = x[idx]  # [n][E]
            h = F.silu(xe @ self.w_gate[e].t()) * (xe @ self.w_up[e].t())  # [n][F]
            y.index_add_(0, idx, (h @ self.w_down[e].t()) * weight_of[start:start + n, None])
            start += n
        if self.cfg.qwen2moe:
            shared = (F.silu(x @ self.sh_gate.t()) * (x @ self.sh_up.t())) @ self.sh_down.t()
            y = y + torch.sigmoid(x @ self.sh_gate_inp)[:, None] * shared
        return y, probs, counts


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d_model, cfg.rms_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.d_model, cfg.rms_eps)
        self.moe = MoE(cfg)

    def forward(self, x, cos, sin, mask):
        h = x + self.attn(self.attn_norm(x), cos, sin, mask)
        B, T, E = h.shape
        y, probs, counts = self.moe(self.ffn_norm(h).reshape(B * T, E))
        return h + y.view(B, T, E), probs, counts


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_embd = nn.Embedding(cfg.vocab, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.out_norm = RMSNorm(cfg.d_model, cfg.rms_eps)
        self.output = nn.Linear(cfg.d_model, cfg.vocab, bias=False)
        cos, sin = rope_tables(cfg)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        mask = torch.full((cfg.ctx, cfg.ctx), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        std = 0.02
        resid_std = std / math.sqrt(2 * self.cfg.n_layer)
        for name, p in self.named_parameters():
            if name.endswith(".bias") or name.endswith("sh_gate_inp"):
                nn.init.zeros_(p)  # shared-expert gate starts at sigmoid(0) = 1/2
            elif p.dim() == 1:
                nn.init.ones_(p)
            elif name.endswith("wo.weight") or name.endswith("w_down") or name.endswith("sh_down"):
                nn.init.normal_(p, 0.0, resid_std)
            else:
                nn.init.normal_(p, 0.0, std)

    def forward(self, tokens):
        """tokens [B][T] -> logits [B][T][V], per-layer (router probs [N][X], counts [X])."""
        x = self.tok_embd(tokens)
        routing = []
        for block in self.blocks:
            x, probs, counts = block(x, self.cos, self.sin, self.mask)
            routing.append((probs, counts))
        return self.output(self.out_norm(x)), routing


def balance_loss(routing, cfg):
    """Switch-Transformer load-balancing term, n_expert * sum_e f_e * P_e, averaged over layers
    (1.0 when routing is uniform)."""
    total = 0.0
    for probs, counts in routing:
        frac = counts.float() / counts.sum()
        total = total + cfg.n_expert * (frac * probs.mean(0)).sum()
    return total / len(routing)


def param_counts(cfg):
    E, X, Fh, hd = cfg.d_model, cfg.n_expert, cfg.d_expert, cfg.head_dim
    attn = E * hd * (2 * cfg.n_head + 2 * cfg.n_head_kv)
    expert = 3 * E * Fh
    shared = 3 * E * cfg.d_shared + E if cfg.qwen2moe else 0
    per_layer_total = attn + X * expert + shared + E * X + 2 * E
    per_layer_active = attn + cfg.n_expert_used * expert + shared + E * X
    total = cfg.n_layer * per_layer_total + 2 * cfg.vocab * E + E
    active = cfg.n_layer * per_layer_active + cfg.vocab * E
    return total, active
