// Human-readable quantities for logs and tables.
#pragma once

#include <fmt/format.h>

#include <string>

namespace tailflow {

// 1536 -> "1.5 KiB"
inline std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[unit]);
}

}  // namespace tailflow
