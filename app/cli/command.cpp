#include "app/cli/command.h"

#include <cstdio>

#include "app/cli/commands.h"

namespace moescope::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"inspect", "Summarise a GGUF model: architecture, experts, sizes, support", run_inspect},
  };
  return all;
}

const Command* find_command(std::string_view name) {
  for (const auto& command : commands()) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

void print_error(const QString& message) {
  QString line = message.simplified();
  std::fprintf(stderr, "moescope: %s\n", line.toUtf8().constData());
}

}  // namespace moescope::cli
