#include "engine/common/ids.h"

static_assert(sizeof(moescope::LayerId) == sizeof(int32_t), "ids must stay as cheap as an int");
