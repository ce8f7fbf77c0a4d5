// `tailflow split`: a train/test split of an interaction file for offline evaluation.
//
// Reads the file with the shared interaction options, splits it with ops::split (seeded; the same split on
// any number of ranks), and writes DIR/train.csv and DIR/test.csv with the input's external ids and column
// names (user, item, then value and time where the input has them; times as seconds since the epoch).
// The few-shot method also writes DIR/probe_items.csv.
#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/parallel_text_writer.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/subcommand.hpp"
#include "operators/data/interactions_loader.hpp"
#include "operators/split/splitter.hpp"

namespace tailflow::jobs {
namespace {

void add_options(po::options_description& options) {
  add_interaction_options(options);
  // clang-format off
  options.add_options()
    ("out", po::value<std::string>()->required(), "output directory (created if missing)")
    ("method", po::value<std::string>()->default_value("random"), "random | leave-k-out | temporal | few-shot")
    ("test-fraction", po::value<double>()->default_value(0.2, "0.2"),
     "random, temporal: share of each user's (user, item) pairs that go to test")
    ("k", po::value<std::size_t>()->default_value(1), "leave-k-out: test pairs per user")
    ("global-time", "temporal: one cut time for all users instead of each user's latest pairs")
    ("probe-fraction", po::value<double>()->default_value(0.2, "0.2"), "few-shot: share of eligible items probed")
    ("shots", po::value<std::size_t>()->default_value(3), "few-shot: training pairs each probe item keeps (m)")
    ("max-shots", po::value<std::size_t>()->default_value(10),
     "few-shot: m_max; probe items need at least m_max + 5 users")
    ("seed", po::value<std::uint64_t>()->default_value(0), "random seed");
  // clang-format on
}

// "user=userId item=movieId value=rating time=timestamp" -> the column name of `role`, or `role` itself.
std::string column_name(const std::string& columns_used, const std::string& role) {
  std::istringstream words(columns_used);
  std::string word;
  while (words >> word)
    if (word.rfind(role + "=", 0) == 0) return word.substr(role.size() + 1);
  return role;
}

// This rank's rows as CSV lines with external ids (fetched collectively from the dictionaries).
std::string format_rows(Context& ctx, const ops::data::LoadedInteractions& loaded,
                        const std::vector<ops::Interaction>& rows) {
  std::vector<io::DenseIndex> user_indices, item_indices;
  for (const auto& row : rows) {
    user_indices.push_back(row.user);
    item_indices.push_back(row.item);
  }
  auto users = loaded.users.strings_of(ctx, user_indices);
  auto items = loaded.items.strings_of(ctx, item_indices);
  fmt::memory_buffer text;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    fmt::format_to(std::back_inserter(text), "{},{}", users[i], items[i]);
    if (loaded.has_value) fmt::format_to(std::back_inserter(text), ",{}", rows[i].value);
    if (loaded.has_time) fmt::format_to(std::back_inserter(text), ",{}", rows[i].time);
    text.push_back('\n');
  }
  return fmt::to_string(text);
}

int run(Context& ctx, const po::variables_map& values) {
  ops::split::SplitOptions options;
  options.method = ops::split::parse_split_method(values["method"].as<std::string>());
  options.test_fraction = values["test-fraction"].as<double>();
  options.k = values["k"].as<std::size_t>();
  options.global_time = values.count("global-time") > 0;
  options.probe_fraction = values["probe-fraction"].as<double>();
  options.shots = values["shots"].as<std::size_t>();
  options.max_shots = values["max-shots"].as<std::size_t>();
  options.seed = values["seed"].as<std::uint64_t>();

  const std::filesystem::path out = values["out"].as<std::string>();
  std::string problem;
  if (ctx.is_root()) {
    std::error_code error;
    std::filesystem::create_directories(out, error);
    if (error)
      problem = fmt::format("cannot create output directory '{}': {}", out.string(), error.message());
  }
  ctx.check_collectively(problem);

  Stopwatch clock;
  auto loaded = ops::data::load_interactions(ctx, interaction_load_options(values));
  ctx.log().info("read {} interactions ({} users, {} items; {})", loaded.total, loaded.users.size(),
                 loaded.items.size(), loaded.columns_used);
  if (options.method == ops::split::SplitMethod::kTemporal && !loaded.has_time)
    throw CollectiveError(
        "--method temporal needs a time column, and the input has none (see --time-column)");
  const std::uint64_t rows_in = loaded.local.size();
  ops::split::Split split = ops::split::split_interactions(ctx, std::move(loaded.local), options);
  ctx.metrics().record({"split", rows_in, split.train.size() + split.test.size(), 0, clock.seconds()});

  clock.restart();
  std::string header = fmt::format("{},{}", column_name(loaded.columns_used, "user"),
                                   column_name(loaded.columns_used, "item"));
  if (loaded.has_value) header += fmt::format(",{}", column_name(loaded.columns_used, "value"));
  if (loaded.has_time) header += fmt::format(",{}", column_name(loaded.columns_used, "time"));
  header += '\n';
  io::write_file_collectively(ctx, out / "train.csv", header, format_rows(ctx, loaded, split.train));
  io::write_file_collectively(ctx, out / "test.csv", header, format_rows(ctx, loaded, split.test));
  if (options.method == ops::split::SplitMethod::kFewShot) {
    std::vector<io::DenseIndex> probe(split.probe_items.begin(), split.probe_items.end());
    if (!ctx.is_root()) probe.clear();  // every rank knows them; rank 0 writes them
    auto names = loaded.items.strings_of(ctx, probe);
    fmt::memory_buffer lines;
    for (const auto& name : names) fmt::format_to(std::back_inserter(lines), "{}\n", name);
    io::write_file_collectively(ctx, out / "probe_items.csv",
                                fmt::format("{}\n", column_name(loaded.columns_used, "item")),
                                fmt::to_string(lines));
  }
  const std::uint64_t rows_out = split.train.size() + split.test.size();
  ctx.metrics().record({"write", rows_out, rows_out, 0, clock.seconds()});
  std::uint64_t train = comm::allreduce_sum<std::uint64_t>(ctx.comm(), split.train.size());
  std::uint64_t test = comm::allreduce_sum<std::uint64_t>(ctx.comm(), split.test.size());
  ctx.log().info("{} split (seed {}): {} train and {} test interactions{} -> {}",
                 ops::split::split_method_name(options.method), options.seed, train, test,
                 options.method == ops::split::SplitMethod::kFewShot
                     ? fmt::format(", {} probe items", split.probe_items.size())
                     : "",
                 out.string());
  return 0;
}

const SubcommandRegistration registration(Subcommand{
    "split", "train/test split of interactions (random, leave-k-out, temporal, few-shot)", add_options, run});

}  // namespace
}  // namespace tailflow::jobs
