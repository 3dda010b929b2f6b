#include "storage/import/codecs.h"

#include <array>
#include <charconv>
#include <cstring>

#include "engine/common/error.h"

namespace moescope::storage::import {
namespace {

constexpr std::array<int8_t, 256> base64_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[uint8_t(chars[i])] = int8_t(i);
  t[uint8_t('-')] = 62;  // the URL-safe alphabet too
  t[uint8_t('_')] = 63;
  return t;
}

// The value of `key` in a .npy header dict ("{'descr': '<i4', 'fortran_order': False, ...}").
std::string_view header_value(std::string_view header, std::string_view key, std::string_view what) {
  std::string quoted(1, '\'');
  quoted.append(key).push_back('\'');
  const size_t at = header.find(quoted);
  if (at == std::string_view::npos) fail("{} is not a .npy array (its header has no {})", what, key);
  size_t v = header.find(':', at);
  if (v == std::string_view::npos) fail("{} is not a .npy array (bad header)", what);
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  size_t end = v;
  if (end < header.size() && header[end] == '(') {
    end = header.find(')', end);
    if (end == std::string_view::npos) fail("{} is not a .npy array (bad shape)", what);
    return header.substr(v, end - v + 1);
  }
  if (end < header.size() && header[end] == '\'') {
    end = header.find('\'', end + 1);
    if (end == std::string_view::npos) fail("{} is not a .npy array (bad header)", what);
    return header.substr(v + 1, end - v - 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  return header.substr(v, end - v);
}

}  // namespace

std::vector<uint8_t> base64_decode(std::string_view text, std::string_view what) {
  static constexpr std::array<int8_t, 256> kTable = base64_table();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) fail("{} is not base64 (its length does not fit)", what);
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int8_t v = kTable[uint8_t(text[i])];
    if (v < 0) fail("{} is not base64 (character {} at offset {})", what, int(uint8_t(text[i])), i);
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::vector<int32_t> int32_values(std::span<const uint8_t> bytes, std::string_view what) {
  if (bytes.size() % 4 != 0) fail("{} holds {} bytes, not whole int32 values", what, bytes.size());
  std::vector<int32_t> out(bytes.size() / 4);
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

NpyArray parse_npy(std::span<const uint8_t> bytes, std::string_view what) {
  static constexpr uint8_t kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    fail("{} is not a .npy array (no \\x93NUMPY magic)", what);
  const uint8_t major = bytes[6];
  size_t header_len = 0, at = 0;
  if (major == 1) {
    header_len = size_t(bytes[8]) | size_t(bytes[9]) << 8;
    at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("{} is a truncated .npy array", what);
    header_len = size_t(bytes[8]) | size_t(bytes[9]) << 8 | size_t(bytes[10]) << 16 |
                 size_t(bytes[11]) << 24;
    at = 12;
  } else {
    fail("{} is a .npy array of format {}, which MoEScope does not read", what, int(major));
  }
  if (bytes.size() < at + header_len) fail("{} is a truncated .npy array", what);
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + at), header_len);
  NpyArray a;
  a.dtype = std::string(header_value(header, "descr", what));
  if (header_value(header, "fortran_order", what).find("True") != std::string_view::npos)
    fail("{} is a Fortran-order .npy array (MoEScope reads C order)", what);
  const std::string_view shape = header_value(header, "shape", what);
  int64_t count = 1;
  for (size_t i = 1; i < shape.size();) {
    while (i < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i >= shape.size() || shape[i] == ')') break;
    int64_t dim = 0;
    const auto r = std::from_chars(shape.data() + i, shape.data() + shape.size(), dim);
    if (r.ec != std::errc() || dim < 0 || dim > (int64_t(1) << 40))
      fail("{} is not a .npy array (bad shape {})", what, shape);
    a.shape.push_back(dim);
    if (dim > 0 && count > (int64_t(1) << 40) / dim) fail("{} has too many values", what);
    count *= dim;
    i = size_t(r.ptr - shape.data());
  }
  const std::string& d = a.dtype;
  int width = 0;
  bool is_unsigned = false;
  if (d.size() == 3 && (d[0] == '<' || d[0] == '|' || d[0] == '=') &&
      (d[1] == 'i' || d[1] == 'u') && (d[2] == '1' || d[2] == '2' || d[2] == '4' || d[2] == '8')) {
    width = d[2] - '0';
    is_unsigned = d[1] == 'u';
  }
  if (width == 0 || (is_unsigned && width > 2))
    fail("{} is a .npy array of dtype '{}' (expected little-endian int16 or int32 ids)", what, d);
  const size_t data = at + header_len;
  if (bytes.size() - data != size_t(count) * size_t(width)) {
    fail("{} is a .npy array of shape {} but holds {} bytes of {}-byte values", what, shape,
         bytes.size() - data, width);
  }
  a.values.resize(size_t(count));
  const uint8_t* p = bytes.data() + data;
  for (size_t i = 0; i < size_t(count); ++i, p += width) {
    int64_t v = 0;
    switch (width) {
      case 1: v = is_unsigned ? int64_t(p[0]) : int64_t(int8_t(p[0])); break;
      case 2: {
        uint16_t u;
        std::memcpy(&u, p, 2);
        v = is_unsigned ? int64_t(u) : int64_t(int16_t(u));
        break;
      }
      case 4: {
        int32_t s;
        std::memcpy(&s, p, 4);
        v = s;
        break;
      }
      default: {
        std::memcpy(&v, p, 8);
        break;
      }
    }
    if (v < INT32_MIN || v > INT32_MAX) fail("{} holds an expert id {} out of range", what, v);
    a.values[i] = int32_t(v);
  }
  return a;
}

}  // namespace moescope::storage::import
