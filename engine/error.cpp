#include "engine/error.hpp"

#include <fmt/format.h>

namespace tailflow {

InputError::InputError(const std::string& file, std::uint64_t line, const std::string& what)
    : Error(fmt::format("{}:{}: {}", file, line, what)), file_(file), line_(line) {}

InputError::InputError(const std::string& file, std::uint64_t line, const std::string& field,
                       const std::string& what)
    : Error(fmt::format("{}:{}: field '{}': {}", file, line, field, what)), file_(file), line_(line) {}

PeerFailure::PeerFailure(int failed_rank, const std::string& message)
    : std::runtime_error(fmt::format("rank {} failed: {}", failed_rank, message)),
      failed_rank_(failed_rank),
      peer_message_(message) {}

}  // namespace tailflow
