#include "engine/comm/communicator.hpp"

#include <stdexcept>

namespace tailflow::comm {

std::size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::kInt32:
    case ElementType::kFloat:
      return 4;
    case ElementType::kInt64:
    case ElementType::kUInt64:
    case ElementType::kDouble:
      return 8;
  }
  throw std::logic_error("unknown ElementType");
}

}  // namespace tailflow::comm
