#pragma once
// Per-sequence state of a model: the KV cache and how many positions it already holds.
#include <cstdint>
#include <vector>

namespace moescope {

// Floats stored per position and layer. v_width 0 means V is read from K's rows (MLA keeps one
// latent per position that serves as both).
struct KvLayout {
  std::vector<int64_t> k_width;  // [n_layer]
  std::vector<int64_t> v_width;  // [n_layer]
};

class InferenceState {
 public:
  InferenceState(KvLayout layout, int n_ctx);

  int n_past() const { return n_past_; }
  int n_ctx() const { return n_ctx_; }
  void clear() { n_past_ = 0; }
  // Forgets every position >= n_past (0 <= n_past <= this->n_past()).
  void truncate(int n_past);

  // Engine side. The cache is F32, one row of k_width (v_width) floats per position; buffers grow
  // on demand, so a short sequence only pays for what it uses.
  void reserve(int64_t n_positions);  // invalidates pointers from k()/v()
  float* k(int64_t il) { return k_[il].data(); }
  float* v(int64_t il) { return layout_.v_width[il] > 0 ? v_[il].data() : k_[il].data(); }
  int64_t k_width(int64_t il) const { return layout_.k_width[il]; }
  int64_t v_width(int64_t il) const {
    return layout_.v_width[il] > 0 ? layout_.v_width[il] : layout_.k_width[il];
  }
  void advance(int n) { n_past_ += n; }

 private:
  KvLayout layout_;
  int n_ctx_ = 0;
  int n_past_ = 0;
  int64_t capacity_ = 0;  // positions allocated
  std::vector<std::vector<float>> k_;
  std::vector<std::vector<float>> v_;
};

}  // namespace moescope
