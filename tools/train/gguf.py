"""Minimal GGUF v3 writer/reader and ggml's reference Q8_0 quantizer (numpy only).

Format (ggml docs/gguf.md): "GGUF", u32 version, u64 n_tensors, u64 n_kv; key/value pairs;
tensor infos (name, u32 n_dims, u64 ne[n_dims] with ne0 fastest, u32 type, u64 offset); padding
to the alignment; tensor data, each tensor aligned. All little-endian.
"""

import struct

import numpy as np

ALIGNMENT = 32
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
QK8_0 = 32
FTYPE_ALL_F32, FTYPE_MOSTLY_Q8_0 = 0, 7

# GGUF value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
           BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


def quantize_q8_0(x):
    """ggml's quantize_row_q8_0_ref on rows of float32: per block of 32, d = amax/127,
    q = roundf(x * (1/d)) (half away from zero), d stored as fp16. Returns the raw blocks."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % QK8_0:
        raise ValueError("row length %d is not a multiple of 32" % x.shape[-1])
    blocks = x.reshape(-1, QK8_0)
    amax = np.abs(blocks).max(axis=1)
    d = (amax / np.float32(127.0)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1.0) / d, np.float32(0.0)).astype(np.float32)
    scaled = (blocks * inv[:, None]).astype(np.float32).astype(np.float64)  # exact widening
    q = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int8)
    out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.reshape(-1)


def dequantize_q8_0(raw, n):
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n // QK8_0 * 34).reshape(-1, 34)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
    return (q * d).reshape(-1)


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, value):
    if vtype == STRING:
        return _string(value)
    if vtype == ARRAY:
        etype, items = value
        head = struct.pack("<IQ", etype, len(items))
        if etype == STRING:
            return head + b"".join(_string(s) for s in items)
        return head + np.asarray(items, dtype=np.dtype(_SCALAR[etype])).tobytes()
    return struct.pack(_SCALAR[vtype], value)


class Writer:
    """Collects metadata and tensors; tensors are numpy arrays in torch layout (ne reversed)."""

    def __init__(self):
        self.kv = []
        self.tensors = []

    def add(self, key, vtype, value):
        self.kv.append((key, vtype, value))

    def add_tensor(self, name, array, ggml_type):
        array = np.ascontiguousarray(array, dtype=np.float32)
        if ggml_type == GGML_F32:
            data = array.tobytes()
        elif ggml_type == GGML_Q8_0:
            data = quantize_q8_0(array).tobytes()
        else:
            raise ValueError("unsupported tensor type")
        self.tensors.append((name, tuple(reversed(array.shape)), ggml_type, data))

    def write(self, path):
        head = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv)))
        for key, vtype, value in self.kv:
            head += _string(key) + struct.pack("<I", vtype) + _value(vtype, value)
        offset = 0
        for name, ne, ggml_type, data in self.tensors:
            head += _string(name) + struct.pack("<I", len(ne))
            head += struct.pack("<%dQ" % len(ne), *ne) + struct.pack("<IQ", ggml_type, offset)
            offset += (len(data) + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        head += b"\0" * (-len(head) % ALIGNMENT)
        with open(path, "wb") as f:
            f.write(head)
            for _, _, _, data in self.tensors:
                f.write(data)
                f.write(b"\0" * (-len(data) % ALIGNMENT))


class Reader:
    """Reads a GGUF file written by anyone (used to check our export independently)."""

    def __init__(self, path):
        self.buf = open(path, "rb").read()
        self.pos = 0
        magic = self.buf[:4]
        if magic != b"GGUF":
            raise ValueError("not a GGUF file")
        self.pos = 4
        self.version, n_tensors, n_kv = self._unpack("<IQQ")
        self.kv = {}
        for _ in range(n_kv):
            key = self._str()
            (vtype,) = self._unpack("<I")
            self.kv[key] = self._read_value(vtype)
        self.kv_types = {}
        infos = []
        for _ in range(n_tensors):
            name = self._str()
            (n_dims,) = self._unpack("<I")
            ne = self._unpack("<%dQ" % n_dims)
            ggml_type, offset = self._unpack("<IQ")
            infos.append((name, ne, ggml_type, offset))
        align = self.kv.get("general.alignment", ALIGNMENT)
        data_start = (self.pos + align - 1) // align * align
        self.infos = {name: (ne, t, data_start + off) for name, ne, t, off in infos}
        self.order = [i[0] for i in infos]

    def _unpack(self, fmt):
        size = struct.calcsize(fmt)
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return out

    def _str(self):
        (n,) = self._unpack("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _read_value(self, vtype):
        if vtype == STRING:
            return self._str()
        if vtype == ARRAY:
            etype, n = self._unpack("<IQ")
            return [self._read_value(etype) for _ in range(n)]
        return self._unpack(_SCALAR[vtype])[0]

    def tensor(self, name):
        """Dequantized float32 array with numpy shape = reversed ne."""
        ne, ggml_type, start = self.infos[name]
        n = int(np.prod(ne))
        if ggml_type == GGML_F32:
            flat = np.frombuffer(self.buf, dtype="<f4", count=n, offset=start)
        elif ggml_type == GGML_F16:
            flat = np.frombuffer(self.buf, dtype="<f2", count=n, offset=start).astype(np.float32)
        elif ggml_type == GGML_Q8_0:
            flat = dequantize_q8_0(self.buf[start:start + n // QK8_0 * 34], n)
        else:
            raise ValueError("tensor type %d not supported by this checker" % ggml_type)
        return flat.reshape(tuple(reversed(ne)))

    def raw(self, name):
        ne, ggml_type, start = self.infos[name]
        n = int(np.prod(ne))
        size = {GGML_F32: 4 * n, GGML_F16: 2 * n, GGML_Q8_0: n // QK8_0 * 34}[ggml_type]
        return self.buf[start:start + size]
