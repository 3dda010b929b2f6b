// moescope inspect [MODEL] [--json]
#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "engine/common/error.h"
#include "engine/model/model_summary.h"
#include "engine/offload/offload_config.h"

namespace moescope::cli {
namespace {

QString human_count(uint64_t n) {
  if (n >= 1'000'000'000) return QString("%1 B").arg(n / 1e9, 0, 'f', 2);
  if (n >= 1'000'000) return QString("%1 M").arg(n / 1e6, 0, 'f', 2);
  if (n >= 1'000) return QString("%1 K").arg(n / 1e3, 0, 'f', 2);
  return QString::number(n);
}

QString join_ints(const std::vector<int>& values) {
  QStringList parts;
  for (int v : values) parts << QString::number(v);
  return parts.isEmpty() ? QString("none") : parts.join(", ");
}

QJsonObject to_json(const ModelSummary& s, const QString& path) {
  QJsonObject o;
  o["path"] = path;
  o["architecture"] = QString::fromStdString(s.architecture);
  o["name"] = QString::fromStdString(s.name);
  o["supported"] = s.supported;
  if (!s.supported) o["problem"] = QString::fromStdString(s.problem);
  o["n_layer"] = qint64(s.n_layer);
  o["n_head"] = qint64(s.n_head);
  o["n_head_kv"] = qint64(s.n_head_kv);
  o["n_embd"] = qint64(s.n_embd);
  o["n_ctx_train"] = qint64(s.n_ctx_train);
  o["n_expert"] = qint64(s.n_expert);
  o["n_expert_used"] = qint64(s.n_expert_used);
  o["n_expert_shared"] = qint64(s.n_expert_shared);
  QJsonArray dense;
  for (int l : s.dense_layers) dense.append(l);
  o["dense_layers"] = dense;
  o["n_vocab"] = qint64(s.n_vocab);
  o["tokenizer"] = QString::fromStdString(s.tokenizer_model);
  o["n_params"] = qint64(s.n_params);
  o["n_params_active"] = qint64(s.n_params_active);
  o["n_params_expert"] = qint64(s.n_params_expert);
  o["file_bytes"] = qint64(s.file_bytes);
  o["expert_bytes"] = qint64(s.expert_bytes);
  QJsonArray layers;
  for (const auto& l : s.expert_bytes_per_layer) {
    layers.append(QJsonObject{{"layer", l.layer},
                              {"n_expert", qint64(l.n_expert)},
                              {"bytes_per_expert", qint64(l.bytes_per_expert)}});
  }
  o["expert_bytes_per_layer"] = layers;
  QJsonObject types;
  for (const auto& [name, use] : s.type_histogram) {
    types[QString::fromStdString(name)] =
        QJsonObject{{"tensors", qint64(use.tensors)}, {"bytes", qint64(use.bytes)}};
  }
  o["tensor_types"] = types;
  return o;
}

void print_text(const ModelSummary& s, const QString& path) {
  QStringList out;
  auto row = [&out](const QString& key, const QString& value) {
    out << QString("%1 %2").arg(key + ":", -22).arg(value);
  };
  row("model", path);
  row("architecture",
      QString::fromStdString(s.architecture) +
          (s.name.empty() ? QString() : QString(" (%1)").arg(QString::fromStdString(s.name))));
  row("inference", s.supported ? QString("supported")
                               : QString("not supported: %1").arg(QString::fromStdString(s.problem)));
  row("layers", QString::number(s.n_layer));
  row("heads (q/kv)", QString("%1/%2").arg(s.n_head).arg(s.n_head_kv));
  row("embedding size", QString::number(s.n_embd));
  row("training context", QString::number(s.n_ctx_train));
  row("experts per layer", s.n_expert > 0
                               ? QString("%1, top-%2").arg(s.n_expert).arg(s.n_expert_used)
                               : QString("none (not a mixture-of-experts model)"));
  row("shared experts", QString::number(s.n_expert_shared));
  row("dense layers", join_ints(s.dense_layers));
  row("vocabulary",
      QString("%1 (%2)").arg(s.n_vocab).arg(QString::fromStdString(s.tokenizer_model)));
  if (s.n_params == 0) row("tensors", "none (vocabulary-only file)");
  row("parameters", QString("%1 total, %2 active per token")
                        .arg(human_count(s.n_params), human_count(s.n_params_active)));
  row("file size", QString::fromStdString(offload::format_bytes(s.file_bytes)));
  row("routed expert bytes",
      QString("%1 (%2 % of the file)")
          .arg(QString::fromStdString(offload::format_bytes(s.expert_bytes)))
          .arg(s.file_bytes ? 100.0 * s.expert_bytes / s.file_bytes : 0.0, 0, 'f', 1));
  out << "bytes per expert:";
  for (const auto& l : s.expert_bytes_per_layer) {
    out << QString("  layer %1: %2 experts x %3")
               .arg(l.layer, 3)
               .arg(l.n_expert)
               .arg(QString::fromStdString(offload::format_bytes(l.bytes_per_expert)));
  }
  out << "tensor types:";
  for (const auto& [name, use] : s.type_histogram) {
    out << QString("  %1 %2 tensors, %3")
               .arg(QString::fromStdString(name), -6)
               .arg(use.tensors, 5)
               .arg(QString::fromStdString(offload::format_bytes(use.bytes)));
  }
  std::printf("%s\n", out.join('\n').toUtf8().constData());
}

}  // namespace

int run_inspect(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Summarise a GGUF model: architecture, experts, sizes, support.");
  parser.addHelpOption();
  parser.addPositionalArgument("MODEL", "GGUF model file (default: the built-in model)", "[MODEL]");
  parser.addOption({"json", "Machine-readable output."});
  if (auto done = parse_command_line(parser, args)) return *done;
  const QStringList positional = parser.positionalArguments();
  if (positional.size() > 1) {
    print_error("inspect: expected at most one MODEL argument");
    return kUsage;
  }
  try {
    const QString path = positional.isEmpty()
                             ? QString::fromStdString(find_default_model().string())
                             : positional[0];
    const auto file = gguf::GgufFile::open(path.toStdString());
    const ModelSummary summary = summarize_model(file);
    if (parser.isSet("json")) {
      std::printf("%s", QJsonDocument(to_json(summary, path)).toJson().constData());
    } else {
      print_text(summary, path);
    }
  } catch (const Error& e) {
    print_error(e.what());
    return kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
