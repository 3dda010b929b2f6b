#include "app/cli/capacity_options.h"

#include "app/cli/cli_input.h"

namespace moescope::cli {

QList<QCommandLineOption> capacity_options(const QString& per_what) {
  return {
      {"capacity",
       "LOSSY: capacity-aware gating, at most ceil(G*k*T/E) tokens per expert per " + per_what +
           ".",
       "G"},
      {"expand",
       "With --capacity: Expanded Drop over each token's top-(k*M) (default 1 = Token "
       "Drop).",
       "M"},
      {"capacity-devices",
       "With --capacity: the capacity bounds each of D expert-parallel devices instead "
       "(experts placed contiguously), at most ceil(G*k*T/D) routings per device.",
       "D"},
  };
}

bool read_capacity_options(const QCommandLineParser& parser,
                           std::optional<batching::CapacityOptions>& out, QString& error) {
  int expand = 1, devices = 0;
  double gamma = 0;
  if (!parse_int(parser, "expand", 1, 64, expand, error) ||
      !parse_int(parser, "capacity-devices", 1, 65536, devices, error) ||
      !parse_number(parser, "capacity", 1e-3, 1e3, gamma, error)) {
    return false;
  }
  for (const char* flag : {"expand", "capacity-devices"}) {
    if (parser.isSet(flag) && !parser.isSet("capacity")) {
      error = QString("--%1 needs --capacity").arg(flag);
      return false;
    }
  }
  out.reset();
  if (parser.isSet("capacity")) out = batching::CapacityOptions{gamma, expand, devices};
  return true;
}

}  // namespace moescope::cli
