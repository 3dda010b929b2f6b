// moescope policies [--markdown]
// The cache policies and prefetchers the other commands accept (--policy, --compare, --prefetch,
// replay --policies), from the registry (engine/policy/registry.h): one line each, or with
// --markdown the tables of docs/policies-cli.md, which a test keeps equal to this output.
#include <cstdio>
#include <string>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "engine/policy/registry.h"

namespace moescope::cli {

int run_policies(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "List the cache policies and prefetchers (docs/policies-cli.md). A policy NAME runs per "
      "layer, NAME-global over one pool.");
  parser.addHelpOption();
  parser.addOption({"markdown", "Print the tables of docs/policies-cli.md."});
  if (const auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("policies: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  using policy::EntryKind;
  const bool markdown = parser.isSet("markdown");
  for (EntryKind kind : {EntryKind::kPolicy, EntryKind::kPrefetcher}) {
    const char* title =
        kind == EntryKind::kPolicy ? "Policies (--policy, --compare)" : "Prefetchers (--prefetch)";
    std::printf("%s%s\n\n", kind == EntryKind::kPolicy ? "" : "\n", title);
    if (markdown) {
      std::fputs(policy::registry_markdown(kind).c_str(), stdout);
    } else {
      for (const std::string& line : policy::registry_help(kind))
        std::printf("  %s\n", line.c_str());
    }
  }
  return kSuccess;
}

}  // namespace moescope::cli
