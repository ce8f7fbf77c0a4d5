// `tailflow bench shuffle`: how fast reduce_by_key moves rows, against a bare alltoallv of the same bytes.
//
// Each rank makes rows/size (int64 key, float value) rows. With --keys equal to --rows (the default) keys are
// nearly all distinct, so the map-side combine cannot shrink anything and every row crosses the shuffle: the
// hardest case. Every phase is timed on its own, started together on all ranks (barrier), as the slowest
// rank's wall time and the largest process CPU time over ranks, median of --repeats:
//   - reduce_by_key: the whole operation;
//   - map_side: the map-side combine, which writes each row straight into its destination's send bucket;
//   - exchange: reduce_by_key's shuffle phase — counts, the receive buffer, and sending the buckets; the
//     local bucket stays in place;
//   - reduce_side: the owner's combine of the received blocks;
//   - shuffle_rows: the generic shuffle of the same rows (destinations, bucketing, exchange into a new
//     partition), which partition_by, group_by_key, join and distinct use and reduce_by_key used before;
//   - alltoallv: the communicator's alltoallv of exactly the same per-destination byte counts, including
//     the local block, between buffers allocated (and faulted in) once before the repeats;
//   - alltoallv_remote: the same without the local block (only what crosses ranks).
// Rates are bytes delivered to their owner ranks (all rows after the map-side combine) / seconds.
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

// One phase's timings over the repeats: wall and CPU seconds, each the largest over ranks.
struct PhaseTimes {
  std::vector<double> wall;
  std::vector<double> cpu;
  double median_wall() const { return median(wall); }
  double median_cpu() const { return median(cpu); }
};

// Runs `pass` repeats + 1 times (the first warms caches and the transport) with a synchronised start;
// `prepare` runs before each, untimed (it frees what the previous pass made).
template <class Prepare, class Pass>
PhaseTimes time_phase(Context& ctx, int repeats, Prepare prepare, Pass pass) {
  PhaseTimes times;
  for (int rep = 0; rep <= repeats; ++rep) {
    prepare();
    ctx.comm().barrier();
    Stopwatch watch;
    double cpu_start = process_cpu_seconds();
    pass();
    double measured[2] = {watch.seconds(), process_cpu_seconds() - cpu_start};
    comm::allreduce(ctx.comm(), std::span<double>(measured), comm::ReduceOp::kMax);
    if (rep > 0) {
      times.wall.push_back(measured[0]);
      times.cpu.push_back(measured[1]);
    }
  }
  return times;
}

JsonObject phase_json(const PhaseTimes& times, double bytes) {
  JsonObject phase;
  phase.add("seconds", times.median_wall())
      .add("cpu_seconds", times.median_cpu())
      .add("mb_per_s", bytes / times.median_wall() / 1e6)
      .add("cpu_mb_per_s", bytes / times.median_cpu() / 1e6)
      .add("seconds_all", times.wall)
      .add("cpu_seconds_all", times.cpu);
  return phase;
}

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
  const int ranks = ctx.size();

  std::uint64_t bytes_to_others = 0, rows_out = 0;
  Dataset<KeyedValue> reduced(ctx, {});
  PhaseTimes total = time_phase(
      ctx, repeats,
      [&] {
        reduced = Dataset<KeyedValue>(ctx, {});
        ctx.metrics().clear();
      },
      [&] { reduced = data.reduce_by_key(key, add, "reduce_by_key"); });
  rows_out = comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(reduced.local_size()));
  bytes_to_others = comm::allreduce_sum(ctx.comm(), ctx.metrics().stages().back().bytes_shuffled);
  reduced = Dataset<KeyedValue>(ctx, {});

  std::vector<std::vector<KeyedValue>> buckets;
  PhaseTimes map_side = time_phase(
      ctx, repeats, [&] { buckets = {}; },
      [&] { buckets = combine_by_key_into_buckets(data.local(), key, add, ranks); });
  ReceivedRows<KeyedValue> received;
  PhaseTimes exchange = time_phase(
      ctx, repeats, [&] { received = {}; }, [&] { received = exchange_buckets(ctx.comm(), buckets); });
  std::vector<KeyedValue> combined_at_owner;
  PhaseTimes reduce_side = time_phase(
      ctx, repeats, [&] { combined_at_owner = {}; },
      [&] {
        combined_at_owner =
            combine_by_key(std::span<const std::span<const KeyedValue>>(received.from), key, add);
      });
  received = {};
  combined_at_owner = {};

  // The generic shuffle of the same rows (in first-appearance order, as the plain combine gives them).
  std::vector<KeyedValue> combined;
  for (const auto& bucket : buckets) combined.insert(combined.end(), bucket.begin(), bucket.end());
  const auto divisor = static_cast<std::uint64_t>(ranks);
  auto destination = [&](const KeyedValue& row) { return static_cast<int>(stable_hash(row.key) % divisor); };
  std::vector<KeyedValue> moved;
  PhaseTimes generic = time_phase(
      ctx, repeats, [&] { moved = {}; }, [&] { moved = shuffle_rows(ctx.comm(), combined, destination); });
  moved = {};

  // The same per-destination byte counts, moved by a bare alltoallv between warm buffers.
  std::vector<std::size_t> send_bytes(ranks, 0);
  for (int d = 0; d < ranks; ++d) send_bytes[d] = buckets[d].size() * sizeof(KeyedValue);
  std::vector<std::byte> send(combined.size() * sizeof(KeyedValue), std::byte{1});
  auto recv_bytes = ctx.comm().exchange_counts(send_bytes);
  std::vector<std::byte> recv(std::accumulate(recv_bytes.begin(), recv_bytes.end(), std::size_t{0}));
  auto nothing = [] {};
  PhaseTimes bare = time_phase(
      ctx, repeats, nothing, [&] { ctx.comm().alltoallv(send.data(), send_bytes, recv.data(), recv_bytes); });
  std::vector<std::size_t> remote_send = send_bytes, remote_recv = recv_bytes;
  remote_send[ctx.rank()] = 0;
  remote_recv[ctx.rank()] = 0;
  PhaseTimes bare_remote = time_phase(ctx, repeats, nothing, [&] {
    ctx.comm().alltoallv(send.data(), remote_send, recv.data(), remote_recv);
  });

  const double bytes = comm::allreduce_sum(ctx.comm(), static_cast<double>(send.size()));
  const double exchange_rate = bytes / exchange.median_wall() / 1e6;
  const double bare_rate = bytes / bare.median_wall() / 1e6;
  const double remote_rate = bytes / bare_remote.median_wall() / 1e6;
  ctx.log().info("reduce_by_key of {} rows ({} keys) on {} ranks: {:.3f} s (CPU {:.3f} s)", rows, keys, ranks,
                 total.median_wall(), total.median_cpu());
  ctx.log().info(
      "  map side {:.3f} s, exchange {:.3f} s, reduce side {:.3f} s; generic shuffle_rows {:.3f} s",
      map_side.median_wall(), exchange.median_wall(), reduce_side.median_wall(), generic.median_wall());
  ctx.log().info("bytes through the shuffle {} ({} to other ranks); rows out {}", format_bytes(bytes),
                 format_bytes(bytes_to_others), rows_out);
  ctx.log().info(
      "exchange {:.0f} MB/s vs bare alltoallv {:.0f} MB/s: {:.0f}% ({:.0f}% of an alltoallv of the "
      "remote blocks only, {:.0f} MB/s)",
      exchange_rate, bare_rate, 100 * exchange_rate / bare_rate, 100 * exchange_rate / remote_rate,
      remote_rate);

  JsonObject settings;
  settings.add("rows", rows)
      .add("keys", keys)
      .add("repeats", repeats)
      .add("seed", seed)
      .add("row_bytes", sizeof(KeyedValue));
  JsonObject phases;
  phases.add("reduce_by_key", phase_json(total, static_cast<double>(rows * sizeof(KeyedValue))))
      .add("map_side", phase_json(map_side, bytes))
      .add("exchange", phase_json(exchange, bytes))
      .add("reduce_side", phase_json(reduce_side, bytes))
      .add("shuffle_rows", phase_json(generic, bytes))
      .add("alltoallv", phase_json(bare, bytes))
      .add("alltoallv_remote", phase_json(bare_remote, bytes));
  auto report = bench_header(ctx, "shuffle");
  report.add("settings", settings)
      .add("phase_definitions",
           std::string(
               "wall: slowest rank, cpu: largest process CPU time over ranks, median of repeats, each "
               "phase started together after a barrier. reduce_by_key: the whole operation; map_side: "
               "combine writing rows into per-destination send buckets; exchange: reduce_by_key's "
               "shuffle phase (counts, receive buffer, sending the buckets; the local bucket stays in "
               "place); reduce_side: combining the received blocks; shuffle_rows: the generic shuffle "
               "(destinations, bucketing, exchange into a new partition); alltoallv: bare alltoallv of "
               "the same per-destination bytes incl. the local block, buffers allocated once; "
               "alltoallv_remote: the same without the local block. mb_per_s: bytes_shuffled / seconds "
               "(reduce_by_key: input bytes / seconds)"))
      .add("rows_out", rows_out)
      .add("bytes_shuffled", static_cast<std::uint64_t>(bytes))
      .add("bytes_to_other_ranks", bytes_to_others)
      .add("phases", phases)
      .add("reduce_by_key_seconds", total.median_wall())
      .add("shuffle_seconds", exchange.median_wall())
      .add("alltoallv_seconds", bare.median_wall())
      .add("shuffle_mb_per_s", exchange_rate)
      .add("alltoallv_mb_per_s", bare_rate)
      .add("shuffle_vs_alltoallv", exchange_rate / bare_rate)
      .add("shuffle_vs_alltoallv_remote", exchange_rate / remote_rate)
      .add("end_to_end_mb_per_s", rows * sizeof(KeyedValue) / total.median_wall() / 1e6)
      .add("peak_rss_bytes", max_peak_rss_bytes(ctx));
  write_bench_json(ctx, options["json"].as<std::string>(), report);
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "bench shuffle", "benchmark reduce_by_key's shuffle against a bare alltoallv",
    [](po::options_description& options) {
      options.add_options()("rows", po::value<std::uint64_t>()->default_value(10'000'000),
                            "rows over all ranks")("keys",
                                                   po::value<std::uint64_t>()->default_value(10'000'000),
                                                   "distinct key space (rows = no combining)")(
          "repeats", po::value<int>()->default_value(3), "timed repetitions (median reported)")(
          "seed", po::value<std::uint64_t>()->default_value(1), "seed of the row keys")(
          "json", po::value<std::string>()->required(), "write the report here");
    },
    run_bench_shuffle}};

}  // namespace
}  // namespace tailflow::jobs
