#pragma once
// Byte sizes as the command line spells them.
#include <cstdint>
#include <string>
#include <string_view>

namespace moescope::offload {

// "256MiB", "1.5GiB", "2GB", "4096" -> bytes. Throws moescope::Error naming the text.
uint64_t parse_byte_size(std::string_view text);
// "1.50 GiB", "12.00 MiB", "512 B".
std::string format_bytes(uint64_t bytes);

}  // namespace moescope::offload
