#include "engine/model/architectures.h"

#include <algorithm>

namespace moescope {

bool is_supported_architecture(std::string_view arch) {
  return std::find(kSupportedArchitectures.begin(), kSupportedArchitectures.end(), arch) !=
         kSupportedArchitectures.end();
}

std::string supported_architectures_list() {
  std::string list;
  for (auto arch : kSupportedArchitectures) {
    if (!list.empty()) list += ", ";
    list += arch;
  }
  return list;
}

}  // namespace moescope
