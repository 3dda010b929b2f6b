"""Writes the trained model as a GGUF v3 file in llama.cpp's `llama` (Mixtral) or `qwen2moe`
layout (model.Config.arch)."""

import numpy as np

import gguf
import tokenizer


def norm_to_neox_rows(w, n_heads, head_dim):
    """Reorders the rows of each head (even rows, then odd rows) so that ggml's NEOX RoPE, which
    rotates (i, i + hd/2), on the exported rows equals the NORM RoPE (2i, 2i+1) the torch model
    applies: pair i keeps frequency base^(-2i/hd) in both modes. q·k is unchanged because Q and K
    are permuted alike. Works on weights [rows][cols] and biases [rows]."""
    order = np.concatenate([np.arange(0, head_dim, 2), np.arange(1, head_dim, 2)])
    perm = (np.arange(n_heads)[:, None] * head_dim + order[None, :]).reshape(-1)
    return w[perm]


def tensors(model):
    """(GGUF name, float32 numpy array in torch layout, is_matrix) in llama.cpp's order."""
    cfg = model.cfg
    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    if cfg.qwen2moe:
        for i in range(cfg.n_layer):
            for name, heads in (("wq", cfg.n_head), ("wk", cfg.n_head_kv)):
                for part in ("weight", "bias"):
                    key = "blocks.%d.attn.%s.%s" % (i, name, part)
                    sd[key] = norm_to_neox_rows(sd[key], heads, cfg.head_dim)
    out = [("token_embd.weight", sd["tok_embd.weight"], True),
           ("output_norm.weight", sd["out_norm.weight"], False),
           ("output.weight", sd["output.weight"], True)]
    for i in range(model.cfg.n_layer):
        p, b = "blk.%d." % i, "blocks.%d." % i
        out += [(p + "attn_norm.weight", sd[b + "attn_norm.weight"], False),
                (p + "attn_q.weight", sd[b + "attn.wq.weight"], True),
                (p + "attn_k.weight", sd[b + "attn.wk.weight"], True),
                (p + "attn_v.weight", sd[b + "attn.wv.weight"], True),
                (p + "attn_output.weight", sd[b + "attn.wo.weight"], True)]
        if cfg.qwen2moe:  # biases stay F32, as llama-quantize keeps 1-D tensors
            out += [(p + "attn_q.bias", sd[b + "attn.wq.bias"], False),
                    (p + "attn_k.bias", sd[b + "attn.wk.bias"], False),
                    (p + "attn_v.bias", sd[b + "attn.wv.bias"], False)]
        out += [(p + "ffn_norm.weight", sd[b + "ffn_norm.weight"], False),
                (p + "ffn_gate_inp.weight", sd[b + "moe.router.weight"], False),  # router: F32
                (p + "ffn_gate_exps.weight", sd[b + "moe.w_gate"], True),
                (p + "ffn_up_exps.weight", sd[b + "moe.w_up"], True),
                (p + "ffn_down_exps.weight", sd[b + "moe.w_down"], True)]
        if cfg.qwen2moe:
            out += [(p + "ffn_gate_inp_shexp.weight", sd[b + "moe.sh_gate_inp"], False),
                    (p + "ffn_gate_shexp.weight", sd[b + "moe.sh_gate"], True),
                    (p + "ffn_up_shexp.weight", sd[b + "moe.sh_up"], True),
                    (p + "ffn_down_shexp.weight", sd[b + "moe.sh_down"], True)]
    return out


def write(model, sp, path, quantize, name="moescope-default", meta=None):
    cfg = model.cfg
    a = cfg.arch  # key prefix
    w = gguf.Writer()
    w.add("general.architecture", gguf.STRING, a)
    w.add("general.name", gguf.STRING, name)
    w.add("general.description", gguf.STRING,
          "MoEScope default model: small MoE trained by tools/train on public-domain English text")
    w.add("general.license", gguf.STRING, "Apache-2.0")  # the project's licence
    for key, value in (meta or {}).items():
        w.add("moescope." + key, gguf.STRING, str(value))
    w.add(a + ".context_length", gguf.U32, cfg.ctx)
    w.add(a + ".embedding_length", gguf.U32, cfg.d_model)
    w.add(a + ".block_count", gguf.U32, cfg.n_layer)
    if cfg.qwen2moe:  # as convert_hf_to_gguf: intermediate_size, moe_intermediate_size, shared
        w.add(a + ".feed_forward_length", gguf.U32, cfg.d_shared)
        w.add(a + ".expert_feed_forward_length", gguf.U32, cfg.d_expert)
        w.add(a + ".expert_shared_feed_forward_length", gguf.U32, cfg.d_shared)
    else:
        w.add(a + ".feed_forward_length", gguf.U32, cfg.d_expert)
    w.add(a + ".attention.head_count", gguf.U32, cfg.n_head)
    w.add(a + ".attention.head_count_kv", gguf.U32, cfg.n_head_kv)
    w.add(a + ".attention.layer_norm_rms_epsilon", gguf.F32, cfg.rms_eps)
    w.add(a + ".rope.freq_base", gguf.F32, cfg.rope_base)
    w.add(a + ".rope.dimension_count", gguf.U32, cfg.head_dim)
    w.add(a + ".vocab_size", gguf.U32, cfg.vocab)
    w.add(a + ".expert_count", gguf.U32, cfg.n_expert)
    w.add(a + ".expert_used_count", gguf.U32, cfg.n_expert_used)
    w.add("general.file_type", gguf.U32, gguf.FTYPE_MOSTLY_Q8_0 if quantize else gguf.FTYPE_ALL_F32)
    if quantize:
        w.add("general.quantization_version", gguf.U32, 2)
    tokens, scores, types = tokenizer.vocab(sp)
    w.add("tokenizer.ggml.model", gguf.STRING, "llama")
    w.add("tokenizer.ggml.pre", gguf.STRING, "default")
    w.add("tokenizer.ggml.tokens", gguf.ARRAY, (gguf.STRING, tokens))
    w.add("tokenizer.ggml.scores", gguf.ARRAY, (gguf.F32, scores))
    w.add("tokenizer.ggml.token_type", gguf.ARRAY, (gguf.I32, types))
    w.add("tokenizer.ggml.bos_token_id", gguf.U32, sp.bos_id())
    w.add("tokenizer.ggml.eos_token_id", gguf.U32, sp.eos_id())
    w.add("tokenizer.ggml.unknown_token_id", gguf.U32, sp.unk_id())
    w.add("tokenizer.ggml.add_bos_token", gguf.BOOL, True)
    w.add("tokenizer.ggml.add_eos_token", gguf.BOOL, False)
    for tname, array, is_matrix in tensors(model):
        w.add_tensor(tname, array, gguf.GGML_Q8_0 if quantize and is_matrix else gguf.GGML_F32)
    w.write(path)
