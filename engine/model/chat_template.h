#pragma once
// Chat prompt formats. A GGUF file carries its model's chat format as a Jinja template
// (`tokenizer.chat_template`); like llama.cpp's built-in formatter (llm_chat_detect_template) we do
// not run Jinja but recognise the template's family by signature substrings, checked in llama.cpp's
// order, and format the conversation with hand-written rules for that family. The output has no
// BOS: tokenizing it with the vocabulary's add-BOS setting and special-token parsing supplies it.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moescope {

namespace gguf {
class GgufFile;
}

enum class ChatFamily {
  kChatML,
  kPhi4,
  kSmolVLM,
  kMistralV1,
  kMistralV3,
  kMistralV3Tekken,
  kMistralV7,
  kMistralV7Tekken,
  kLlama2,
  kLlama2Sys,
  kLlama2SysBos,
  kLlama2SysStrip,
  kPhi3,
  kChatGLM4,
  kFalcon3,
  kGLMEdge,
  kZephyr,
  kMonarch,
  kGemma,
  kOrion,
  kOpenChat,
  kVicuna,
  kVicunaOrca,
  kDeepSeek,
  kCommandR,
  kLlama3,
  kChatGLM3,
  kMiniCPM,
  kDeepSeek2,
  kDeepSeek3,
  kExaone3,
  kExaone4,
  kRwkvWorld,
  kGranite,
  kGigaChat,
  kMegrez,
  kYandex,
  kBailing,
  kLlama4,
  kDots1,
  kHunyuanMoe,
  kGptOss,  // OpenAI harmony format
  kHunyuanDense,
  kKimiK2,
  kSeedOss,
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

// llama.cpp's name for a family ("chatml", "llama3", "gpt-oss", ...).
std::string_view chat_family_name(ChatFamily family);
// A family name as accepted by chat_family_name, or nullopt.
std::optional<ChatFamily> chat_family_from_name(std::string_view name);
// The family of a Jinja chat template (or of a bare family name), nullopt when unrecognised.
std::optional<ChatFamily> detect_chat_family(std::string_view template_text);
// Whether format_chat() can produce this family (a few exotic ones are only recognised).
bool chat_family_supported(ChatFamily family);

// The conversation in the family's format, ending with the assistant's turn header when
// add_generation_prompt. Throws moescope::Error for an unsupported family.
std::string format_chat(ChatFamily family, std::span<const ChatMessage> messages,
                        bool add_generation_prompt);

// The CLI's --chat: one user prompt with an optional system prompt, formatted with the model's own
// template. Throws moescope::Error when the file has no chat template or an unrecognised one.
std::string format_chat_prompt(const gguf::GgufFile& file, std::string_view user,
                               std::string_view system = {});

}  // namespace moescope
