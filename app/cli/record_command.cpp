// moescope record --trace FILE [--model M] --prompt TEXT | --prompt-file FILE [-n N]
//                 [generate's sampling, thread and context flags] [offload flags]
//                 [--label TEXT] [--router-logits] [--quiet] [--json]
// `generate` with the run recorded into a trace (generate_command.cpp holds the one code path).
#include "app/cli/commands.h"
#include "app/cli/recording.h"

namespace moescope::cli {

int run_record(const QStringList& args) {
  return run_generation_command(args, /*record=*/true);
}

}  // namespace moescope::cli
