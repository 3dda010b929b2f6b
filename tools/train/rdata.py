"""Reads character vectors out of an R lazy-load database (`Rdata.rdb`) without R.

An .rdb file is a sequence of records, each a 4-byte big-endian uncompressed length followed by a
zlib stream holding one XDR-serialised R object (R Internals, "Serialization Formats"). Only the
SEXP types that plain data packages use are understood; anything else raises ValueError.
"""

import struct
import zlib

# SEXP type codes and the serializer's pseudo-types (R's serialize.c).
NILSXP, SYMSXP, LISTSXP, CHARSXP, LGLSXP = 0, 1, 2, 9, 10
INTSXP, REALSXP, STRSXP, VECSXP = 13, 14, 16, 19
REFSXP, NILVALUE_SXP, GLOBALENV_SXP, EMPTYENV_SXP, BASEENV_SXP = 255, 254, 253, 242, 241
MISSINGARG_SXP, BASENAMESPACE_SXP, UNBOUNDVALUE_SXP = 251, 247, 252

HAS_ATTR, HAS_TAG = 1 << 9, 1 << 10


class _Reader:
    def __init__(self, buf):
        self.buf, self.pos, self.refs = buf, 0, []

    def take(self, n):
        if self.pos + n > len(self.buf):
            raise ValueError("truncated R serialization")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def item(self):
        flags = self.int()
        kind = flags & 0xFF
        if kind in (NILVALUE_SXP, GLOBALENV_SXP, EMPTYENV_SXP, BASEENV_SXP, MISSINGARG_SXP,
                    BASENAMESPACE_SXP, UNBOUNDVALUE_SXP):
            return None
        if kind == REFSXP:
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind == SYMSXP:
            name = self.item()
            self.refs.append(("symbol", name))
            return ("symbol", name)
        if kind == CHARSXP:
            n = self.int()
            return None if n == -1 else self.take(n).decode("utf-8", errors="replace")
        if kind == LISTSXP:
            if flags & HAS_ATTR:
                self.item()
            tag = self.item() if flags & HAS_TAG else None
            car = self.item()
            cdr = self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
        if kind in (STRSXP, VECSXP):
            n = self.int()
            value = [self.item() for _ in range(n)]
        elif kind in (LGLSXP, INTSXP):
            n = self.int()
            value = list(struct.unpack(">%di" % n, self.take(4 * n)))
        elif kind == REALSXP:
            n = self.int()
            value = list(struct.unpack(">%dd" % n, self.take(8 * n)))
        else:
            raise ValueError("unsupported R SEXP type %d" % kind)
        if flags & HAS_ATTR:
            self.item()
        return value


def unserialize(raw):
    """Decodes one XDR ("X\\n") serialised R object into Python lists/strings."""
    if raw[:2] != b"X\n":
        raise ValueError("not an XDR R serialization")
    r = _Reader(raw)
    r.pos = 2
    version = r.int()
    r.int()  # writer R version
    r.int()  # minimal reader R version
    if version == 3:
        r.take(r.int())  # native encoding name
    elif version != 2:
        raise ValueError("unsupported R serialization version %d" % version)
    return r.item()


def read_rdb(path):
    """Yields every object stored in an .rdb lazy-load database, in file order."""
    data = open(path, "rb").read()
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise ValueError("truncated .rdb record header")
        expected = struct.unpack(">I", data[pos:pos + 4])[0]
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data[pos + 4:])
        if len(raw) != expected:
            raise ValueError("bad .rdb record length")
        pos = len(data) - len(inflater.unused_data)
        yield unserialize(raw)
