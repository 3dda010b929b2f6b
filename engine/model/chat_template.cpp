#include "engine/model/chat_template.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"

namespace moescope {
namespace {

struct FamilyName {
  ChatFamily family;
  std::string_view name;
};

constexpr std::array kFamilyNames = {
    FamilyName{ChatFamily::kChatML, "chatml"},
    FamilyName{ChatFamily::kPhi4, "phi4"},
    FamilyName{ChatFamily::kSmolVLM, "smolvlm"},
    FamilyName{ChatFamily::kMistralV1, "mistral-v1"},
    FamilyName{ChatFamily::kMistralV3, "mistral-v3"},
    FamilyName{ChatFamily::kMistralV3Tekken, "mistral-v3-tekken"},
    FamilyName{ChatFamily::kMistralV7, "mistral-v7"},
    FamilyName{ChatFamily::kMistralV7Tekken, "mistral-v7-tekken"},
    FamilyName{ChatFamily::kLlama2, "llama2"},
    FamilyName{ChatFamily::kLlama2Sys, "llama2-sys"},
    FamilyName{ChatFamily::kLlama2SysBos, "llama2-sys-bos"},
    FamilyName{ChatFamily::kLlama2SysStrip, "llama2-sys-strip"},
    FamilyName{ChatFamily::kPhi3, "phi3"},
    FamilyName{ChatFamily::kChatGLM4, "chatglm4"},
    FamilyName{ChatFamily::kFalcon3, "falcon3"},
    FamilyName{ChatFamily::kGLMEdge, "glmedge"},
    FamilyName{ChatFamily::kZephyr, "zephyr"},
    FamilyName{ChatFamily::kMonarch, "monarch"},
    FamilyName{ChatFamily::kGemma, "gemma"},
    FamilyName{ChatFamily::kOrion, "orion"},
    FamilyName{ChatFamily::kOpenChat, "openchat"},
    FamilyName{ChatFamily::kVicuna, "vicuna"},
    FamilyName{ChatFamily::kVicunaOrca, "vicuna-orca"},
    FamilyName{ChatFamily::kDeepSeek, "deepseek"},
    FamilyName{ChatFamily::kCommandR, "command-r"},
    FamilyName{ChatFamily::kLlama3, "llama3"},
    FamilyName{ChatFamily::kChatGLM3, "chatglm3"},
    FamilyName{ChatFamily::kMiniCPM, "minicpm"},
    FamilyName{ChatFamily::kDeepSeek2, "deepseek2"},
    FamilyName{ChatFamily::kDeepSeek3, "deepseek3"},
    FamilyName{ChatFamily::kExaone3, "exaone3"},
    FamilyName{ChatFamily::kExaone4, "exaone4"},
    FamilyName{ChatFamily::kRwkvWorld, "rwkv-world"},
    FamilyName{ChatFamily::kGranite, "granite"},
    FamilyName{ChatFamily::kGigaChat, "gigachat"},
    FamilyName{ChatFamily::kMegrez, "megrez"},
    FamilyName{ChatFamily::kYandex, "yandex"},
    FamilyName{ChatFamily::kBailing, "bailing"},
    FamilyName{ChatFamily::kLlama4, "llama4"},
    FamilyName{ChatFamily::kDots1, "dots1"},
    FamilyName{ChatFamily::kHunyuanMoe, "hunyuan-moe"},
    FamilyName{ChatFamily::kGptOss, "gpt-oss"},
    FamilyName{ChatFamily::kHunyuanDense, "hunyuan-dense"},
    FamilyName{ChatFamily::kKimiK2, "kimi-k2"},
    FamilyName{ChatFamily::kSeedOss, "seed_oss"},
};

std::string trim(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  return std::string(s.substr(begin, end - begin));
}

// ---- Families that are one header and one trailer per message ----------------------------------

// A turn's header may name the role: {role} as given, {Role} capitalised, {ROLE} upper case.
struct Turn {
  std::string_view header;
  std::string_view trailer;
  bool trim = false;
};

struct RoleTurn {
  std::string_view role;
  Turn turn;
};

struct TurnTable {
  std::string_view preamble;
  std::vector<RoleTurn> roles;  // role-specific turns, checked first
  std::optional<Turn> other;    // any other role; nullopt: such messages are dropped
  std::string_view generation_prompt;
  bool trim_all = false;
};

std::string expand_header(std::string_view header, std::string_view role) {
  std::string out;
  for (size_t i = 0; i < header.size();) {
    const std::string_view rest = header.substr(i);
    const bool as_is = rest.starts_with("{role}");
    const bool capital = rest.starts_with("{Role}");
    const bool upper = rest.starts_with("{ROLE}");
    if (!as_is && !capital && !upper) {
      out += header[i++];
      continue;
    }
    for (size_t k = 0; k < role.size(); ++k) {
      const auto ch = static_cast<unsigned char>(role[k]);
      out += (upper || (capital && k == 0)) ? static_cast<char>(std::toupper(ch)) : role[k];
    }
    i += 6;
  }
  return out;
}

std::string format_table(const TurnTable& table, std::span<const ChatMessage> messages,
                         bool add_generation_prompt) {
  std::string out(table.preamble);
  for (const auto& m : messages) {
    std::optional<Turn> turn = table.other;
    for (const auto& rt : table.roles) {
      if (rt.role == m.role) turn = rt.turn;
    }
    if (!turn) continue;
    out += expand_header(turn->header, m.role);
    out += (table.trim_all || turn->trim) ? trim(m.content) : m.content;
    out += turn->trailer;
  }
  if (add_generation_prompt) out += table.generation_prompt;
  return out;
}

// clang-format off
const TurnTable kChatML{"", {}, Turn{"<|im_start|>{role}\n", "<|im_end|>\n"}, "<|im_start|>assistant\n"};
const TurnTable kPhi4{"", {}, Turn{"<|im_start|>{role}<|im_sep|>", "<|im_end|>"},
                      "<|im_start|>assistant<|im_sep|>"};
const TurnTable kSmolVLM{"<|im_start|>",
                         {{"system", {"", "\n\n"}}, {"user", {"User: ", "<end_of_utterance>\n"}}},
                         Turn{"Assistant: ", "<end_of_utterance>\n"}, "Assistant:"};
const TurnTable kMistralV7{"",
                           {{"system", {"[SYSTEM_PROMPT] ", "[/SYSTEM_PROMPT]"}},
                            {"user", {"[INST] ", "[/INST]"}}},
                           Turn{" ", "</s>"}, ""};
const TurnTable kMistralV7Tekken{"",
                                 {{"system", {"[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"}},
                                  {"user", {"[INST]", "[/INST]"}}},
                                 Turn{"", "</s>"}, ""};
const TurnTable kPhi3{"", {}, Turn{"<|{role}|>\n", "<|end|>\n"}, "<|assistant|>\n"};
const TurnTable kChatGLM4{"[gMASK]<sop>", {}, Turn{"<|{role}|>\n", ""}, "<|assistant|>\n"};
const TurnTable kFalcon3{"", {}, Turn{"<|{role}|>\n", "\n"}, "<|assistant|>\n"};
const TurnTable kGLMEdge{"", {}, Turn{"<|{role}|>\n", ""}, "<|assistant|>"};
const TurnTable kZephyr{"", {}, Turn{"<|{role}|>\n", "<|endoftext|>\n"}, "<|assistant|>\n"};
const TurnTable kOpenChat{"", {{"system", {"", "<|end_of_turn|>"}}},
                          Turn{"GPT4 Correct {Role}: ", "<|end_of_turn|>"}, "GPT4 Correct Assistant:"};
const TurnTable kVicuna{"",
                        {{"system", {"", "\n\n"}}, {"user", {"USER: ", "\n"}},
                         {"assistant", {"ASSISTANT: ", "</s>\n"}}},
                        std::nullopt, "ASSISTANT:"};
const TurnTable kVicunaOrca{"",
                            {{"system", {"SYSTEM: ", "\n"}}, {"user", {"USER: ", "\n"}},
                             {"assistant", {"ASSISTANT: ", "</s>\n"}}},
                            std::nullopt, "ASSISTANT:"};
const TurnTable kDeepSeek{"",
                          {{"system", {"", ""}}, {"user", {"### Instruction:\n", "\n"}},
                           {"assistant", {"### Response:\n", "\n<|EOT|>\n"}}},
                          std::nullopt, "### Response:\n"};
const TurnTable kCommandR{"",
                          {{"system", {"<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>"}},
                           {"user", {"<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>"}},
                           {"assistant", {"<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>"}}},
                          std::nullopt, "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", true};
const TurnTable kLlama3{"", {}, Turn{"<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>"},
                        "<|start_header_id|>assistant<|end_header_id|>\n\n", true};
const TurnTable kChatGLM3{"[gMASK]sop", {}, Turn{"<|{role}|>\n ", ""}, "<|assistant|>"};
const TurnTable kMiniCPM{"", {{"user", {"<用户>", "<AI>"}}}, Turn{"", ""}, "", true};
const TurnTable kDeepSeek2{"",
                           {{"system", {"", "\n\n"}}, {"user", {"User: ", "\n\n"}},
                            {"assistant", {"Assistant: ", "<｜end▁of▁sentence｜>"}}},
                           std::nullopt, "Assistant:"};
const TurnTable kDeepSeek3{"",
                           {{"system", {"", "\n\n"}}, {"user", {"<｜User｜>", ""}},
                            {"assistant", {"<｜Assistant｜>", "<｜end▁of▁sentence｜>"}}},
                           std::nullopt, "<｜Assistant｜>"};
const TurnTable kExaone3{"",
                         {{"system", {"[|system|]", "[|endofturn|]\n"}}, {"user", {"[|user|]", "\n"}},
                          {"assistant", {"[|assistant|]", "[|endofturn|]\n"}}},
                         std::nullopt, "[|assistant|]", true};
const TurnTable kExaone4{"",
                         {{"system", {"[|system|]", "[|endofturn|]\n"}}, {"user", {"[|user|]", "\n"}},
                          {"assistant", {"[|assistant|]", "[|endofturn|]\n"}},
                          {"tool", {"[|tool|]", "[|endofturn|]\n"}}},
                         std::nullopt, "[|assistant|]", true};
const TurnTable kGranite{"", {{"assistant_tool_call", {"<|start_of_role|>assistant_tool_call<|end_of_role|><|tool_call|>", "<|end_of_text|>\n"}}},
                         Turn{"<|start_of_role|>{role}<|end_of_role|>", "<|end_of_text|>\n"},
                         "<|start_of_role|>assistant<|end_of_role|>"};
const TurnTable kMegrez{"", {}, Turn{"<|role_start|>{role}<|role_end|>", "<|turn_end|>"},
                        "<|role_start|>assistant<|role_end|>"};
const TurnTable kBailing{"", {{"user", {"<role>HUMAN</role>", ""}}}, Turn{"<role>{ROLE}</role>", ""},
                         "<role>ASSISTANT</role>"};
const TurnTable kLlama4{"", {}, Turn{"<|header_start|>{role}<|header_end|>\n\n", "<|eot|>"},
                        "<|header_start|>assistant<|header_end|>\n\n", true};
const TurnTable kDots1{"",
                       {{"system", {"<|system|>", "<|endofsystem|>"}},
                        {"user", {"<|userprompt|>", "<|endofuserprompt|>"}}},
                       Turn{"<|response|>", "<|endofresponse|>"}, "<|response|>"};
const TurnTable kHunyuanMoe{"",
                            {{"system", {"<|startoftext|>", "<|extra_4|>"}},
                             {"assistant", {"", "<|eos|>"}}},
                            Turn{"<|startoftext|>", "<|extra_0|>"}, ""};
const TurnTable kGptOss{"", {{"assistant", {"<|start|>assistant<|message|>", "<|return|>"}}},
                        Turn{"<|start|>{role}<|message|>", "<|end|>"}, "<|start|>assistant"};
const TurnTable kSeedOss{"", {{"assistant", {"<seed:bos>assistant\n", "<seed:eos>", true}}},
                         Turn{"<seed:bos>{role}\n", "<seed:eos>"}, "<seed:bos>assistant\n"};
// clang-format on

// ---- Families with rules beyond a header and trailer per message --------------------------------

// Mistral's official v1/v3 templates: a system prompt joins the next [INST] block.
std::string format_mistral(ChatFamily family, std::span<const ChatMessage> messages) {
  const std::string_view lead = family == ChatFamily::kMistralV1 ? " " : "";
  const std::string_view gap = family == ChatFamily::kMistralV3Tekken ? "" : " ";
  const bool trim_reply = family == ChatFamily::kMistralV3;
  std::string out;
  bool in_turn = false;
  for (const auto& m : messages) {
    if (!in_turn) {
      out.append(lead).append("[INST]").append(gap);
      in_turn = true;
    }
    if (m.role == "system") {
      out += m.content + "\n\n";
    } else if (m.role == "user") {
      out.append(m.content).append(lead).append("[/INST]");
    } else {
      out.append(gap).append(trim_reply ? trim(m.content) : m.content).append("</s>");
      in_turn = false;
    }
  }
  return out;
}

// Llama 2 chat: [INST] blocks, the system prompt in <<SYS>> (or plain text for the variant
// without system support); the BOS of the first block comes from the tokenizer.
std::string format_llama2(ChatFamily family, std::span<const ChatMessage> messages) {
  const bool system_block = family != ChatFamily::kLlama2;
  const bool bos_inside = family == ChatFamily::kLlama2SysBos;
  const bool strip = family == ChatFamily::kLlama2SysStrip;
  std::string out = "[INST] ";
  bool in_turn = true;
  for (const auto& m : messages) {
    const std::string content = strip ? trim(m.content) : m.content;
    if (!in_turn) {
      out += bos_inside ? "<s>[INST] " : "[INST] ";
      in_turn = true;
    }
    if (m.role == "system") {
      out += system_block ? "<<SYS>>\n" + content + "\n<</SYS>>\n\n" : content + "\n";
    } else if (m.role == "user") {
      out += content + " [/INST]";
    } else {
      out += content + "</s>";
      in_turn = false;
    }
  }
  return out;
}

// AlphaMonarch: every turn but the first opens with a literal <s>.
std::string format_monarch(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    out += (i == 0 ? "" : "<s>") + messages[i].role + "\n" + messages[i].content + "</s>\n";
  }
  if (add_generation_prompt) out += "<s>assistant\n";
  return out;
}

// Gemma has no system role: the system prompt is prepended to the next user turn.
std::string format_gemma(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string out;
  std::string system;
  for (const auto& m : messages) {
    if (m.role == "system") {
      system += trim(m.content);
      continue;
    }
    const std::string role = m.role == "assistant" ? "model" : m.role;
    out += "<start_of_turn>" + role + "\n";
    if (!system.empty() && role != "model") {
      out += system + "\n\n";
      system.clear();
    }
    out += trim(m.content) + "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

// Orion: no system role either; the reply header comes right after each user turn.
std::string format_orion(std::span<const ChatMessage> messages) {
  std::string out;
  std::string system;
  for (const auto& m : messages) {
    if (m.role == "system") {
      system += m.content;
    } else if (m.role == "user") {
      out += "Human: ";
      if (!system.empty()) {
        out += system + "\n\n";
        system.clear();
      }
      out += m.content + "\n\nAssistant: </s>";
    } else {
      out += m.content + "</s>";
    }
  }
  return out;
}

// RWKV world: the reply header follows the last user turn.
std::string format_rwkv(std::span<const ChatMessage> messages) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (m.role == "system") {
      out += "System: " + trim(m.content) + "\n\n";
    } else if (m.role == "user") {
      out += "User: " + trim(m.content) + "\n\n";
      if (i + 1 == messages.size()) out += "Assistant:";
    } else if (m.role == "assistant") {
      out += "Assistant: " + trim(m.content) + "\n\n";
    }
  }
  return out;
}

std::string format_gigachat(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  const bool has_system = !messages.empty() && messages[0].role == "system";
  std::string out = has_system ? "<s>" + messages[0].content + "<|message_sep|>" : "<s>";
  for (size_t i = has_system ? 1 : 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (m.role == "user") {
      out += "user<|role_sep|>" + m.content +
             "<|message_sep|>available functions<|role_sep|>[]<|message_sep|>";
    } else if (m.role == "assistant") {
      out += "assistant<|role_sep|>" + m.content + "<|message_sep|>";
    }
  }
  if (add_generation_prompt) out += "assistant<|role_sep|>";
  return out;
}

std::string format_yandex(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string out = "<s>";
  for (const auto& m : messages) {
    if (m.role == "user") out += " Пользователь: " + m.content + "\n\n";
    if (m.role == "assistant") out += " Ассистент: " + m.content + "\n\n";
  }
  if (add_generation_prompt) out += " Ассистент:[SEP]";
  return out;
}

const TurnTable* turn_table(ChatFamily family) {
  switch (family) {
    case ChatFamily::kChatML:
      return &kChatML;
    case ChatFamily::kPhi4:
      return &kPhi4;
    case ChatFamily::kSmolVLM:
      return &kSmolVLM;
    case ChatFamily::kMistralV7:
      return &kMistralV7;
    case ChatFamily::kMistralV7Tekken:
      return &kMistralV7Tekken;
    case ChatFamily::kPhi3:
      return &kPhi3;
    case ChatFamily::kChatGLM4:
      return &kChatGLM4;
    case ChatFamily::kFalcon3:
      return &kFalcon3;
    case ChatFamily::kGLMEdge:
      return &kGLMEdge;
    case ChatFamily::kZephyr:
      return &kZephyr;
    case ChatFamily::kOpenChat:
      return &kOpenChat;
    case ChatFamily::kVicuna:
      return &kVicuna;
    case ChatFamily::kVicunaOrca:
      return &kVicunaOrca;
    case ChatFamily::kDeepSeek:
      return &kDeepSeek;
    case ChatFamily::kCommandR:
      return &kCommandR;
    case ChatFamily::kLlama3:
      return &kLlama3;
    case ChatFamily::kChatGLM3:
      return &kChatGLM3;
    case ChatFamily::kMiniCPM:
      return &kMiniCPM;
    case ChatFamily::kDeepSeek2:
      return &kDeepSeek2;
    case ChatFamily::kDeepSeek3:
      return &kDeepSeek3;
    case ChatFamily::kExaone3:
      return &kExaone3;
    case ChatFamily::kExaone4:
      return &kExaone4;
    case ChatFamily::kGranite:
      return &kGranite;
    case ChatFamily::kMegrez:
      return &kMegrez;
    case ChatFamily::kBailing:
      return &kBailing;
    case ChatFamily::kLlama4:
      return &kLlama4;
    case ChatFamily::kDots1:
      return &kDots1;
    case ChatFamily::kHunyuanMoe:
      return &kHunyuanMoe;
    case ChatFamily::kGptOss:
      return &kGptOss;
    case ChatFamily::kSeedOss:
      return &kSeedOss;
    default:
      return nullptr;
  }
}

}  // namespace

std::string_view chat_family_name(ChatFamily family) {
  for (const auto& entry : kFamilyNames) {
    if (entry.family == family) return entry.name;
  }
  return "unknown";
}

std::optional<ChatFamily> chat_family_from_name(std::string_view name) {
  for (const auto& entry : kFamilyNames) {
    if (entry.name == name) return entry.family;
  }
  return std::nullopt;
}

std::optional<ChatFamily> detect_chat_family(std::string_view tmpl) {
  using F = ChatFamily;
  if (auto named = chat_family_from_name(tmpl)) return named;
  auto has = [tmpl](std::string_view needle) {
    return tmpl.find(needle) != std::string_view::npos;
  };

  if (has("<|im_start|>")) {
    if (has("<|im_sep|>")) return F::kPhi4;
    if (has("<end_of_utterance>")) return F::kSmolVLM;  // <|im_start|> is its BOS, not ChatML
    return F::kChatML;
  }
  if (tmpl.starts_with("mistral") || has("[INST]")) {
    if (has("[SYSTEM_PROMPT]")) return F::kMistralV7;
    if (has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]")) {
      if (has(" [INST]")) return F::kMistralV1;
      if (has("\"[INST]\"")) return F::kMistralV3Tekken;
      return F::kMistralV3;
    }
    if (has("content.strip()")) return F::kLlama2SysStrip;
    if (has("bos_token + '[INST]")) return F::kLlama2SysBos;
    if (has("<<SYS>>")) return F::kLlama2Sys;
    return F::kLlama2;
  }
  if (has("<|assistant|>") && has("<|end|>")) return F::kPhi3;
  if (has("[gMASK]<sop>")) return F::kChatGLM4;
  if (has("<|assistant|>") && has("<|user|>")) return has("</s>") ? F::kFalcon3 : F::kGLMEdge;
  if (has("<|{{ item['role'] }}|>") && has("<|begin_of_image|>")) return F::kGLMEdge;
  if (has("<|user|>") && has("<|endoftext|>")) return F::kZephyr;
  if (has("bos_token + message['role']")) return F::kMonarch;
  if (has("<start_of_turn>")) return F::kGemma;
  if (has("'\\n\\nAssistant: ' + eos_token")) return F::kOrion;
  if (has("GPT4 Correct ")) return F::kOpenChat;
  if (has("USER: ") && has("ASSISTANT: ")) return has("SYSTEM: ") ? F::kVicunaOrca : F::kVicuna;
  if (has("### Instruction:") && has("<|EOT|>")) return F::kDeepSeek;
  if (has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>")) return F::kCommandR;
  if (has("<|start_header_id|>") && has("<|end_header_id|>")) return F::kLlama3;
  if (has("[gMASK]sop")) return F::kChatGLM3;
  if (has("<用户>")) return F::kMiniCPM;
  if (has("'Assistant: ' + message['content'] + eos_token")) return F::kDeepSeek2;
  if (has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>")) {
    return F::kDeepSeek3;
  }
  if (has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]")) {
    return has("[|tool|]") ? F::kExaone4 : F::kExaone3;
  }
  if (has("rwkv-world") || has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}")) {
    return F::kRwkvWorld;
  }
  if (has("<|start_of_role|>")) return F::kGranite;
  if (has("message['role'] + additional_special_tokens[0] + message['content'] + "
          "additional_special_tokens[1]")) {
    return F::kGigaChat;
  }
  if (has("<|role_start|>")) return F::kMegrez;
  if (has(" Ассистент:")) return F::kYandex;
  if (has("<role>ASSISTANT</role>") && has("'HUMAN'")) return F::kBailing;
  if (has("<|header_start|>") && has("<|header_end|>")) return F::kLlama4;
  if (has("<|endofuserprompt|>")) return F::kDots1;
  if (has("<|extra_0|>") && has("<|extra_4|>")) return F::kHunyuanMoe;
  if (has("<|start|>") && has("<|channel|>")) return F::kGptOss;
  if (has("<｜hy_Assistant｜>") && has("<｜hy_place▁holder▁no▁3｜>")) return F::kHunyuanDense;
  if (has("<|im_assistant|>assistant<|im_middle|>")) return F::kKimiK2;
  if (has("<seed:bos>")) return F::kSeedOss;
  return std::nullopt;
}

bool chat_family_supported(ChatFamily family) {
  return family != ChatFamily::kHunyuanDense && family != ChatFamily::kKimiK2;
}

std::string format_chat(ChatFamily family, std::span<const ChatMessage> messages,
                        bool add_generation_prompt) {
  if (const TurnTable* table = turn_table(family)) {
    return format_table(*table, messages, add_generation_prompt);
  }
  switch (family) {
    case ChatFamily::kMistralV1:
    case ChatFamily::kMistralV3:
    case ChatFamily::kMistralV3Tekken:
      return format_mistral(family, messages);
    case ChatFamily::kLlama2:
    case ChatFamily::kLlama2Sys:
    case ChatFamily::kLlama2SysBos:
    case ChatFamily::kLlama2SysStrip:
      return format_llama2(family, messages);
    case ChatFamily::kMonarch:
      return format_monarch(messages, add_generation_prompt);
    case ChatFamily::kGemma:
      return format_gemma(messages, add_generation_prompt);
    case ChatFamily::kOrion:
      return format_orion(messages);
    case ChatFamily::kRwkvWorld:
      return format_rwkv(messages);
    case ChatFamily::kGigaChat:
      return format_gigachat(messages, add_generation_prompt);
    case ChatFamily::kYandex:
      return format_yandex(messages, add_generation_prompt);
    default:
      fail(
          "the '{}' chat format is recognised but not supported; run without --chat and write "
          "the prompt in the model's format",
          chat_family_name(family));
  }
}

std::string format_chat_prompt(const gguf::GgufFile& file, std::string_view user,
                               std::string_view system) {
  const std::optional<std::string> tmpl = file.get_string("tokenizer.chat_template");
  if (!tmpl || tmpl->empty()) {
    fail("{} has no chat template (tokenizer.chat_template); run without --chat",
         file.path().string());
  }
  const std::optional<ChatFamily> family = detect_chat_family(*tmpl);
  if (!family) {
    fail(
        "{}: the chat template is not one of the known families (ChatML, Llama 2/3, Mistral, "
        "Phi-3, Gemma, DeepSeek, gpt-oss, Granite, ...); run without --chat",
        file.path().string());
  }
  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", std::string(system)});
  messages.push_back({"user", std::string(user)});
  return format_chat(*family, messages, true);
}

}  // namespace moescope
