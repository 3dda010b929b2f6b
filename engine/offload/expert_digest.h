#pragma once
// The content of a model's routed experts as one SHA-256: what binds an expert pack to the bytes
// it was cut from. A pack whose model was rewritten with the same layout (re-quantized, edited,
// fine-tuned) would otherwise be used silently with stale experts.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace moescope::offload {

class ExpertLayout;

using Digest = std::array<uint8_t, 32>;

// SHA-256 over the experts' packed images in layout order (layer-major, expert-minor), fed in as
// the pack writer reads them.
class ExpertDigest {
 public:
  ExpertDigest();
  ~ExpertDigest();
  ExpertDigest(const ExpertDigest&) = delete;
  ExpertDigest& operator=(const ExpertDigest&) = delete;

  void add(std::span<const std::byte> expert_image);
  Digest finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Reads every routed expert of the layout's model file (pread, no mapping kept) and digests it.
Digest digest_experts(const ExpertLayout& layout);

}  // namespace moescope::offload
