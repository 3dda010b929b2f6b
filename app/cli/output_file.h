#pragma once
// The CLI's output files (report, export) appear only when the command succeeds: see
// engine/common/atomic_file.h.
#include "engine/common/atomic_file.h"

namespace moescope::cli {

using OutputFile = moescope::AtomicFile;
using moescope::write_file_atomically;

}  // namespace moescope::cli
