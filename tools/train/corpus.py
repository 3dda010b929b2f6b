"""Builds the training corpus from public-domain texts shipped in Debian packages.

Every source is one Debian package; its licence is checked in /usr/share/doc/PKG/copyright before
the text is used. The output is one document per line (whitespace collapsed), split into train and
validation by holding out every VALID_EVERY-th block of consecutive documents, so the held-out text
is spread over the whole source but each held-out passage is contiguous.
"""

import gzip
import json
import os
import re
import subprocess

import rdata

BLOCK_CHARS = 8000  # size of a train/valid split unit
VALID_EVERY = 20  # hold out every 20th block (5 %)
VALID_PHASE = 10

# name, domain, package, title, phrase that must occur in the copyright file, licence summary.
SOURCES = [
    ("austen", "fiction", "r-cran-janeaustenr",
     "Jane Austen, the six novels (1811-1818)", "License: MIT",
     "Novels first published 1811-1818 (author died 1817): public domain. The Debian package "
     "(transcription by J. Silge, from Project Gutenberg) is MIT-licensed."),
    ("web", "scripture", "sword-text-web", "World English Bible (with Deuterocanon)",
     "The World English Bible is in the Public Domain", "public domain"),
    ("tdavid", "commentary", "sword-comm-tdavid", "C. H. Spurgeon, The Treasury of David (1885)",
     "It is now in the public domain", "public domain"),
    ("mhcc", "commentary", "sword-comm-mhcc", "Matthew Henry's Concise Commentary",
     "Public Domain--Copy Freely", "public domain"),
    ("jargon", "jargon", "jargon-text", "The Jargon File 4.4.7 (E. S. Raymond, ed.)",
     "This document (the Jargon File) is in the public domain", "public domain"),
    ("devil", "satire", "dict-devil", "Ambrose Bierce, The Devil's Dictionary (1911)",
     "The Devil's Dictionary is in the public domain", "public domain (copyright expired)"),
]


def collapse(text):
    return " ".join(text.split())


def unstar(text):
    """Drops the `*` emphasis marks of the SWORD commentaries and the space they leave before
    punctuation."""
    return re.sub(r" ([.,;:!?])", r"\1", collapse(text.replace("*", " ")))


def check_licence(package, phrase):
    path = "/usr/share/doc/%s/copyright" % package
    if not os.path.exists(path):
        raise SystemExit("error: %s is not installed (run tools/train/setup.sh)" % package)
    text = open(path, encoding="utf-8", errors="replace").read()
    if phrase not in text:
        raise SystemExit("error: licence of %s changed: %r not in %s" % (package, phrase, path))
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], check=True,
                             capture_output=True, text=True).stdout
    line = next(l for l in text.splitlines() if phrase in l).strip()
    return version, path, line


def mod2imp(module):
    """Exports a SWORD module as `$$$key` lines followed by the entry's text lines."""
    out = subprocess.run(["mod2imp", module, "-s"], check=True, capture_output=True)
    return out.stdout.decode("utf-8", errors="replace").splitlines()


def austen_docs():
    path = "/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb"
    docs = []
    for novel in rdata.read_rdb(path):
        paragraph = []
        for line in novel + [""]:
            if line.strip():
                paragraph.append(line)
            elif paragraph:
                docs.append(collapse(" ".join(paragraph).replace("_", "")))
                paragraph = []
    return docs


def web_docs():
    """One document per chapter: the verses of a chapter joined into running text."""
    docs, verses, key = [], [], None
    for line in mod2imp("engWEB2015eb") + ["$$$END 0:0"]:
        if line.startswith("$$$"):
            m = re.match(r"\$\$\$(.+) (\d+):(\d+)$", line)
            chapter = (m.group(1), m.group(2)) if m and m.group(3) != "0" else None
            if chapter != key and verses:
                docs.append(collapse(" ".join(verses)))
                verses = []
            key = chapter if chapter else key
            skipping = chapter is None
        elif line.strip() and not skipping:
            verses.append(line)
    return docs


def tdavid_docs():
    docs = []
    for line in mod2imp("TDavid"):
        if line.startswith("$$$"):
            continue
        text = unstar(line)
        if text:
            docs.append(text)
    return docs


def mhcc_docs():
    """The exporter repeats neighbouring entries many times: keep the first copy of each paragraph.

    Paragraphs are the text between the `* Verses a-b *` markers of each chapter."""
    seen, docs = set(), []
    for line in mod2imp("MHCC"):
        if line.startswith("$$$"):
            continue
        for part in re.split(r"\*\s*Verses?\s+[^*]{1,20}\*", line):
            text = unstar(part)
            if len(text) >= 40 and text not in seen:
                seen.add(text)
                docs.append(text)
    return docs


def jargon_docs():
    text = gzip.open("/usr/share/doc/jargon-text/jargon.txt.gz", "rt", encoding="utf-8").read()
    docs, headword = [], None
    for block in re.split(r"\n\s*\n", text):
        lines = [l for l in block.splitlines() if not re.search("[\u2500-\u257f]", l)]
        para = collapse(" ".join(lines)).replace("{", "").replace("}", "")
        if re.fullmatch(r":[^:]+:.*", para) and len(para) < 120:
            headword = para[1:].replace(":", "", 1) if para.count(":") >= 2 else para
            continue
        if len(para.split()) < 4:
            continue
        if headword:
            para = headword + " " + para
            headword = None
        docs.append(para)
    return docs


def devil_docs():
    """Entries of the dictd database; 00-database-* entries are metadata, not text."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def b64(s):
        n = 0
        for ch in s:
            n = n * 64 + alphabet.index(ch)
        return n

    body = gzip.open("/usr/share/dictd/devil.dict.dz").read()  # dictzip is gzip-compatible
    entries = set()
    for line in open("/usr/share/dictd/devil.index", encoding="utf-8"):
        word, offset, size = line.rstrip("\n").split("\t")
        if not word.startswith("00"):
            entries.add((b64(offset), b64(size)))
    docs = []
    for offset, size in sorted(entries):
        text = body[offset:offset + size].decode("utf-8", errors="replace")
        docs.append(collapse(text))
    return docs


EXTRACTORS = {"austen": austen_docs, "web": web_docs, "tdavid": tdavid_docs,
              "mhcc": mhcc_docs, "jargon": jargon_docs, "devil": devil_docs}


def split(docs):
    """Groups consecutive documents into ~BLOCK_CHARS blocks; every VALID_EVERY-th is held out."""
    train, valid, block, size, index = [], [], [], 0, 0
    for doc in docs + [None]:
        if doc is not None:
            block.append(doc)
            size += len(doc)
        if block and (size >= BLOCK_CHARS or doc is None):
            (valid if index % VALID_EVERY == VALID_PHASE else train).extend(block)
            block, size, index = [], 0, index + 1
    return train, valid


def build(work):
    out = os.path.join(work, "corpus")
    os.makedirs(os.path.join(out, "train"), exist_ok=True)
    os.makedirs(os.path.join(out, "valid"), exist_ok=True)
    manifest = []
    for name, domain, package, title, phrase, licence in SOURCES:
        version, path, line = check_licence(package, phrase)
        docs = [d for d in EXTRACTORS[name]() if d]
        train, valid = split(docs)
        for part, ds in (("train", train), ("valid", valid)):
            with open(os.path.join(out, part, name + ".txt"), "w", encoding="utf-8") as f:
                f.write("".join(d + "\n" for d in ds))
        manifest.append({
            "source": name, "domain": domain, "package": package, "version": version,
            "title": title, "licence": licence, "copyright_file": path,
            "copyright_evidence": line, "documents": len(docs),
            "train_bytes": sum(len(d.encode()) + 1 for d in train),
            "valid_bytes": sum(len(d.encode()) + 1 for d in valid)})
        print("corpus: %-7s %-10s %7d docs  train %6.2f MB  valid %5.2f MB  (%s %s)" % (
            name, domain, len(docs), manifest[-1]["train_bytes"] / 1e6,
            manifest[-1]["valid_bytes"] / 1e6, package, version), flush=True)
    # All held-out text in one file, for `moescope perplexity` on the shipped model.
    with open(os.path.join(out, "valid.txt"), "w", encoding="utf-8") as f:
        for s in SOURCES:
            f.write(open(os.path.join(out, "valid", s[0] + ".txt"), encoding="utf-8").read())
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest
