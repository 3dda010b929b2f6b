#include "engine/model/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/common/error.h"

namespace moescope {

void SamplingParams::validate() const {
  if (!std::isfinite(temperature)) fail("temperature must be a finite number, got {}", temperature);
  if (!(top_p >= 0.0f && top_p <= 1.0f)) fail("top-p must be between 0 and 1, got {}", top_p);
  if (!(min_p >= 0.0f && min_p <= 1.0f)) fail("min-p must be between 0 and 1, got {}", min_p);
  if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) {
    fail("repeat penalty must be a positive number, got {}", repeat_penalty);
  }
  if (repeat_last_n < -1)
    fail("repeat-last-n must be -1 (all), 0 (off) or more, got {}", repeat_last_n);
}

namespace {

// One multiplier per distinct token: llama.cpp penalises a token once however often it recurs.
std::vector<int32_t> distinct(std::span<const int32_t> tokens) {
  std::vector<int32_t> out(tokens.begin(), tokens.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

float penalised(float logit, float penalty) {
  return logit <= 0.0f ? logit * penalty : logit / penalty;
}

}  // namespace

Candidates Candidates::from_logits(std::span<const float> logits) {
  Candidates c;
  c.items.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    c.items[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
  }
  return c;
}

namespace sampling {
namespace {

bool by_logit_desc(const TokenCandidate& a, const TokenCandidate& b) {
  // Ties broken by id so that the order, and hence every result, is deterministic.
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void sort_desc(Candidates& c) {
  if (c.sorted) return;
  std::sort(c.items.begin(), c.items.end(), by_logit_desc);
  c.sorted = true;
}

}  // namespace

void apply_repetition_penalty(Candidates& c, std::span<const int32_t> recent, float penalty) {
  if (penalty == 1.0f || recent.empty()) return;
  if (c.sorted) fail("internal: repetition penalty needs the unsorted candidate set");
  for (int32_t id : distinct(recent)) {
    if (id < 0 || static_cast<size_t>(id) >= c.items.size()) continue;
    c.items[id].logit = penalised(c.items[id].logit, penalty);
  }
}

void top_k(Candidates& c, int k) {
  if (k <= 0) return;
  const size_t keep = std::min(static_cast<size_t>(k), c.items.size());
  if (!c.sorted) {
    std::partial_sort(c.items.begin(), c.items.begin() + keep, c.items.end(), by_logit_desc);
    c.sorted = true;
  }
  c.items.resize(keep);
}

void softmax(Candidates& c) {
  if (c.items.empty()) return;
  sort_desc(c);
  const float max_logit = c.items.front().logit;
  double sum = 0.0;
  for (auto& t : c.items) {
    t.p = std::exp(t.logit - max_logit);
    sum += t.p;
  }
  for (auto& t : c.items) t.p = static_cast<float>(t.p / sum);
}

void top_p(Candidates& c, float p, size_t min_keep) {
  if (p >= 1.0f || c.items.empty()) return;
  softmax(c);
  double cumulative = 0.0;
  size_t keep = c.items.size();
  for (size_t i = 0; i < c.items.size(); ++i) {
    cumulative += c.items[i].p;
    if (cumulative >= p && i + 1 >= min_keep) {
      keep = i + 1;
      break;
    }
  }
  c.items.resize(keep);
}

void min_p(Candidates& c, float p, size_t min_keep) {
  if (p <= 0.0f || c.items.empty()) return;
  sort_desc(c);
  // p_i >= p * p_max  <=>  logit_i >= logit_max + log(p): no softmax needed.
  const float threshold = c.items.front().logit + std::log(p);
  size_t keep = 0;
  while (keep < c.items.size() && c.items[keep].logit >= threshold) ++keep;
  c.items.resize(std::min(c.items.size(), std::max(keep, min_keep)));
}

void apply_temperature(Candidates& c, float t) {
  if (c.items.empty()) return;
  if (t <= 0.0f) {
    sort_desc(c);
    c.items.resize(1);
    return;
  }
  for (auto& item : c.items) item.logit /= t;
}

int32_t draw(Candidates& c, double u) {
  if (c.items.empty()) fail("internal: no candidate token left to sample");
  softmax(c);
  double cumulative = 0.0;
  for (const auto& item : c.items) {
    cumulative += item.p;
    if (u < cumulative) return item.id;
  }
  return c.items.back().id;  // u within rounding of 1
}

}  // namespace sampling

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  params_.validate();
}

void Sampler::accept(int32_t token) {
  if (params_.repeat_last_n == 0) return;
  history_.push_back(token);
  if (params_.repeat_last_n > 0 && history_.size() > static_cast<size_t>(params_.repeat_last_n)) {
    history_.pop_front();
  }
}

void Sampler::accept(std::span<const int32_t> tokens) {
  for (int32_t t : tokens) accept(t);
}

void Sampler::reset() {
  history_.clear();
  rng_.seed(params_.seed);
}

double Sampler::uniform_unit() {
  // The 53 high bits of one 64-bit draw, scaled to [0, 1): exactly representable in a double.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

std::vector<int32_t> Sampler::recent_tokens() const {
  return std::vector<int32_t>(history_.begin(), history_.end());
}

int32_t Sampler::greedy_pick(std::span<const float> logits) {
  std::vector<int32_t> penalised_ids;
  if (params_.repeat_penalty != 1.0f) penalised_ids = distinct(recent_tokens());
  int32_t best = 0;
  float best_logit = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    float logit = logits[i];
    if (!penalised_ids.empty() &&
        std::binary_search(penalised_ids.begin(), penalised_ids.end(), static_cast<int32_t>(i))) {
      logit = penalised(logit, params_.repeat_penalty);
    }
    if (logit > best_logit) {
      best_logit = logit;
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (logits.empty()) fail("internal: cannot sample from an empty row of logits");
  if (params_.greedy()) return greedy_pick(logits);
  Candidates c = Candidates::from_logits(logits);
  sampling::apply_repetition_penalty(c, recent_tokens(), params_.repeat_penalty);
  sampling::top_k(c, params_.top_k);
  sampling::top_p(c, params_.top_p);
  sampling::min_p(c, params_.min_p);
  sampling::apply_temperature(c, params_.temperature);
  return sampling::draw(c, uniform_unit());
}

}  // namespace moescope
