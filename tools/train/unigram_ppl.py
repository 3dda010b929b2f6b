#!/usr/bin/python3
"""Unigram baseline for the model card: the perplexity of a unigram model of the default model's
tokenizer on the held-out text, scored on exactly the tokens `moescope perplexity` scores.

  /usr/bin/python3 tools/train/unigram_ppl.py --moescope build/app/moescope [--ctx 256]

- Tokenization: the SentencePiece model in work/tokenizer/ (the one exported into the GGUF). A
  text file is tokenized whole, as `moescope perplexity` (and llama-perplexity) do: one leading
  space prefix, newlines as byte pieces. The tool first checks that SentencePiece gives the
  engine's ids (`moescope tokenize --no-bos`) on sample lines and on the whole held-out file, and
  stops if they differ.
- Unigram model: token counts of the TRAINING split (work/corpus/train/*.txt, each file tokenized
  whole the same way), add-one (Laplace) smoothing over the whole vocabulary:
  p(t) = (count(t) + 1) / (N + V).
- Scored tokens: as llama-perplexity, the held-out tokens (BOS first) are cut into
  n_tokens // ctx chunks of ctx tokens, and in each chunk the tokens at positions ctx/2+1 .. ctx-1
  are scored. A unigram ignores context, so this only picks the same targets as the model's
  perplexity.
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SOURCES = ("austen", "web", "tdavid", "mhcc", "jargon", "devil")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--moescope", required=True, help="the moescope binary, for the id check")
    ap.add_argument("--model", default=None,
                    help="GGUF whose tokenizer the engine uses (default: the built-in model)")
    ap.add_argument("--ctx", type=int, default=256, help="perplexity chunk length")
    ap.add_argument("--check-lines", type=int, default=200,
                    help="held-out lines whose ids are compared one by one with the engine's")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    return ap.parse_args()


def engine_ids(args, path):
    cmd = [args.moescope, "tokenize", "--no-bos", "--file", path]
    if args.model:
        cmd += ["--model", args.model]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]


def check_ids(args, sp, held_out_text):
    """SentencePiece must give the engine's ids, else the baseline is not the same tokenizer."""
    lines = [l for l in held_out_text.split("\n") if l]
    rng = random.Random(1)
    sample = rng.sample(lines, min(args.check_lines, len(lines)))
    with tempfile.TemporaryDirectory() as tmp:
        # Line by line (the tokenization of a document as training saw it), then the whole file
        # (what perplexity tokenizes: newlines, no space prefix after them).
        for i, line in enumerate(sample):
            path = os.path.join(tmp, "line.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(line)
            ours, theirs = sp.encode(line), engine_ids(args, path)
            if ours != theirs:
                sys.exit("unigram_ppl: SentencePiece and the engine tokenize line %d differently:"
                         " %r\n  spm    %s\n  engine %s" % (i, line[:200], ours[:40], theirs[:40]))
        path = os.path.join(tmp, "held_out.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(held_out_text)
        whole_engine = engine_ids(args, path)
    whole_spm = sp.encode(held_out_text)
    if whole_spm != whole_engine:
        first = next((i for i, (a, b) in enumerate(zip(whole_spm, whole_engine)) if a != b),
                     min(len(whole_spm), len(whole_engine)))
        sys.exit("unigram_ppl: the whole held-out file tokenizes differently from token %d on "
                 "(%d vs %d tokens)" % (first, len(whole_spm), len(whole_engine)))
    return len(sample), whole_spm


def main():
    args = parse_args()
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.work, "tokenizer", "spm.model"))
    vocab = sp.get_piece_size()
    held_out = open(os.path.join(args.work, "corpus", "valid.txt"), encoding="utf-8").read()
    n_lines_checked, held_out_ids = check_ids(args, sp, held_out)

    counts = [0] * vocab
    n_train = 0
    for source in SOURCES:
        text = open(os.path.join(args.work, "corpus", "train", source + ".txt"),
                    encoding="utf-8").read()
        for t in sp.encode(text):
            counts[t] += 1
        n_train += len(text)
    total = sum(counts)
    log_p = [math.log((c + 1) / (total + vocab)) for c in counts]

    tokens = [sp.bos_id()] + held_out_ids
    ctx = args.ctx
    n_chunk = len(tokens) // ctx
    nll = [-log_p[tokens[i * ctx + j + 1]]
           for i in range(n_chunk) for j in range(ctx // 2, ctx - 1)]
    all_nll = [-log_p[t] for t in held_out_ids]
    mean = sum(nll) / len(nll)
    var = sum(x * x for x in nll) / len(nll) - mean * mean
    result = {
        "vocab": vocab,
        "train_tokens": total,
        "train_chars": n_train,
        "held_out_tokens": len(tokens),
        "ctx": ctx,
        "chunks": n_chunk,
        "scored": len(nll),
        "unigram_ppl": math.exp(mean),
        "unigram_ppl_error": math.exp(mean) * math.sqrt(max(var, 0.0) / (len(nll) - 1)),
        "unigram_ppl_all_tokens": math.exp(sum(all_nll) / len(all_nll)),
        "id_check": "%d lines and the whole file: SentencePiece ids == moescope tokenize --no-bos"
                    % n_lines_checked,
    }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for k, v in result.items():
            print("%-24s %s" % (k, "%.4f" % v if isinstance(v, float) else v))


if __name__ == "__main__":
    main()
