// `tailflow recommend`: the top-K items for chosen users (or all users) by the dot product of their ALS
// vectors, never an item the user already interacted with (--exclude, usually the training file).
//
// Exact and distributed: every rank reads its share of the user and item vectors; the knn scorer passes
// query blocks around so that each rank scores its item rows for every query (operators/knn). With item
// biases in the embeddings (explicit ALS with --biases) the score is user·item + item bias: the user's own
// bias and the global mean do not change a user's ranking.
#include <fmt/format.h>

#include <unordered_set>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/sharded_reader.hpp"
#include "jobs/embedding_side.hpp"
#include "jobs/id_list_file.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/ranked_output.hpp"
#include "jobs/subcommand.hpp"
#include "operators/knn/distributed_scorer.hpp"
#include "operators/knn/exclusion_lists.hpp"

namespace tailflow::jobs {
namespace {

using ops::knn::RowMatrix;

// Local rows of the users asked for: all, or those of the --users file that this rank holds.
std::vector<std::uint64_t> chosen_users(Context& ctx, const EmbeddingSide& users, const std::string& choice) {
  std::vector<std::uint64_t> rows;
  if (choice == "all") {
    for (std::uint64_t row = 0; row < users.local_rows(); ++row) rows.push_back(row);
    return rows;
  }
  const auto wanted = read_id_list(choice, kUserIdColumnNames);
  rows = rows_with_ids(users.ids, std::unordered_set<std::string>(wanted.begin(), wanted.end()));
  const auto found = comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(rows.size()));
  ctx.log().info("recommend: {} of the {} users in {} have embeddings", found, wanted.size(), choice);
  if (found < wanted.size())
    ctx.log().info("recommend: {} users have no embedding and get no recommendations", wanted.size() - found);
  return rows;
}

// Each chosen user's items in the --exclude file, as global item rows.
ops::knn::ExclusionLists seen_in_file(Context& ctx, const po::variables_map& values,
                                      const EmbeddingSide& users, const EmbeddingSide& items,
                                      const std::vector<std::uint64_t>& global_queries) {
  auto load_options = interaction_load_options(values);
  load_options.path = values["exclude"].as<std::string>();
  auto loaded = ops::data::load_interactions(ctx, load_options);
  const auto user_rows = embedding_rows_of(ctx, users, loaded.users);
  const auto item_rows = embedding_rows_of(ctx, items, loaded.items);
  const auto in_rows = to_embedding_rows(loaded.local, user_rows, item_rows);
  const auto unknown_item = comm::allreduce_sum(ctx.comm(), in_rows.unknown_item);
  ctx.log().info("recommend: excluding {} interactions of {}", loaded.total, load_options.path);
  if (unknown_item > 0)
    ctx.log().info("recommend: {} interactions in {} name items without an embedding (nothing to exclude)",
                   unknown_item, load_options.path);
  return ops::knn::seen_items(ctx, in_rows.rows, users.first_row, users.local_rows(), global_queries);
}

int run_recommend(Context& ctx, const po::variables_map& values) {
  if (values.count("interactions"))
    throw Error("recommend reads interactions only from --exclude FILE (the items each user has seen)");
  const std::filesystem::path out = values["out"].as<std::string>();
  prepare_output_directory(ctx, out);
  io::ShardedReader embeddings(values["embeddings"].as<std::string>());
  EmbeddingSide users = read_embedding_side(ctx, embeddings, "users");
  EmbeddingSide items = read_embedding_side(ctx, embeddings, "items");
  if (users.vectors.cols() != items.vectors.cols())
    throw Error(fmt::format("{}: users have {} factors, items {}", embeddings.path().string(),
                            users.vectors.cols(), items.vectors.cols()));

  const auto local_queries = chosen_users(ctx, users, values["users"].as<std::string>());
  std::vector<std::uint64_t> global_queries;
  std::vector<std::string> query_ids;
  for (auto row : local_queries) {
    global_queries.push_back(users.first_row + row);
    query_ids.push_back(users.ids[row]);
  }
  RowMatrix query_vectors = select_rows(users.vectors, local_queries);
  RowMatrix item_vectors = items.vectors;
  if (items.has_biases) append_item_bias_column(query_vectors, item_vectors, items.biases);

  ops::knn::ExclusionLists exclusions;
  const bool exclude = values.count("exclude") > 0;
  if (exclude) exclusions = seen_in_file(ctx, values, users, items, global_queries);

  ops::knn::ScoringOptions options;
  options.k = values["k"].as<std::size_t>();
  options.seed = values["seed"].as<std::uint64_t>();
  if (options.k == 0) throw Error("--k must be at least 1");
  const auto lists = ops::knn::top_k_by_dot_product(ctx, ops::knn::QuerySet{query_vectors, global_queries},
                                                    ops::knn::FactorSlice{item_vectors, items.first_row},
                                                    exclude ? &exclusions : nullptr, options);

  const auto item_ids = embeddings.read_all_strings("items/ids");
  write_ranked_lists(ctx, out, {"user_id", "rank", "item_id", "score"}, query_ids, lists, item_ids);
  const auto total_users = comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(lists.size()));
  ctx.log().info("recommend: top {} items for {} users -> {}", options.k, total_users, out.string());
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "recommend", "top-K items per user by dot product of ALS embeddings, excluding seen items",
    [](po::options_description& options) {
      options.add_options()("embeddings", po::value<std::string>()->required(),
                            "embeddings master file (DIR/embeddings.h5 of `tailflow als`)")(
          "users", po::value<std::string>()->default_value("all"),
          "'all', or a file of user ids (one per line, or CSV/TSV with a user column)")(
          "k", po::value<std::size_t>()->default_value(10), "items per user")(
          "exclude", po::value<std::string>(),
          "interaction file whose (user, item) pairs are never recommended, usually the training file; read "
          "with the interaction options below")("seed", po::value<std::uint64_t>()->default_value(0),
                                                "seed of the tie-breaking order of equal scores")(
          "out", po::value<std::string>()->required(),
          "output: CSV user_id,rank,item_id,score, or sharded HDF5 when it ends in .h5");
      add_interaction_options(options, /*required=*/false);
    },
    run_recommend}};

}  // namespace
}  // namespace tailflow::jobs
