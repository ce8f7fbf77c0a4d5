#include "jobs/embedding_side.hpp"

#include <fmt/format.h>

#include <string_view>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::jobs {

EmbeddingSide read_embedding_side(Context& ctx, const io::ShardedReader& embeddings,
                                  const std::string& side) {
  const std::string vectors = side + "/vectors", ids = side + "/ids";
  for (const auto& dataset : {vectors, ids})
    if (!embeddings.has_dataset(dataset))
      throw Error(fmt::format("{}: no dataset '{}' (is it an embeddings file written by `tailflow als`?)",
                              embeddings.path().string(), dataset));
  EmbeddingSide result;
  result.name = side;
  result.total_rows = embeddings.rows(vectors);
  if (embeddings.rows(ids) != result.total_rows)
    throw Error(fmt::format("{}: {} has {} rows but {} has {}", embeddings.path().string(), ids,
                            embeddings.rows(ids), vectors, result.total_rows));
  const io::RowRange share = embeddings.share(vectors, ctx.rank(), ctx.size());
  result.first_row = share.first;
  result.ids = embeddings.read_string_rows(ids, share.first, share.count);
  const auto factors = static_cast<Eigen::Index>(embeddings.cols(vectors));
  const auto values = embeddings.read_rows<float>(vectors, share.first, share.count);
  result.vectors =
      Eigen::Map<const ops::knn::RowMatrix>(values.data(), static_cast<Eigen::Index>(share.count), factors);
  result.has_biases = embeddings.has_dataset(side + "/biases");
  if (result.has_biases)
    result.biases = embeddings.read_rows<float>(side + "/biases", share.first, share.count);
  if (embeddings.has_dataset(side + "/counts"))
    result.counts = embeddings.read_rows<std::uint32_t>(side + "/counts", share.first, share.count);
  return result;
}

std::vector<std::uint32_t> embedding_rows_of(Context& ctx, const EmbeddingSide& side,
                                             const io::IdDictionary& dictionary) {
  // Look up this rank's embedding ids in the file's dictionary; every rank then learns every match.
  std::vector<std::string_view> ids(side.ids.begin(), side.ids.end());
  const std::vector<io::DenseIndex> indices = dictionary.lookup(ctx, ids);
  std::vector<std::uint32_t> pairs;  // (dictionary index, embedding row), flattened
  for (std::size_t row = 0; row < indices.size(); ++row) {
    if (indices[row] == io::kNoIndex) continue;
    pairs.push_back(indices[row]);
    pairs.push_back(static_cast<std::uint32_t>(side.first_row + row));
  }
  const auto all_pairs = comm::allgatherv(ctx.comm(), std::span<const std::uint32_t>(pairs));
  std::vector<std::uint32_t> rows(dictionary.size(), kNoRow);
  for (std::size_t i = 0; i < all_pairs.size(); i += 2) rows[all_pairs[i]] = all_pairs[i + 1];
  return rows;
}

InteractionsInRows to_embedding_rows(const std::vector<ops::Interaction>& interactions,
                                     const std::vector<std::uint32_t>& user_rows,
                                     const std::vector<std::uint32_t>& item_rows) {
  InteractionsInRows result;
  result.rows.reserve(interactions.size());
  for (const auto& interaction : interactions) {
    const std::uint32_t user = user_rows[interaction.user], item = item_rows[interaction.item];
    if (user == kNoRow) {
      ++result.unknown_user;
    } else if (item == kNoRow) {
      ++result.unknown_item;
    } else {
      result.rows.push_back({user, item, interaction.value, interaction.time});
    }
  }
  return result;
}

void append_item_bias_column(ops::knn::RowMatrix& queries, ops::knn::RowMatrix& items,
                             const std::vector<float>& item_biases) {
  if (item_biases.size() != static_cast<std::size_t>(items.rows()))
    throw Error(fmt::format("{} item biases for {} item rows", item_biases.size(), items.rows()));
  queries.conservativeResize(Eigen::NoChange, queries.cols() + 1);
  queries.col(queries.cols() - 1).setOnes();
  items.conservativeResize(Eigen::NoChange, items.cols() + 1);
  items.col(items.cols() - 1) =
      Eigen::Map<const Eigen::VectorXf>(item_biases.data(), static_cast<Eigen::Index>(item_biases.size()));
}

ops::knn::RowMatrix select_rows(const ops::knn::RowMatrix& vectors,
                                const std::vector<std::uint64_t>& local_rows) {
  ops::knn::RowMatrix selected(static_cast<Eigen::Index>(local_rows.size()), vectors.cols());
  for (std::size_t i = 0; i < local_rows.size(); ++i)
    selected.row(static_cast<Eigen::Index>(i)) = vectors.row(static_cast<Eigen::Index>(local_rows[i]));
  return selected;
}

}  // namespace tailflow::jobs
