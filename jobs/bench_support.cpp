#include "jobs/bench_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "engine/comm/collectives.hpp"
#include "engine/memory_usage.hpp"

namespace tailflow::jobs {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

JsonObject bench_header(Context& ctx, const std::string& benchmark) {
  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  JsonObject header;
  header.add("benchmark", benchmark)
      .add("ranks", ctx.size())
      .add("backend", ctx.comm().backend_name())
      .add("host", std::string(host))
      .add("version", TAILFLOW_VERSION);
  return header;
}

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

std::uint64_t max_peak_rss_bytes(Context& ctx) {
  return comm::allreduce_max(ctx.comm(), peak_rss_bytes());
}

void write_bench_json(Context& ctx, const std::string& path, const JsonObject& report) {
  if (!ctx.is_root()) return;
  write_json_file(path, report);
  ctx.log().info("wrote {}", path);
}

}  // namespace tailflow::jobs
