#pragma once
// Small decoders the importers share: base64, and NumPy's .npy array format (the header's dtype
// and shape, little-endian integer data).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moescope::storage::import {

// Standard base64 (padding optional, no whitespace). Throws moescope::Error ("`what` is not
// base64 ...") on a bad character or length.
std::vector<uint8_t> base64_decode(std::string_view text, std::string_view what);

// An integer .npy array: its shape and its values widened to int32.
struct NpyArray {
  std::vector<int64_t> shape;
  std::string dtype;  // the header's descr, e.g. "<i2"
  std::vector<int32_t> values;
};
// Reads a .npy buffer (format 1.0 to 3.0) of dtype int8/int16/int32/int64 or uint8/uint16,
// C order. Throws moescope::Error naming `what` for another dtype, Fortran order, a bad header
// or a size that does not match the shape.
NpyArray parse_npy(std::span<const uint8_t> bytes, std::string_view what);

// Little-endian int32 values of raw bytes (the length must be a multiple of 4).
std::vector<int32_t> int32_values(std::span<const uint8_t> bytes, std::string_view what);

}  // namespace moescope::storage::import
