// What every `tailflow bench ...` report shares: the run's shape (ranks, backend, host), peak memory over all
// ranks, medians of repeated timings, and writing the JSON from rank 0.
#pragma once

#include <string>
#include <vector>

#include "engine/context.hpp"
#include "engine/json_writer.hpp"

namespace tailflow::jobs {

// Median of repeated measurements (the mean of the two middle values for an even count).
double median(std::vector<double> values);

// Collective: {"benchmark", "ranks", "backend", "host", "version"}.
JsonObject bench_header(Context& ctx, const std::string& benchmark);

// CPU seconds this process has used (all threads): unlike wall time, not inflated by other processes
// taking turns on the cores of a shared machine.
double process_cpu_seconds();

// Collective: maximum over ranks of the peak resident set size.
std::uint64_t max_peak_rss_bytes(Context& ctx);

// Writes on rank 0 and prints the path; other ranks do nothing.
void write_bench_json(Context& ctx, const std::string& path, const JsonObject& report);

}  // namespace tailflow::jobs
