// `moescope pack MODEL --out FILE [--level N] [--verify]`: writes MODEL's routed experts as an
// expert pack (one zstd frame per expert) for offloading with --expert-pack FILE.
#include <QCommandLineParser>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/offload/byte_size.h"
#include "engine/offload/expert_pack.h"

namespace moescope::cli {

int run_pack(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Write the routed experts of MODEL as an expert pack: one zstd frame per expert, so that "
      "offloaded runs (--expert-pack FILE) read and decompress one expert per load.");
  parser.addHelpOption();
  const QCommandLineOption out_option({"o", "out"}, "The pack to write.", "FILE");
  const QCommandLineOption level_option("level", "zstd compression level (1-19, default 3).", "N",
                                        "3");
  const QCommandLineOption verify_option(
      "verify", "Read every expert back and compare it with the model file.");
  parser.addOptions({out_option, level_option, verify_option});
  parser.addPositionalArgument("MODEL", "The GGUF model.");
  if (auto code = parse_command_line(parser, args)) return *code;

  const QStringList positional = parser.positionalArguments();
  if (positional.size() != 1 || !parser.isSet(out_option)) {
    print_error("pack: give one MODEL and --out FILE");
    return kUsage;
  }
  bool level_ok = false;
  const int level = parser.value(level_option).toInt(&level_ok);
  if (!level_ok || level < 1 || level > 19) {
    print_error(QString("pack: --level must be 1 to 19, got '%1'").arg(parser.value(level_option)));
    return kUsage;
  }

  // Progress goes to a terminal only; a log gets the summary line.
  const bool show_progress = ::isatty(STDERR_FILENO) != 0;
  bool progress_shown = false;
  try {
    const auto t0 = std::chrono::steady_clock::now();
    ModelOptions options;
    options.n_threads = 1;
    options.n_ctx = 1;
    const auto model = Model::load(positional.front().toStdString(), options);
    const offload::ExpertLayout layout(model->file(), model->expert_tensors(),
                                       static_cast<int32_t>(model->hparams().n_expert_used));
    offload::PackOptions pack_options;
    pack_options.level = level;
    int last_percent = -1;
    if (show_progress) {
      pack_options.progress = [&](int64_t done, int64_t total) {
        const int percent = static_cast<int>(100 * done / total);
        if (percent != last_percent) {
          last_percent = percent;
          progress_shown = true;
          std::fprintf(stderr, "\rpacking experts: %3d %%", percent);
        }
      };
    }
    const std::string out = parser.value(out_option).toStdString();
    const offload::PackSummary s = offload::write_expert_pack(layout, out, pack_options);
    if (progress_shown) std::fputc('\n', stderr);
    progress_shown = false;
    if (parser.isSet(verify_option)) offload::verify_expert_pack(layout, out);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %lld experts, %s -> %s (%.1f %%), %s file, %.1f s%s\n", out.c_str(),
                static_cast<long long>(s.n_experts), offload::format_bytes(s.raw_bytes).c_str(),
                offload::format_bytes(s.stored_bytes).c_str(),
                s.raw_bytes ? 100.0 * double(s.stored_bytes) / double(s.raw_bytes) : 0.0,
                offload::format_bytes(s.file_bytes).c_str(), seconds,
                parser.isSet(verify_option) ? ", verified" : "");
    return kSuccess;
  } catch (const std::exception& e) {
    if (progress_shown) std::fputc('\n', stderr);
    print_error(QString("pack: %1").arg(QString::fromUtf8(e.what())));
    return kFailure;
  }
}

}  // namespace moescope::cli
