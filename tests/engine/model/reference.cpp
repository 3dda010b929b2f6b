#include "tests/engine/model/reference.h"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace moescope::test {
namespace {

std::vector<float> read_f32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<size_t>(in.tellg());
  in.seekg(0);
  std::vector<float> out(bytes / sizeof(float));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(bytes));
  return out;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

}  // namespace

std::filesystem::path reference_dir() {
  return std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference";
}

std::filesystem::path model_path(const std::string& model) {
  return reference_dir() / "models" / (model + ".gguf");
}

ReferenceRun read_reference(const std::string& model, const std::string& sub) {
  const auto base = reference_dir() / "logits" / model;
  const auto dir = sub.empty() ? base : base / sub;
  ReferenceRun run;
  const auto tokens_path =
      std::filesystem::exists(dir / "tokens.json") ? dir / "tokens.json" : base / "tokens.json";
  const nlohmann::json tokens = read_json(tokens_path);
  run.tokens = tokens.at("tokens").get<std::vector<int32_t>>();
  run.n_vocab = tokens.at("n_vocab").get<int64_t>();
  run.logits = read_f32(dir / "logits.f32");
  if (run.logits.size() != run.tokens.size() * static_cast<size_t>(run.n_vocab)) {
    throw std::runtime_error("logits size mismatch in " + dir.string());
  }
  const nlohmann::json routing = read_json(dir / "routing.json");
  for (const auto& [layer, positions] : routing.at("topk").items()) {
    run.routing[std::stoi(layer)] = positions.get<std::vector<std::vector<int>>>();
  }
  if (routing.contains("margin")) {
    for (const auto& [layer, values] : routing.at("margin").items()) {
      run.margin[std::stoi(layer)] = values.get<std::vector<double>>();
    }
  }
  return run;
}

void RoutingRecorder::on_routing(const MoeRoutingEvent& event) {
  auto& positions = routing[event.layer.value];
  if (static_cast<int>(positions.size()) <= event.pos.value) positions.resize(event.pos.value + 1);
  std::vector<int> experts;
  for (ExpertId e : event.experts) experts.push_back(e.value);
  positions[event.pos.value] = experts;
}

LogitStats compare_logits(const std::vector<float>& ours, const std::vector<float>& ref,
                          int64_t n_vocab) {
  LogitStats s;
  if (ours.size() != ref.size()) throw std::runtime_error("logit count mismatch");
  double sum = 0, sum2 = 0, abs_sum = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(static_cast<double>(ours[i]) - ref[i]);
    s.max_abs = std::max(s.max_abs, std::isnan(d) ? INFINITY : d);
    abs_sum += d;
    sum += ref[i];
    sum2 += static_cast<double>(ref[i]) * ref[i];
  }
  const double n = static_cast<double>(ref.size());
  s.mean_abs = abs_sum / n;
  s.ref_std = std::sqrt(std::max(0.0, sum2 / n - (sum / n) * (sum / n)));
  const size_t rows = ref.size() / n_vocab;
  size_t same = 0;
  for (size_t r = 0; r < rows; ++r) {
    size_t a = 0, b = 0;
    for (size_t i = 1; i < static_cast<size_t>(n_vocab); ++i) {
      if (ours[r * n_vocab + i] > ours[r * n_vocab + a]) a = i;
      if (ref[r * n_vocab + i] > ref[r * n_vocab + b]) b = i;
    }
    same += a == b;
  }
  s.argmax_agreement = static_cast<double>(same) / static_cast<double>(rows);
  return s;
}

}  // namespace moescope::test
