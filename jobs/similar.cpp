// `tailflow similar`: for chosen items (or all), the K most similar items by cosine of their ALS vectors,
// the item itself excluded. Exact and distributed (operators/knn/distributed_scorer.hpp).
#include <fmt/format.h>

#include <unordered_set>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/sharded_reader.hpp"
#include "jobs/embedding_side.hpp"
#include "jobs/id_list_file.hpp"
#include "jobs/ranked_output.hpp"
#include "jobs/subcommand.hpp"
#include "operators/knn/distributed_scorer.hpp"

namespace tailflow::jobs {
namespace {

int run_similar(Context& ctx, const po::variables_map& values) {
  const std::filesystem::path out = values["out"].as<std::string>();
  prepare_output_directory(ctx, out);
  io::ShardedReader embeddings(values["embeddings"].as<std::string>());
  EmbeddingSide items = read_embedding_side(ctx, embeddings, "items");

  std::vector<std::uint64_t> local_queries;
  const std::string choice = values["items"].as<std::string>();
  if (choice == "all") {
    for (std::uint64_t row = 0; row < items.local_rows(); ++row) local_queries.push_back(row);
  } else {
    const auto wanted = read_id_list(choice, kItemIdColumnNames);
    local_queries = rows_with_ids(items.ids, std::unordered_set<std::string>(wanted.begin(), wanted.end()));
    const auto found = comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(local_queries.size()));
    ctx.log().info("similar: {} of the {} items in {} have embeddings", found, wanted.size(), choice);
  }
  std::vector<ops::ItemIndex> global_queries;
  std::vector<std::string> query_ids;
  for (auto row : local_queries) {
    global_queries.push_back(static_cast<ops::ItemIndex>(items.first_row + row));
    query_ids.push_back(items.ids[row]);
  }

  ops::knn::ScoringOptions options;
  options.k = values["k"].as<std::size_t>();
  options.seed = values["seed"].as<std::uint64_t>();
  if (options.k == 0) throw Error("--k must be at least 1");
  const auto lists = ops::knn::similar_items(ctx, ops::knn::FactorSlice{items.vectors, items.first_row},
                                             global_queries, options);
  const auto item_ids = embeddings.read_all_strings("items/ids");
  write_ranked_lists(ctx, out, {"item_id", "rank", "similar_item_id", "score"}, query_ids, lists, item_ids);
  const auto total = comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(lists.size()));
  ctx.log().info("similar: {} most similar items for {} items -> {}", options.k, total, out.string());
  return 0;
}

const SubcommandRegistration registration{
    Subcommand{"similar", "top-K most similar items by cosine of ALS item embeddings",
               [](po::options_description& options) {
                 options.add_options()("embeddings", po::value<std::string>()->required(),
                                       "embeddings master file (DIR/embeddings.h5 of `tailflow als`)")(
                     "items", po::value<std::string>()->default_value("all"),
                     "'all', or a file of item ids (one per line, or CSV/TSV with an item column)")(
                     "k", po::value<std::size_t>()->default_value(10), "similar items per item")(
                     "seed", po::value<std::uint64_t>()->default_value(0),
                     "seed of the tie-breaking order of equal scores")(
                     "out", po::value<std::string>()->required(),
                     "output: CSV item_id,rank,similar_item_id,score, or sharded HDF5 when it ends in .h5");
               },
               run_similar}};

}  // namespace
}  // namespace tailflow::jobs
