// `tailflow bench ingest`: how fast ranks turn an interaction file into Interaction rows.
//
// Two rates, each the median of --repeats timed passes (the slowest rank's time):
//   - raw parse: the parallel CSV reader alone — read the byte range, split lines and fields, parse every
//     numeric field with from_chars;
//   - ingest: load_interactions — the same, plus the id dictionaries (local dedupe, the distributed sort of
//     distinct ids, the indices back) and the Interaction rows.
// MB/s per rank = file bytes / ranks / seconds. Issue 2's target: >= 150 MB/s per rank on a MovieLens-style
// ratings CSV. Without --interactions, rank 0 writes one (userId,movieId,rating,timestamp) of --rows rows.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/format_units.hpp"
#include "engine/io/csv_reader.hpp"
#include "jobs/bench_support.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/subcommand.hpp"

namespace tailflow::jobs {
namespace {

namespace fs = std::filesystem;

// MovieLens-like ratings: users in order with a skewed number of ratings each, power-law movie ids,
// half-star ratings, 9-digit timestamps — the shape (and bytes per row) of ml-latest's ratings.csv.
void write_movielens_like(const fs::path& path, std::uint64_t rows, std::uint64_t seed) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw Error(fmt::format("cannot create '{}'", path.string()));
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const std::uint64_t movies = std::max<std::uint64_t>(10, rows / 10);
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "userId,movieId,rating,timestamp\n");
  std::uint64_t user = 1, left_for_user = 0;
  for (std::uint64_t i = 0; i < rows; ++i) {
    if (left_for_user == 0) {
      ++user;
      left_for_user = 20 + static_cast<std::uint64_t>(300 * std::pow(uniform(random), 3.0));
    }
    --left_for_user;
    auto movie = 1 + static_cast<std::uint64_t>(static_cast<double>(movies) * std::pow(uniform(random), 2.5));
    unsigned half_stars = 1 + static_cast<unsigned>(random() % 10);
    auto timestamp = 828'000'000 + random() % 700'000'000;
    fmt::format_to(std::back_inserter(buffer), "{},{},{}.{},{}\n", user, movie, half_stars / 2,
                   half_stars % 2 ? 5 : 0, timestamp);
    if (buffer.size() > (1 << 20)) {
      std::fwrite(buffer.data(), 1, buffer.size(), file);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), file);
  if (std::fclose(file) != 0) throw Error(fmt::format("cannot write '{}'", path.string()));
}

// One raw pass: every field that is a number is parsed; the checksum keeps the compiler from skipping work.
io::CsvReadReport raw_parse(Context& ctx, const ops::data::InteractionsLoadOptions& load, double& checksum) {
  io::CsvOptions csv;
  csv.separator = load.separator;
  csv.header = load.header;
  csv.column_names = load.columns;
  csv.bad_rows = load.bad_rows;
  io::CsvReader reader(ctx, load.path, csv);
  double sum = 0;
  auto report = reader.for_each_row([&](const io::CsvRow& row) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::int64_t integer = 0;
      double real = 0;
      if (io::parse_number(row[c], integer) == io::NumberError::kNone)
        sum += static_cast<double>(integer);
      else if (io::parse_number(row[c], real) == io::NumberError::kNone)
        sum += real;
      else
        sum += static_cast<double>(row[c].size());
    }
  });
  checksum = comm::allreduce_sum(ctx.comm(), sum);
  return report;
}

// Wall and CPU seconds of one pass, each the slowest rank's. On a shared machine the CPU time shows what
// the code costs when other processes take turns on the cores.
struct PassTime {
  double wall;
  double cpu;
};

template <class Pass>
PassTime timed(Context& ctx, Pass pass) {
  ctx.comm().barrier();
  Stopwatch watch;
  double cpu_start = process_cpu_seconds();
  pass();
  double times[2] = {watch.seconds(), process_cpu_seconds() - cpu_start};
  comm::allreduce(ctx.comm(), std::span<double>(times), comm::ReduceOp::kMax);
  return {times[0], times[1]};
}

int run_bench_ingest(Context& ctx, const po::variables_map& options) {
  ops::data::InteractionsLoadOptions load;
  std::string temporary_dir;
  try {
    load = interaction_load_options(options);
    if (load.path.empty() && !options.count("rows"))
      throw Error("give --interactions FILE or --rows N (to generate a MovieLens-style file)");
  } catch (const Error& e) {
    throw CollectiveError(e.what());
  }
  const auto repeats = options["repeats"].as<int>();
  const bool generated = load.path.empty();
  if (generated) {
    // Rank 0 writes the file into a fresh directory that every rank can read (one node, or a shared
    // --tmp-dir).
    std::string failure;
    if (ctx.is_root()) {
      try {
        std::string pattern =
            (fs::path(options["tmp-dir"].as<std::string>()) / "tailflow-bench-ingest-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
          throw Error(fmt::format("cannot create a directory like '{}'", pattern));
        temporary_dir = pattern;
        Stopwatch watch;
        write_movielens_like(fs::path(temporary_dir) / "ratings.csv", options["rows"].as<std::uint64_t>(),
                             options["seed"].as<std::uint64_t>());
        ctx.log().info("generated {} rows in {:.1f} s", options["rows"].as<std::uint64_t>(), watch.seconds());
      } catch (const Error& e) {
        failure = e.what();
      }
    }
    ctx.check_collectively(failure);
    temporary_dir = comm::broadcast_string(ctx.comm(), temporary_dir, 0);
    load.path = (fs::path(temporary_dir) / "ratings.csv").string();
  }

  std::vector<double> raw_seconds, ingest_seconds, raw_cpu_seconds, ingest_cpu_seconds;
  io::CsvReadReport raw_report;
  double checksum = 0;
  std::uint64_t rows = 0, users = 0, items = 0;
  const bool quiet = options.count("quiet") > 0;
  for (int rep = 0; rep <= repeats; ++rep) {  // rep 0 warms the page cache
    PassTime raw = timed(ctx, [&] { raw_report = raw_parse(ctx, load, checksum); });
    ctx.log().set_quiet(true);
    ops::data::LoadedInteractions loaded;
    PassTime ingest = timed(ctx, [&] { loaded = ops::data::load_interactions(ctx, load); });
    ctx.log().set_quiet(quiet);
    rows = loaded.total;
    users = loaded.users.size();
    items = loaded.items.size();
    if (rep > 0) {
      raw_seconds.push_back(raw.wall);
      ingest_seconds.push_back(ingest.wall);
      raw_cpu_seconds.push_back(raw.cpu);
      ingest_cpu_seconds.push_back(ingest.cpu);
    }
  }
  ctx.metrics().clear();
  const double bytes = static_cast<double>(raw_report.file_bytes);
  const double ranks = ctx.size();
  const double ingest_time = median(ingest_seconds), raw_time = median(raw_seconds);
  const double ingest_rate = bytes / ranks / ingest_time / 1e6, raw_rate = bytes / ranks / raw_time / 1e6;
  const double ingest_cpu = median(ingest_cpu_seconds), raw_cpu = median(raw_cpu_seconds);
  ctx.log().info("{} ({}, {} rows, {} users, {} items) on {} rank{}:", load.path, format_bytes(bytes), rows,
                 users, items, ctx.size(), ctx.size() == 1 ? "" : "s");
  ctx.log().info(
      "  raw parse  {:.3f} s  {:7.1f} MB/s per rank  {:6.2f} M rows/s   (CPU {:.3f} s: {:.1f} MB/s)",
      raw_time, raw_rate, raw_report.rows / raw_time / 1e6, raw_cpu, bytes / ranks / raw_cpu / 1e6);
  ctx.log().info(
      "  ingest     {:.3f} s  {:7.1f} MB/s per rank  {:6.2f} M rows/s   (CPU {:.3f} s: {:.1f} MB/s)",
      ingest_time, ingest_rate, rows / ingest_time / 1e6, ingest_cpu, bytes / ranks / ingest_cpu / 1e6);

  JsonObject settings;
  settings.add("interactions", generated ? std::string("generated") : load.path)
      .add("generated_rows", generated ? options["rows"].as<std::uint64_t>() : std::uint64_t{0})
      .add("seed", options["seed"].as<std::uint64_t>())
      .add("repeats", repeats)
      .add("on_bad_row", options["on-bad-row"].as<std::string>());
  auto report = bench_header(ctx, "ingest");
  report.add("settings", settings)
      .add("bytes", static_cast<std::uint64_t>(bytes))
      .add("rows", rows)
      .add("users", users)
      .add("items", items)
      .add("skipped_rows", raw_report.skipped_rows)
      .add("seconds", ingest_time)
      .add("mb_per_s_per_rank", ingest_rate)
      .add("rows_per_s", rows / ingest_time)
      .add("raw_parse_seconds", raw_time)
      .add("raw_parse_mb_per_s_per_rank", raw_rate)
      .add("raw_parse_rows_per_s", raw_report.rows / raw_time)
      .add("cpu_seconds", ingest_cpu)
      .add("cpu_mb_per_s_per_rank", bytes / ranks / ingest_cpu / 1e6)
      .add("raw_parse_cpu_seconds", raw_cpu)
      .add("raw_parse_cpu_mb_per_s_per_rank", bytes / ranks / raw_cpu / 1e6)
      .add("target_mb_per_s_per_rank", 150.0)
      .add("seconds_all", ingest_seconds)
      .add("raw_parse_seconds_all", raw_seconds)
      .add("checksum", checksum)
      .add("peak_rss_bytes", max_peak_rss_bytes(ctx));
  write_bench_json(ctx, options["json"].as<std::string>(), report);

  ctx.comm().barrier();
  if (generated && ctx.is_root()) fs::remove_all(temporary_dir);
  return 0;
}

const SubcommandRegistration registration{
    Subcommand{"bench ingest", "benchmark parsing an interaction CSV (raw parse, and with id dictionaries)",
               [](po::options_description& options) {
                 add_interaction_options(options, /*required=*/false);
                 options.add_options()(
                     "rows", po::value<std::uint64_t>(),
                     "generate a MovieLens-style ratings CSV of this many rows instead of --interactions")(
                     "seed", po::value<std::uint64_t>()->default_value(1), "seed of the generated file")(
                     "tmp-dir", po::value<std::string>()->default_value(fs::temp_directory_path().string()),
                     "where the generated file goes (must be readable by every rank)")(
                     "repeats", po::value<int>()->default_value(3), "timed repetitions (median reported)")(
                     "json", po::value<std::string>()->required(), "write the report here");
               },
               run_bench_ingest}};

}  // namespace
}  // namespace tailflow::jobs
