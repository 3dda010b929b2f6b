#pragma once
// The report's chart sections: layer x expert heatmaps, inter-layer affinity, hit-rate curves.
#include "storage/report/report_document.h"

namespace moescope::storage::report {

ReportSection heatmap_section(const ReportData& data);
ReportSection affinity_section(const ReportData& data);
ReportSection curves_section(const ReportData& data);

}  // namespace moescope::storage::report
