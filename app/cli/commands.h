#pragma once
// Entry points of the CLI subcommands; each lives in its own *_command.cpp.
#include <QStringList>

namespace moescope::cli {

int run_inspect(const QStringList& args);
int run_eval(const QStringList& args);
int run_generate(const QStringList& args);
int run_perplexity(const QStringList& args);
int run_bench(const QStringList& args);
int run_tokenize(const QStringList& args);
int run_routing_stats(const QStringList& args);
int run_pack(const QStringList& args);
int run_record(const QStringList& args);
int run_runs(const QStringList& args);
int run_replay(const QStringList& args);
int run_export(const QStringList& args);
int run_report(const QStringList& args);
int run_import(const QStringList& args);
int run_placement(const QStringList& args);
int run_policies(const QStringList& args);
int run_batch(const QStringList& args);

}  // namespace moescope::cli
