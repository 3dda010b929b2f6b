#include "storage/session/workload_file.h"

#include <nlohmann/json.hpp>

#include <string_view>

#include "engine/common/error.h"

namespace moescope::storage {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    begin = end + 1;
  }
  return lines;
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

std::string json_prompt(std::string_view line, const std::string& where) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not a JSON object ({})", where, e.what());
  }
  if (!doc.is_object()) fail("{}: not a JSON object", where);
  const auto prompt = doc.find("prompt");
  if (prompt == doc.end() || !prompt->is_string()) fail("{}: no string \"prompt\"", where);
  return prompt->get<std::string>();
}

}  // namespace

std::vector<WorkloadPrompt> parse_workload(const std::string& text, const std::string& file) {
  const std::vector<std::string_view> lines = split_lines(text);
  bool jsonl = false;
  for (std::string_view line : lines) {
    if (blank(line)) continue;
    jsonl = line.substr(line.find_first_not_of(" \t"), 1) == "{";
    break;
  }
  std::vector<WorkloadPrompt> prompts;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i + 1);
    const std::string where = file + ":" + std::to_string(number);
    if (jsonl && blank(lines[i])) continue;  // blank lines between JSON objects
    std::string prompt = jsonl ? json_prompt(lines[i], where) : std::string(lines[i]);
    if (prompt.empty()) fail("{}: empty prompt", where);
    prompts.push_back({number, std::move(prompt)});
  }
  if (prompts.empty()) fail("{}: no prompts", file);
  return prompts;
}

}  // namespace moescope::storage
