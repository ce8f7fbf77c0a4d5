// Memory use of this process, as the kernel counts it.
#pragma once

#include <cstdint>

namespace tailflow {

// Peak resident set size (VmHWM) in bytes; 0 where /proc is not available.
std::uint64_t peak_rss_bytes();
// Current resident set size (VmRSS) in bytes; 0 where /proc is not available.
std::uint64_t current_rss_bytes();

}  // namespace tailflow
