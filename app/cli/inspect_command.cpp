#include "app/cli/commands.h"
#include "app/cli/command.h"

namespace moescope::cli {

int run_inspect(const QStringList& args) {
  (void)args;
  print_error("inspect: not built yet");
  return kFailure;
}

}  // namespace moescope::cli
