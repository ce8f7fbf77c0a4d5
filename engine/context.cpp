#include "engine/context.hpp"

#include <climits>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow {

void Context::check_collectively(const std::string& error_message_or_empty) {
  int mine = error_message_or_empty.empty() ? INT_MAX : rank();
  int first_failed = comm::allreduce_min(comm_, mine);
  if (first_failed == INT_MAX) return;
  std::string message = comm::broadcast_string(comm_, error_message_or_empty, first_failed);
  throw CollectiveError(message);
}

}  // namespace tailflow
