#pragma once
// The report's "Offloading suitability" section: the verdict and its reasons, SRP / SCH / LRU /
// OPT at k and 2k slots, the break-even hit rate, and an SRP-vs-m chart.
#include "storage/report/report_document.h"

namespace moescope::storage::report {

ReportSection suitability_section(const ReportData& data);

}  // namespace moescope::storage::report
