#include "engine/placement/topology.h"

#include "engine/common/error.h"

namespace moescope::placement {

void Topology::validate() const {
  if (devices < 1 || devices > 4096) fail("--devices must be between 1 and 4096, not {}", devices);
  if (nodes < 1 || nodes > devices)
    fail("--nodes must be between 1 and the number of devices ({}), not {}", devices, nodes);
  if (devices % nodes != 0)
    fail("{} devices cannot be spread evenly over {} nodes", devices, nodes);
}

}  // namespace moescope::placement
