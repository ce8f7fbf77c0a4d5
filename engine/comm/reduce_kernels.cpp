#include "engine/comm/reduce_kernels.hpp"

#include <algorithm>
#include <cstdint>

namespace tailflow::comm {
namespace {

template <class T>
void reduce_typed(T* accumulator, const T* operand, std::size_t count, ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      for (std::size_t i = 0; i < count; ++i) accumulator[i] += operand[i];
      return;
    case ReduceOp::kMin:
      for (std::size_t i = 0; i < count; ++i) accumulator[i] = std::min(accumulator[i], operand[i]);
      return;
    case ReduceOp::kMax:
      for (std::size_t i = 0; i < count; ++i) accumulator[i] = std::max(accumulator[i], operand[i]);
      return;
  }
}

}  // namespace

void reduce_into(void* accumulator, const void* operand, std::size_t count, ElementType type, ReduceOp op) {
  switch (type) {
    case ElementType::kInt32:
      return reduce_typed(static_cast<std::int32_t*>(accumulator), static_cast<const std::int32_t*>(operand),
                          count, op);
    case ElementType::kInt64:
      return reduce_typed(static_cast<std::int64_t*>(accumulator), static_cast<const std::int64_t*>(operand),
                          count, op);
    case ElementType::kUInt64:
      return reduce_typed(static_cast<std::uint64_t*>(accumulator),
                          static_cast<const std::uint64_t*>(operand), count, op);
    case ElementType::kFloat:
      return reduce_typed(static_cast<float*>(accumulator), static_cast<const float*>(operand), count, op);
    case ElementType::kDouble:
      return reduce_typed(static_cast<double*>(accumulator), static_cast<const double*>(operand), count, op);
  }
}

}  // namespace tailflow::comm
