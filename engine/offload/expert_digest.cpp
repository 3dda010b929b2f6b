#include "engine/offload/expert_digest.h"

#include <openssl/evp.h>

#include <vector>

#include "engine/common/error.h"
#include "engine/offload/expert_layout.h"
#include "engine/offload/expert_source.h"

namespace moescope::offload {

ExpertDigest::ExpertDigest() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1) {
    fail("cannot start a SHA-256 digest");
  }
}

ExpertDigest::~ExpertDigest() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void ExpertDigest::add(std::span<const std::byte> expert_image) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), expert_image.data(),
                       expert_image.size()) != 1) {
    fail("SHA-256 digest failed");
  }
}

Digest ExpertDigest::finish() {
  Digest d{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &n) != 1 || n != d.size()) {
    fail("SHA-256 digest failed");
  }
  return d;
}

Digest digest_experts(const ExpertLayout& layout) {
  GgufExpertSource source(layout);
  ExpertDigest digest;
  std::vector<std::byte> raw(layout.max_packed_bytes());
  for (MoeLayerId m(0); m.value < layout.n_layers(); ++m.value) {
    const std::span<std::byte> image(raw.data(), layout.packed_bytes(m));
    for (int32_t e = 0; e < layout.n_expert(m); ++e) {
      source.read(m, e, image);
      digest.add(image);
    }
  }
  return digest.finish();
}

}  // namespace moescope::offload
