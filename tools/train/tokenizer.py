"""Trains the SentencePiece BPE tokenizer and encodes the corpus into token-id arrays.

Settings give the layout llama.cpp's `llama` (SPM) tokenizer expects: <unk>=0, <s>=1, </s>=2, byte
pieces <0x00>..<0xFF> at 3..258, then merged pieces with their scores; identity normalisation and
no whitespace collapsing because llama.cpp does neither.
"""

import os
import re

import numpy as np
import sentencepiece as spm

from corpus import SOURCES

MAX_PIECE_INPUT = 2000  # SentencePiece silently drops input lines longer than max_sentence_length


def sentence_chunks(doc):
    """Splits a long document at sentence ends into pieces of at most ~MAX_PIECE_INPUT chars."""
    if len(doc) <= MAX_PIECE_INPUT:
        return [doc]
    out, cur = [], ""
    for sentence in re.split(r"(?<=[.!?;:]) ", doc):
        while len(sentence) > MAX_PIECE_INPUT:  # no sentence end for a long stretch
            out.append(sentence[:MAX_PIECE_INPUT])
            sentence = sentence[MAX_PIECE_INPUT:]
        if cur and len(cur) + 1 + len(sentence) > MAX_PIECE_INPUT:
            out.append(cur)
            cur = sentence
        else:
            cur = cur + " " + sentence if cur else sentence
    if cur:
        out.append(cur)
    return out


def train(work, vocab_size, threads):
    out = os.path.join(work, "tokenizer")
    os.makedirs(out, exist_ok=True)
    text_path = os.path.join(out, "input.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        for s in SOURCES:
            for doc in open(os.path.join(work, "corpus", "train", s[0] + ".txt"), encoding="utf-8"):
                for chunk in sentence_chunks(doc.rstrip("\n")):
                    f.write(chunk + "\n")
    spm.SentencePieceTrainer.train(
        input=text_path, model_prefix=os.path.join(out, "spm"), model_type="bpe",
        vocab_size=vocab_size, byte_fallback=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, character_coverage=0.9995, unk_id=0, bos_id=1, eos_id=2,
        pad_id=-1, max_sentence_length=4 * MAX_PIECE_INPUT + 16, input_sentence_size=3000000,
        shuffle_input_sentence=True, num_threads=threads, minloglevel=1)
    os.remove(text_path)
    sp = load(work)
    assert sp.id_to_piece(0) == "<unk>" and sp.id_to_piece(1) == "<s>"
    assert sp.id_to_piece(2) == "</s>" and sp.id_to_piece(3) == "<0x00>"
    assert sp.id_to_piece(258) == "<0xFF>" and sp.get_piece_size() == vocab_size
    return sp


def load(work):
    return spm.SentencePieceProcessor(model_file=os.path.join(work, "tokenizer", "spm.model"))


def vocab(sp):
    """tokens, scores and GGUF token types (1 normal, 2 unknown, 3 control, 5 unused, 6 byte)."""
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            types.append(2)
        elif sp.is_control(i):
            types.append(3)
        elif sp.is_unused(i):
            types.append(5)
        elif sp.is_byte(i):
            types.append(6)
        else:
            types.append(1)
    return tokens, scores, types


def encode_corpus(work, sp):
    """Each document becomes <s> + pieces (the SPM dummy-prefix space included), as llama.cpp
    tokenizes a prompt; documents are concatenated per source and split."""
    out = os.path.join(work, "data")
    os.makedirs(out, exist_ok=True)
    stats = {}
    for part in ("train", "valid"):
        for s in SOURCES:
            docs = open(os.path.join(work, "corpus", part, s[0] + ".txt"),
                        encoding="utf-8").read().splitlines()
            ids = []
            for pieces in sp.encode(docs):
                ids.append(1)
                ids.extend(pieces)
            arr = np.asarray(ids, dtype=np.uint16)
            np.save(os.path.join(out, "%s_%s.npy" % (part, s[0])), arr)
            n_bytes = sum(len(d.encode()) for d in docs)
            stats["%s_%s" % (part, s[0])] = (len(arr), n_bytes)
            print("tokens: %-5s %-7s %9d tokens, %.2f bytes/token" % (
                part, s[0], len(arr), n_bytes / max(1, len(arr) - len(docs))), flush=True)
    return stats
