// Element-wise reductions used by backends that reduce by hand (the threads backend).
#pragma once

#include <cstddef>

#include "engine/comm/communicator.hpp"

namespace tailflow::comm {

// accumulator[i] = op(accumulator[i], operand[i]) for `count` elements of `type`.
void reduce_into(void* accumulator, const void* operand, std::size_t count, ElementType type, ReduceOp op);

}  // namespace tailflow::comm
