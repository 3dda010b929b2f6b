#!/usr/bin/python3
"""Held-out perplexity of a training run's checkpoint, computed with the torch model exactly as
`moescope perplexity` (llama-perplexity) does, to cross-check the engine on the exported file:

  /usr/bin/python3 tools/train/torch_ppl.py [--run default] [--ctx 256] [--max-chunks N]

The held-out file (work/corpus/valid.txt) is tokenized whole by SentencePiece (unigram_ppl.py
checks that this equals `moescope tokenize --no-bos`), BOS is put first, the tokens are cut into
n // ctx chunks of ctx tokens, each chunk's first token is replaced by BOS, each chunk runs from an
empty context, and the predictions of tokens ctx/2 + 1 .. ctx - 1 are scored.
"""

import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--run", default="default")
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--max-chunks", type=int, default=0, help="score only the first N chunks")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import sentencepiece as spm
    import torch
    sys.path.insert(0, HERE)
    from model import Config, Transformer

    torch.set_num_threads(args.threads)
    saved = torch.load(os.path.join(args.work, "runs", args.run, "checkpoint.pt"))
    model = Transformer(Config(**saved["config"]))
    model.load_state_dict(saved["model"])
    model.eval()
    if args.ctx > model.cfg.ctx:
        sys.exit("error: --ctx %d exceeds the model's context %d" % (args.ctx, model.cfg.ctx))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.work, "tokenizer", "spm.model"))
    text = open(os.path.join(args.work, "corpus", "valid.txt"), encoding="utf-8").read()
    tokens = [sp.bos_id()] + sp.encode(text)
    ctx = args.ctx
    n_chunk = len(tokens) // ctx
    if args.max_chunks:
        n_chunk = min(n_chunk, args.max_chunks)
    chunks = torch.tensor([tokens[i * ctx:(i + 1) * ctx] for i in range(n_chunk)])
    chunks[:, 0] = sp.bos_id()
    nll, count = 0.0, 0
    sq = 0.0
    with torch.no_grad():
        for batch in chunks.split(args.batch):
            logits, _ = model(batch)
            logp = torch.log_softmax(logits[:, ctx // 2:ctx - 1].double(), -1)
            target = batch[:, ctx // 2 + 1:ctx]
            x = -logp.gather(-1, target[..., None])[..., 0]
            nll += x.sum().item()
            sq += (x * x).sum().item()
            count += x.numel()
    mean = nll / count
    err = math.exp(mean) * math.sqrt(max(sq / count - mean * mean, 0.0) / (count - 1))
    print("ctx %d: %d chunks, %d predictions, perplexity %.3f +/- %.3f"
          % (ctx, n_chunk, count, math.exp(mean), err))


if __name__ == "__main__":
    main()
