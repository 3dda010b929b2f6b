#pragma once
// The report's "Expert-parallel placement" section: per device count, the placements side by side
// and a device x layer load heatmap of each (data: placement_data.h).
#include "storage/report/report_document.h"

namespace moescope::storage::report {

ReportSection placement_section(const ReportData& data);

}  // namespace moescope::storage::report
