#pragma once
// One table of a run as CSV (RFC 4180: a header row, CRLF-free "\n" line ends, fields with a
// comma, quote or line break quoted, quotes doubled). docs/trace-format.md lists the columns.
#include <ostream>

#include "storage/export/export.h"

namespace moescope::storage {

ExportStats write_csv(TraceReader& reader, int64_t run, CsvTable table,
                      const ExportOptions& options, std::ostream& out);

}  // namespace moescope::storage
