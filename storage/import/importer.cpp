#include "storage/import/importer.h"

#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "storage/import/llama_csv.h"
#include "storage/import/routed_experts.h"
#include "storage/import/sglang_dump.h"
#include "storage/row_keys.h"
#include "storage/run_info.h"
#include "storage/trace_writer.h"

namespace moescope::storage::import {
namespace {

constexpr int32_t kMaxExpertId = 65535;  // trace rows store ids in 16 bits

// Pass 1: the shape of the file's routing, and every id checked.
class ShapeScan : public RoutingVisitor {
 public:
  explicit ShapeScan(const std::string& file) : file_(file) {}

  void request(const ImportedRequest& q) override {
    if (q.id < 0) fail("{}: request id {} is negative", file_, q.id);
    ++requests_;
  }
  void token(const ImportedToken& t) override {
    if (t.n_layers < 1 || t.k < 1 || t.experts.size() != size_t(t.n_layers) * size_t(t.k))
      fail("{}: {}: the routing has {} ids, not layers x top-k", file_, t.where, t.experts.size());
    if (t.n_layers > 4096) fail("{}: {} has {} layers", file_, t.where, t.n_layers);
    // A token that ran through fewer layers (a llama.cpp call cut short) selects none at the rest.
    if (t.n_layers > n_layers_) {
      n_layers_ = t.n_layers;
      moe_.resize(size_t(n_layers_), 0);
      most_.resize(size_t(n_layers_), 0);
    }
    for (int32_t l = 0; l < t.n_layers; ++l) {
      const auto row = t.experts.subspan(size_t(l) * size_t(t.k), size_t(t.k));
      int32_t n = 0;
      for (size_t i = 0; i < row.size(); ++i) {
        const int32_t e = row[i];
        if (e == -1) continue;
        if (e < -1 || e > kMaxExpertId)
          fail("{}: {} selects expert {} at layer {}", file_, t.where, e, l);
        for (size_t j = 0; j < i; ++j) {
          if (row[j] == e) fail("{}: {} selects expert {} twice at layer {}", file_, t.where, e, l);
        }
        max_expert_ = std::max(max_expert_, e);
        ++n;
      }
      if (n > 0) moe_[size_t(l)] = 1;
      most_[size_t(l)] = std::max(most_[size_t(l)], n);
    }
    ++tokens_;
    if (tokens_ > kMaxPositions) fail("{}: more than {} tokens", file_, kMaxPositions);
    steps_ += (t.step != last_step_ || tokens_ == 1) ? 1 : 0;
    last_step_ = t.step;
  }

  std::string file_;
  int32_t n_layers_ = 0, max_expert_ = -1, last_step_ = -1;
  int32_t requests_ = 0;
  int64_t tokens_ = 0, steps_ = 0;
  std::vector<uint8_t> moe_;   // [layer] any expert selected
  std::vector<int32_t> most_;  // [layer] most experts a token selected
};

// The MoE layers of the file with the caller's flags applied.
policy::MoeShape shape_of(const ShapeScan& scan, const ImportOptions& o, const std::string& file) {
  if (scan.tokens_ == 0) fail("{} holds no routed tokens", file);
  if (o.layers > 0 && o.layers != scan.n_layers_)
    fail("{} has {} layers, not {} (--layers)", file, scan.n_layers_, o.layers);
  policy::MoeShape s;
  const int32_t experts = o.experts > 0 ? o.experts : scan.max_expert_ + 1;
  if (scan.max_expert_ >= experts)
    fail("{} selects expert {}, but --experts says {} experts", file, scan.max_expert_, experts);
  for (int32_t l = 0; l < scan.n_layers_; ++l) {
    if (!scan.moe_[size_t(l)]) continue;  // a dense layer (-1 everywhere)
    const int32_t k = o.topk > 0 ? o.topk : scan.most_[size_t(l)];
    if (scan.most_[size_t(l)] > k)
      fail("{} selects {} experts at layer {}, more than --topk {}", file, scan.most_[size_t(l)], l,
           k);
    if (k > experts) fail("{}: top-k {} is more than the {} experts", file, k, experts);
    s.n_experts.push_back(experts);
    s.top_k.push_back(k);
    s.expert_bytes.push_back(o.expert_bytes);
    s.model_layer.push_back(l);
  }
  if (s.n_experts.empty()) fail("{} selects no expert at any layer", file);
  if (s.n_layers() > kMaxLayers) fail("{} has {} MoE layers, more than a trace holds", file, s.n_layers());
  s.validate();
  return s;
}

RunInfo run_info_for(const ImportOptions& o, const std::string& format, const policy::MoeShape& s,
                     int32_t source_layers, bool counts_only) {
  RunInfo info;
  info.label = o.label;
  if (info.label.empty()) info.label = std::string("imported ").append(o.in.filename().string());
  info.model.architecture = "imported";
  info.model.name = o.in.filename().string();
  info.model.quantization = "{}";
  info.model.n_model_layers = source_layers;
  info.model.gating = "softmax";
  info.model.shape = s;
  info.source.format = format;
  info.source.path = std::filesystem::absolute(o.in).lexically_normal().string();
  info.source.sha256 = sha256_file(o.in);
  info.source.bytes = uint64_t(std::filesystem::file_size(o.in));
  info.routing_detail = counts_only ? RoutingDetail::kCounts : RoutingDetail::kTokens;
  nlohmann::json settings = {
      {"import",
       {{"format", format},
        {"layers_flag", o.layers},
        {"experts_flag", o.experts},
        {"topk_flag", o.topk},
        {"expert_bytes", o.expert_bytes},
        {"source_layers", source_layers},
        {"moe_layers", s.model_layer},
        {"experts", s.n_experts.front()},
        {"top_k", s.top_k}}}};
  info.settings_json = settings.dump();
  return info;
}

// Pass 2: tokens into the writer, one forward record per step (split every kBatch tokens).
class TraceFiller : public RoutingVisitor {
 public:
  static constexpr int32_t kBatch = 2048;

  TraceFiller(TraceWriter& writer, const policy::MoeShape& shape, const ImportOptions& o)
      : writer_(writer), shape_(shape), options_(o) {
    for (int32_t k : shape.top_k) k_max_ = std::max(k_max_, k);
  }
  void request(const ImportedRequest& q) override {
    writer_.request({q.id, q.has_prompt, q.prompt, q.source_json, 0});
    ++requests_;
  }
  void token(const ImportedToken& t) override {
    if (!rec_.count.empty() && (t.step != rec_.step || t.phase != rec_.phase ||
                                rec_.n_tokens >= kBatch)) {
      flush();
    }
    if (rec_.n_tokens == 0) {
      rec_.first_pos = int32_t(tokens_);
      rec_.phase = t.phase;
      rec_.step = t.step;
      rec_.n_layers = shape_.n_layers();
      rec_.k_max = k_max_;
      rec_.weights_recorded = false;
    }
    const int32_t L = shape_.n_layers();
    for (int32_t l = 0; l < L; ++l) {
      const auto ml = size_t(shape_.model_layer[size_t(l)]);
      const auto row = ml < size_t(t.n_layers) ? t.experts.subspan(ml * size_t(t.k), size_t(t.k))
                                               : std::span<const int32_t>();
      int32_t n = 0;
      for (int32_t e : row) {
        if (e < 0) continue;
        rec_.experts.push_back(ExpertId(e));
        ++n;
      }
      // No router weights in any of these formats: equal weights, no logits.
      for (int32_t i = 0; i < n; ++i) rec_.weights.push_back(1.0f / float(n));
      rec_.logits.insert(rec_.logits.end(), size_t(n), 0.0f);
      for (int32_t i = n; i < k_max_; ++i) {
        rec_.experts.push_back(ExpertId(0));
        rec_.weights.push_back(0.0f);
        rec_.logits.push_back(0.0f);
      }
      rec_.count.push_back(uint8_t(n));
    }
    if (t.token_id >= 0) writer_.token(int32_t(tokens_), t.token_id, "");
    rec_.requests.push_back(t.request);
    ++rec_.n_tokens;
    ++tokens_;
    if (rec_.step != last_step_) ++steps_;
    last_step_ = rec_.step;
    if (options_.progress && tokens_ % 65536 == 0) options_.progress(tokens_);
  }
  void flush() {
    if (rec_.n_tokens == 0) return;
    writer_.forward(std::move(rec_));
    rec_ = ForwardRecord{};
  }

  int64_t tokens_ = 0, steps_ = 0;
  int32_t requests_ = 0;

 private:
  TraceWriter& writer_;
  const policy::MoeShape& shape_;
  const ImportOptions& options_;
  int32_t k_max_ = 1, last_step_ = -1;
  ForwardRecord rec_;
};

// The writer of an import runs at normal priority: the recording's niceness keeps the writer out
// of a forward pass's way, but an import has none, and its parser waits for the writer's queue
// (on a busy machine a niced writer made a 1 M-token import 40x slower than its CPU time).
WriterOptions import_writer_options() {
  WriterOptions w;
  w.writer_nice = 0;
  return w;
}

ImportResult import_counts(const ImportOptions& o, SglangStatDump& stat) {
  const std::string file = o.in.string();
  // Layers that ever counted a token are MoE layers.
  std::vector<uint8_t> moe(size_t(stat.n_layers), 0);
  for (int64_t s = 0; s < stat.n_steps; ++s)
    for (int32_t l = 0; l < stat.n_layers; ++l)
      for (int32_t e = 0; e < stat.n_experts; ++e)
        if (stat.count(s, l, e) > 0) moe[size_t(l)] = 1;
  if (o.layers > 0 && o.layers != stat.n_layers)
    fail("{} has {} layers, not {} (--layers)", file, stat.n_layers, o.layers);
  if (o.experts > 0 && o.experts != stat.n_experts)
    fail("{} counts {} experts, not {} (--experts)", file, stat.n_experts, o.experts);
  if (o.topk <= 0)
    fail("{} is an SGLang stat-mode dump, which does not record top-k: give --topk", file);
  policy::MoeShape s;
  for (int32_t l = 0; l < stat.n_layers; ++l) {
    if (!moe[size_t(l)]) continue;
    s.n_experts.push_back(stat.n_experts);
    s.top_k.push_back(std::min(o.topk, stat.n_experts));
    s.expert_bytes.push_back(o.expert_bytes);
    s.model_layer.push_back(l);
  }
  if (s.n_experts.empty()) fail("{} counts no routed token at any layer", file);
  s.validate();
  ImportResult result;
  result.source_format = "sglang-pt-stat";
  result.shape = s;
  result.source_layers = stat.n_layers;
  result.counts_only = true;
  TraceWriter writer(o.trace, import_writer_options());
  result.run = writer.begin_run(run_info_for(o, result.source_format, s, stat.n_layers, true));
  for (int64_t step = 0; step < stat.n_steps; ++step) {
    StepExpertCounts c;
    c.step = int32_t(step);
    c.counts.reserve(size_t(s.total_experts()));
    for (int32_t l : s.model_layer)
      for (int32_t e = 0; e < stat.n_experts; ++e) c.counts.push_back(stat.count(step, l, e));
    writer.step_expert_counts(std::move(c));
  }
  result.steps = stat.n_steps;
  writer.finish_run(nlohmann::json{{"imported_steps", stat.n_steps}}.dump());
  return result;
}

}  // namespace

ImportFormat import_format_from_name(std::string_view name) {
  if (name == "sglang-pt") return ImportFormat::kSglangPt;
  if (name == "routed-experts") return ImportFormat::kRoutedExperts;
  if (name == "llama-csv") return ImportFormat::kLlamaCsv;
  fail("unknown import format '{}' (expected sglang-pt, routed-experts or llama-csv)", name);
}

ImportResult import_routing(const ImportOptions& o) {
  const std::string file = o.in.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.in, ec))
    fail("{} is not a regular file", file);
  std::unique_ptr<RoutingFile> source;
  switch (o.format) {
    case ImportFormat::kRoutedExperts:
      source = open_routed_experts(o.in, o.layers, o.topk);
      break;
    case ImportFormat::kLlamaCsv:
      source = open_llama_csv(o.in, o.topk);
      break;
    case ImportFormat::kSglangPt: {
      SglangDump dump = open_sglang_dump(o.in);
      if (dump.stat) return import_counts(o, *dump.stat);
      source = std::move(dump.per_token);
      break;
    }
  }
  ShapeScan scan(file);
  source->read(scan);
  ImportResult result;
  result.shape = shape_of(scan, o, file);
  result.source_format = source->format();
  result.source_layers = scan.n_layers_;

  TraceWriter writer(o.trace, import_writer_options());
  result.run =
      writer.begin_run(run_info_for(o, result.source_format, result.shape, scan.n_layers_, false));
  TraceFiller filler(writer, result.shape, o);
  source->read(filler);
  filler.flush();
  if (filler.tokens_ != scan.tokens_)
    fail("{} changed while it was imported ({} tokens, then {})", file, scan.tokens_,
         filler.tokens_);
  result.tokens = filler.tokens_;
  result.requests = filler.requests_;
  result.steps = filler.steps_;
  writer.finish_run(nlohmann::json{{"imported_tokens", result.tokens},
                                   {"imported_requests", result.requests}}
                        .dump());
  return result;
}

}  // namespace moescope::storage::import
