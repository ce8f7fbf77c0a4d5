// `tailflow bench shuffle`: how fast reduce_by_key moves rows, against a bare alltoallv of the same bytes.
//
// Each rank makes rows/size (int64 key, float value) rows. With --keys equal to --rows (the default) keys are
// nearly all distinct, so the map-side combine cannot shrink anything and every row crosses the shuffle: the
// hardest case. The shuffle rate is bytes exchanged / time in the shuffle (bucketing, alltoallv, decoding);
// the baseline is the communicator's alltoallv of exactly the same per-destination byte counts.
#include <fmt/format.h>

#include "engine/comm/collectives.hpp"
#include "engine/dataset/dataset.hpp"
#include "engine/error.hpp"
#include "engine/format_units.hpp"
#include "jobs/bench_support.hpp"
#include "jobs/subcommand.hpp"

namespace tailflow::jobs {
namespace {

struct KeyedValue {
  std::int64_t key;
  float value;
};

int run_bench_shuffle(Context& ctx, const po::variables_map& options) {
  const auto rows = options["rows"].as<std::uint64_t>();
  const auto keys = options["keys"].as<std::uint64_t>();
  const auto repeats = options["repeats"].as<int>();
  const auto seed = options["seed"].as<std::uint64_t>();
  if (keys == 0) throw Error("--keys must be at least 1");

  auto data = Dataset<KeyedValue>::generate(ctx, rows, [&](std::uint64_t i) {
    return KeyedValue{static_cast<std::int64_t>(stable_hash_of(seed, i) % keys), static_cast<float>(i % 100)};
  });
  auto key = [](const KeyedValue& row) { return row.key; };
  auto add = [](const KeyedValue& a, const KeyedValue& b) { return KeyedValue{a.key, a.value + b.value}; };

  std::vector<double> total_seconds, shuffle_seconds, bare_seconds;
  std::uint64_t bytes_to_others = 0, rows_out = 0;
  for (int rep = 0; rep <= repeats; ++rep) {  // rep 0 warms up caches and the MPI transport
    ctx.comm().barrier();
    ctx.metrics().clear();
    auto reduced = data.reduce_by_key(key, add, "reduce_by_key");
    const Stage& stage = ctx.metrics().stages().back();
    double slowest_total = comm::allreduce_max(ctx.comm(), stage.seconds);
    bytes_to_others = comm::allreduce_sum(ctx.comm(), stage.bytes_shuffled);
    rows_out = reduced.count();
    if (rep > 0) total_seconds.push_back(slowest_total);
  }

  // The shuffle phase alone, started together on all ranks (inside reduce_by_key a rank that finishes its
  // map-side combine early would count its wait for the others as shuffle time).
  const auto ranks = static_cast<std::uint64_t>(ctx.size());
  auto combined = combine_by_key(data.local(), key, add);
  auto destination = [&](const KeyedValue& row) { return static_cast<int>(stable_hash(row.key) % ranks); };
  for (int rep = 0; rep <= repeats; ++rep) {
    ctx.comm().barrier();
    ShuffleStats stats;
    auto received = shuffle_rows(ctx.comm(), combined, destination, &stats);
    double slowest = comm::allreduce_max(ctx.comm(), stats.seconds);
    if (rep > 0) shuffle_seconds.push_back(slowest);
  }

  // The same per-destination byte counts, moved by a bare alltoallv.
  std::vector<std::size_t> send_bytes(ranks, 0);
  for (const auto& row : combined) send_bytes[stable_hash(row.key) % ranks] += sizeof(KeyedValue);
  std::vector<std::byte> send(combined.size() * sizeof(KeyedValue), std::byte{1});
  auto recv_bytes = ctx.comm().exchange_counts(send_bytes);
  std::vector<std::byte> recv(std::accumulate(recv_bytes.begin(), recv_bytes.end(), std::size_t{0}));
  for (int rep = 0; rep <= repeats; ++rep) {
    ctx.comm().barrier();
    Stopwatch watch;
    ctx.comm().alltoallv(send.data(), send_bytes, recv.data(), recv_bytes);
    double slowest = comm::allreduce_max(ctx.comm(), watch.seconds());
    if (rep > 0) bare_seconds.push_back(slowest);
  }

  double shuffled_bytes_total = comm::allreduce_sum(ctx.comm(), static_cast<double>(send.size()));
  double shuffle_rate = shuffled_bytes_total / median(shuffle_seconds) / 1e6;
  double bare_rate = shuffled_bytes_total / median(bare_seconds) / 1e6;
  double end_to_end_rate = rows * sizeof(KeyedValue) / median(total_seconds) / 1e6;
  ctx.log().info("reduce_by_key of {} rows ({} keys) on {} ranks: {:.3f} s total, shuffle {:.3f} s", rows, keys,
                 ctx.size(), median(total_seconds), median(shuffle_seconds));
  ctx.log().info("bytes through the shuffle {} ({} to other ranks); rows out {}", format_bytes(shuffled_bytes_total),
                 format_bytes(bytes_to_others), rows_out);
  ctx.log().info("shuffle rate {:.0f} MB/s vs bare alltoallv {:.0f} MB/s: {:.0f}%", shuffle_rate, bare_rate,
                 100 * shuffle_rate / bare_rate);

  JsonObject settings;
  settings.add("rows", rows).add("keys", keys).add("repeats", repeats).add("seed", seed).add("row_bytes",
                                                                                            sizeof(KeyedValue));
  auto report = bench_header(ctx, "shuffle");
  report.add("settings", settings)
      .add("rows_out", rows_out)
      .add("bytes_shuffled", static_cast<std::uint64_t>(shuffled_bytes_total))
      .add("bytes_to_other_ranks", bytes_to_others)
      .add("reduce_by_key_seconds", median(total_seconds))
      .add("shuffle_seconds", median(shuffle_seconds))
      .add("alltoallv_seconds", median(bare_seconds))
      .add("shuffle_mb_per_s", shuffle_rate)
      .add("alltoallv_mb_per_s", bare_rate)
      .add("shuffle_vs_alltoallv", shuffle_rate / bare_rate)
      .add("end_to_end_mb_per_s", end_to_end_rate)
      .add("reduce_by_key_seconds_all", total_seconds)
      .add("shuffle_seconds_all", shuffle_seconds)
      .add("alltoallv_seconds_all", bare_seconds)
      .add("peak_rss_bytes", max_peak_rss_bytes(ctx));
  write_bench_json(ctx, options["json"].as<std::string>(), report);
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "bench shuffle", "benchmark reduce_by_key's shuffle against a bare alltoallv",
    [](po::options_description& options) {
      options.add_options()("rows", po::value<std::uint64_t>()->default_value(10'000'000), "rows over all ranks")(
          "keys", po::value<std::uint64_t>()->default_value(10'000'000), "distinct key space (rows = no combining)")(
          "repeats", po::value<int>()->default_value(3), "timed repetitions (median reported)")(
          "seed", po::value<std::uint64_t>()->default_value(1), "seed of the row keys")(
          "json", po::value<std::string>()->required(), "write the report here");
    },
    run_bench_shuffle}};

}  // namespace
}  // namespace tailflow::jobs
