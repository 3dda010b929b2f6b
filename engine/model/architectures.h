#pragma once
// The GGUF architectures (`general.architecture`) MoEScope can run, in llama.cpp's spelling.
#include <array>
#include <string>
#include <string_view>

namespace moescope {

inline constexpr std::array<std::string_view, 8> kSupportedArchitectures = {
    "llama", "qwen2moe", "qwen3moe", "olmoe", "granitemoe", "phimoe", "deepseek2", "gpt-oss"};

bool is_supported_architecture(std::string_view arch);
// "llama, qwen2moe, ..." for error messages.
std::string supported_architectures_list();

}  // namespace moescope
