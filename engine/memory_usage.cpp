#include "engine/memory_usage.hpp"

#include <fstream>
#include <string>

namespace tailflow {
namespace {

std::uint64_t read_status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  return 0;
}

}  // namespace

std::uint64_t peak_rss_bytes() { return read_status_kib("VmHWM"); }
std::uint64_t current_rss_bytes() { return read_status_kib("VmRSS"); }

}  // namespace tailflow
