#include "engine/offload/expert_pack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <utility>

#include "engine/common/atomic_file.h"
#include "engine/common/error.h"
#include "engine/offload/expert_digest.h"

namespace moescope::offload {
namespace {

constexpr char kMagic[8] = {'M', 'O', 'E', 'S', 'P', 'A', 'C', 'K'};
// 2: the index holds the SHA-256 of the model's expert bytes.
constexpr uint32_t kVersion = 2;
constexpr uint64_t kHeaderBytes = 64;
constexpr uint64_t kMaxIndexBytes = uint64_t{1} << 30;
constexpr uint32_t kZstdMagic = 0xFD2FB528u;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t file_bytes;
  uint64_t index_offset;
  uint64_t index_stored;
  uint64_t index_raw;
  uint8_t reserved[16];
};
static_assert(sizeof(Header) == kHeaderBytes);

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// One checksummed zstd frame with its content size.
void compress_frame(ZSTD_CCtx* cctx, std::span<const std::byte> src, std::vector<std::byte>& dst,
                    const std::string& what) {
  dst.resize(ZSTD_compressBound(src.size()));
  const size_t n = ZSTD_compress2(cctx, dst.data(), dst.size(), src.data(), src.size());
  if (ZSTD_isError(n)) fail("{}: compression failed: {}", what, ZSTD_getErrorName(n));
  dst.resize(n);
}

// Checks that `frame` is exactly one checksummed zstd frame of `raw_bytes` content and
// decompresses it into out. `what` names the frame in messages.
void decompress_frame(ZSTD_DCtx* dctx, std::span<const std::byte> frame, std::span<std::byte> out,
                      uint64_t raw_bytes, const std::string& what) {
  uint32_t magic = 0;
  if (frame.size() >= 5) std::memcpy(&magic, frame.data(), 4);
  if (magic != kZstdMagic) fail("{} is not a zstd frame", what);
  // Frame_Header_Descriptor bit 2: Content_Checksum_flag (RFC 8878, 3.1.1.1.1).
  if ((std::to_integer<uint8_t>(frame[4]) & 0x04) == 0) fail("{} has no checksum", what);
  const size_t whole = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(whole) || whole != frame.size()) {
    fail("{} is not exactly one zstd frame", what);
  }
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != raw_bytes) {
    fail("{} holds {} bytes, expected {}", what,
         content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR ? 0 : content,
         raw_bytes);
  }
  const size_t n = ZSTD_decompressDCtx(dctx, out.data(), raw_bytes, frame.data(), frame.size());
  if (ZSTD_isError(n)) fail("{} is corrupt: {}", what, ZSTD_getErrorName(n));
  if (n != raw_bytes) fail("{} decompressed to {} bytes, expected {}", what, n, raw_bytes);
}

std::string expert_name(const ExpertLayout& layout, MoeLayerId moe_layer, int32_t expert) {
  return fmt::format("expert {} of block {}", expert, layout.block(moe_layer).value);
}

}  // namespace

PackSummary write_expert_pack(const ExpertLayout& layout, const std::filesystem::path& out,
                              const PackOptions& options) {
  const std::string what = out.string();
  AtomicFile file(out);  // a unique temporary beside `out`: two packs at once do not collide

  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!cctx) fail("{}: cannot create a zstd context", what);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, options.level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);

  {
    GgufExpertSource source(layout);
    ExpertDigest digest;
    PackIndex index;
    index.model_file_bytes = layout.file().file_size();
    index.layers = layout.records();
    index.frames.reserve(static_cast<size_t>(layout.total_experts()));

    PackSummary summary;
    std::vector<std::byte> raw(layout.max_packed_bytes());
    std::vector<std::byte> frame;
    uint64_t offset = kHeaderBytes;
    for (MoeLayerId m(0); m.value < layout.n_layers(); ++m.value) {
      const std::span<std::byte> image(raw.data(), layout.packed_bytes(m));
      for (int32_t e = 0; e < layout.n_expert(m); ++e) {
        source.read(m, e, image);
        digest.add(image);
        compress_frame(cctx.get(), image, frame, what);
        file.write_at(frame.data(), frame.size(), offset);
        index.frames.push_back({offset, frame.size()});
        offset += frame.size();
        summary.raw_bytes += image.size();
        summary.stored_bytes += frame.size();
        ++summary.n_experts;
        if (options.progress) options.progress(summary.n_experts, layout.total_experts());
      }
    }
    index.expert_sha256 = digest.finish();
    const std::vector<std::byte> index_raw = encode_pack_index(index);
    compress_frame(cctx.get(), index_raw, frame, what);
    file.write_at(frame.data(), frame.size(), offset);

    Header h{};
    std::memcpy(h.magic, kMagic, sizeof(kMagic));
    h.version = kVersion;
    h.header_bytes = kHeaderBytes;
    h.index_offset = offset;
    h.index_stored = frame.size();
    h.index_raw = index_raw.size();
    h.file_bytes = offset + frame.size();
    file.write_at(&h, sizeof(h), 0);
    file.commit();
    summary.file_bytes = h.file_bytes;
    return summary;
  }
}

std::unique_ptr<ExpertPack> ExpertPack::open(const std::filesystem::path& path,
                                             const ExpertLayout& layout) {
  const std::string what = path.string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail("{}: cannot open the expert pack: {}", what, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("{}: cannot stat: {}", what, std::strerror(errno));
  const auto size = static_cast<uint64_t>(st.st_size);
  if (!S_ISREG(st.st_mode)) fail("{}: not a regular file", what);
  if (size < kHeaderBytes) fail("{}: not an expert pack (only {} bytes)", what, size);

  Header h{};
  pread_exact(fd.get(), {reinterpret_cast<std::byte*>(&h), sizeof(h)}, 0, what);
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    fail("{}: not an expert pack (bad magic; write one with `moescope pack`)", what);
  }
  if (h.version != kVersion) {
    fail("{}: expert pack version {} is not supported (this build reads version {}); run "
         "moescope pack again",
         what, h.version, kVersion);
  }
  if (h.header_bytes != kHeaderBytes) fail("{}: bad header size {}", what, h.header_bytes);
  if (h.file_bytes != size) {
    fail(
        "{}: the pack is truncated or has trailing data (its header says {} bytes, the file has "
        "{})",
        what, h.file_bytes, size);
  }
  if (h.index_offset < kHeaderBytes || h.index_offset > size || h.index_stored == 0 ||
      h.index_stored > size - h.index_offset || h.index_raw == 0 || h.index_raw > kMaxIndexBytes ||
      h.index_stored > ZSTD_compressBound(h.index_raw)) {
    fail("{}: the header's index location is out of range", what);
  }

  std::vector<std::byte> stored(h.index_stored);
  pread_exact(fd.get(), stored, h.index_offset, what);
  std::vector<std::byte> raw(h.index_raw);
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) fail("{}: cannot create a zstd context", what);
  decompress_frame(dctx.get(), stored, raw, h.index_raw, what + ": the index");
  PackIndex index = decode_pack_index(raw, what);

  if (index.model_file_bytes != layout.file().file_size()) {
    fail(
        "{}: the pack was written for another model file ({} bytes; {} has {}); run moescope "
        "pack again",
        what, index.model_file_bytes, layout.file().path().string(), layout.file().file_size());
  }
  const std::string mismatch = describe_layout_mismatch(index.layers, layout.records());
  if (!mismatch.empty()) {
    fail("{}: the pack does not belong to {}: {}; run moescope pack again", what,
         layout.file().path().string(), mismatch);
  }
  // Same size and layout is not the same model: the experts' bytes must be the ones packed.
  if (index.expert_sha256 != digest_experts(layout)) {
    fail("{}: the expert bytes of {} changed since the pack was written; run moescope pack again",
         what, layout.file().path().string());
  }
  if (index.frames.size() != static_cast<size_t>(layout.total_experts())) {
    fail("{}: the index lists {} experts, the model has {}", what, index.frames.size(),
         layout.total_experts());
  }
  auto pack = std::unique_ptr<ExpertPack>(new ExpertPack());
  for (MoeLayerId m(0); m.value < layout.n_layers(); ++m.value) {
    const uint64_t bound = ZSTD_compressBound(layout.packed_bytes(m));
    for (int32_t e = 0; e < layout.n_expert(m); ++e) {
      const PackFrame& f = index.frames[static_cast<size_t>(layout.key_index({m, ExpertId(e)}))];
      if (f.offset < kHeaderBytes || f.offset > h.index_offset || f.bytes == 0 ||
          f.bytes > h.index_offset - f.offset || f.bytes > bound) {
        fail("{}: the frame of {} is out of range", what, expert_name(layout, m, e));
      }
      pack->stored_bytes_ += f.bytes;
    }
  }
  pack->path_ = path;
  pack->frames_ = std::move(index.frames);
  pack->fd_ = fd.release();
  return pack;
}

ExpertPack::~ExpertPack() {
  if (fd_ >= 0) ::close(fd_);
}

PackExpertSource::PackExpertSource(const ExpertLayout& layout, std::unique_ptr<ExpertPack> pack)
    : layout_(layout), pack_(std::move(pack)) {
  uint64_t max_frame = 0;
  for (int64_t k = 0; k < layout.total_experts(); ++k) {
    max_frame = std::max(max_frame, pack_->frame(k).bytes);
  }
  staging_.resize(max_frame);
  dctx_ = ZSTD_createDCtx();
  if (dctx_ == nullptr) fail("{}: cannot create a zstd context", pack_->path().string());
}

PackExpertSource::~PackExpertSource() {
  ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(dctx_));
}

uint64_t PackExpertSource::link_bytes(MoeLayerId moe_layer, int32_t expert) const {
  return pack_->frame(layout_.key_index({moe_layer, ExpertId(expert)})).bytes;
}

uint64_t PackExpertSource::fetch(MoeLayerId moe_layer, int32_t expert, std::span<std::byte>) {
  const PackFrame& f = pack_->frame(layout_.key_index({moe_layer, ExpertId(expert)}));
  pread_exact(pack_->fd(), {staging_.data(), f.bytes}, f.offset, pack_->path().string());
  return f.bytes;
}

int64_t PackExpertSource::decode(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) {
  const auto t0 = std::chrono::steady_clock::now();
  const PackFrame& f = pack_->frame(layout_.key_index({moe_layer, ExpertId(expert)}));
  const uint64_t raw = layout_.packed_bytes(moe_layer);
  if (out.size() < raw) fail("expert buffer of {} bytes is smaller than {}", out.size(), raw);
  decompress_frame(static_cast<ZSTD_DCtx*>(dctx_), {staging_.data(), f.bytes}, out, raw,
                   fmt::format("{}: the frame of {}", pack_->path().string(),
                               expert_name(layout_, moe_layer, expert)));
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

void verify_expert_pack(const ExpertLayout& layout, const std::filesystem::path& pack) {
  PackExpertSource packed(layout, ExpertPack::open(pack, layout));
  GgufExpertSource direct(layout);
  std::vector<std::byte> a(layout.max_packed_bytes()), b(layout.max_packed_bytes());
  for (MoeLayerId m(0); m.value < layout.n_layers(); ++m.value) {
    const uint64_t n = layout.packed_bytes(m);
    for (int32_t e = 0; e < layout.n_expert(m); ++e) {
      packed.read(m, e, {a.data(), n});
      direct.read(m, e, {b.data(), n});
      if (std::memcmp(a.data(), b.data(), n) != 0) {
        fail("{}: {} differs from the model file", pack.string(), expert_name(layout, m, e));
      }
    }
  }
}

}  // namespace moescope::offload
