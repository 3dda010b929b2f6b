#include "reference_data.h"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "engine/gguf/gguf_file.h"

namespace moescope::tokenizer::testing {

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<int32_t> parse_ids(const std::string& line) {
  std::vector<int32_t> ids;
  std::istringstream in(line);
  int32_t id;
  while (in >> id) ids.push_back(id);
  return ids;
}

}  // namespace

std::filesystem::path tokenizer_dir() {
  return std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference" / "tokenizer";
}

std::filesystem::path vocab_gguf(const std::string& name) {
  return tokenizer_dir() / name / ("ggml-vocab-" + name + ".gguf");
}

std::vector<ReferenceCase> load_reference_cases(const std::string& name) {
  const auto json = nlohmann::json::parse(read_file(tokenizer_dir() / (name + ".json")));
  std::vector<ReferenceCase> cases;
  for (const auto& entry : json) {
    cases.push_back(
        {entry.at("text").get<std::string>(), entry.at("ids_bos").get<std::vector<int32_t>>(),
         entry.at("ids_nobos").get<std::vector<int32_t>>(), entry.at("source").get<std::string>()});
  }
  return cases;
}

std::vector<InpOutCase> load_inp_out_cases(const std::string& name) {
  const auto base = tokenizer_dir() / name / ("ggml-vocab-" + name + ".gguf");
  const auto inp_path = std::filesystem::path(base.string() + ".inp");
  const auto out_path = std::filesystem::path(base.string() + ".out");
  if (!std::filesystem::exists(inp_path) || !std::filesystem::exists(out_path)) return {};

  // llama.cpp's format: each input followed by "\n__ggml_vocab_test__\n"; one output line each.
  const std::string inp = read_file(inp_path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t end = inp.find(separator, pos);
    if (end == std::string::npos) break;
    texts.push_back(inp.substr(pos, end - pos));
    pos = end + separator.size();
  }
  std::vector<std::string> lines;
  std::istringstream out(read_file(out_path));
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  if (lines.size() != texts.size()) {
    throw std::runtime_error(name + ": .inp has " + std::to_string(texts.size()) +
                             " inputs but .out has " + std::to_string(lines.size()) + " lines");
  }
  std::vector<InpOutCase> cases;
  for (size_t i = 0; i < texts.size(); ++i) cases.push_back({texts[i], parse_ids(lines[i])});
  return cases;
}

const Tokenizer& tokenizer_for(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[name];
  if (!slot) slot = Tokenizer::from_gguf(gguf::GgufFile::open(vocab_gguf(name)));
  return *slot;
}

}  // namespace moescope::tokenizer::testing
