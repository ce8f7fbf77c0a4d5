#include "jobs/evaluation_sources.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/id_dictionary.hpp"
#include "operators/knn/content_knn.hpp"
#include "operators/knn/row_fetch.hpp"

namespace tailflow::jobs {

using ops::knn::RowMatrix;

SourceOption parse_source_option(const std::string& text) {
  const auto equals = text.find('=');
  const std::string name = text.substr(0, equals);
  const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (equals == std::string::npos || !name_ok || equals + 1 == text.size())
    throw Error(fmt::format(
        "--source '{}': expected NAME=FILE, e.g. content=out/content.h5 (NAME: letters, digits, - _ .)",
        text));
  return {name, text.substr(equals + 1)};
}

ItemUniverse::ItemUniverse(const std::vector<const io::ShardedReader*>& files) {
  std::unordered_map<std::string, std::uint64_t> row_of;
  for (std::size_t file = 0; file < files.size(); ++file) {
    const io::ShardedReader& reader = *files[file];
    const std::string path = reader.path().string();
    for (const char* dataset : {"items/ids", "items/vectors"})
      if (!reader.has_dataset(dataset))
        throw Error(fmt::format(
            "{}: no dataset '{}' (is it an embeddings file of `tailflow als` or `embed`?)", path, dataset));
    if (reader.rows("items/ids") != reader.rows("items/vectors"))
      throw Error(fmt::format("{}: items/ids has {} rows but items/vectors has {}", path,
                              reader.rows("items/ids"), reader.rows("items/vectors")));
    const auto file_ids = reader.read_all_strings("items/ids");
    std::vector<std::uint64_t> file_row_of_item(file_ids.size());  // file row -> universe row
    for (std::uint64_t row = 0; row < file_ids.size(); ++row) {
      auto [found, added] = row_of.try_emplace(file_ids[row], ids_.size());
      if (added) ids_.push_back(file_ids[row]);
      file_row_of_item[row] = found->second;
    }
    if (file == 0) main_rows_ = ids_.size();
    std::vector<std::uint64_t> rows(ids_.size(), kNotInFile);  // grown below for later files' new ids
    for (std::uint64_t row = 0; row < file_ids.size(); ++row) {
      if (rows[file_row_of_item[row]] != kNotInFile)
        throw Error(fmt::format("{}: item id '{}' occurs twice in items/ids", path, file_ids[row]));
      rows[file_row_of_item[row]] = row;
    }
    rows_in_files_.push_back(std::move(rows));
  }
  for (auto& rows : rows_in_files_) rows.resize(ids_.size(), kNotInFile);
}

EmbeddingSide universe_share(Context& ctx, const ItemUniverse& universe) {
  const io::RowRange share = io::balanced_share(universe.size(), ctx.rank(), ctx.size());
  EmbeddingSide side;
  side.name = "items";
  side.total_rows = universe.size();
  side.first_row = share.first;
  side.ids.assign(universe.ids().begin() + static_cast<std::ptrdiff_t>(share.first),
                  universe.ids().begin() + static_cast<std::ptrdiff_t>(share.first + share.count));
  return side;
}

namespace {

// Rows `wanted` (file rows; kNotInFile gives a zero row) of a 1-D or 2-D dataset of `reader`, fetched from
// the ranks that read their balanced shares.
RowMatrix fetch_file_rows(Context& ctx, const io::ShardedReader& reader, const std::string& dataset,
                          const std::vector<std::uint64_t>& wanted) {
  const auto share = reader.share(dataset, ctx.rank(), ctx.size());
  const auto cols = static_cast<Eigen::Index>(reader.cols(dataset));
  const auto values = reader.read_rows<float>(dataset, share.first, share.count);
  const Eigen::Map<const RowMatrix> mine(values.data(), static_cast<Eigen::Index>(share.count), cols);
  std::vector<std::uint64_t> present;
  for (const auto row : wanted)
    if (row != kNotInFile) present.push_back(row);
  const RowMatrix fetched = ops::knn::fetch_rows(ctx, ops::knn::FactorSlice{mine, share.first}, present);
  RowMatrix result = RowMatrix::Zero(static_cast<Eigen::Index>(wanted.size()), cols);
  for (std::size_t i = 0, next = 0; i < wanted.size(); ++i)
    if (wanted[i] != kNotInFile)
      result.row(static_cast<Eigen::Index>(i)) = fetched.row(static_cast<Eigen::Index>(next++));
  return result;
}

// The file rows of the query users, found by external id (kNotInFile where the file lacks the user).
std::vector<std::uint64_t> user_rows_in_file(Context& ctx, const EmbeddingSide& file_users,
                                             const EmbeddingSide& main_users,
                                             const std::vector<std::uint64_t>& query_rows) {
  std::vector<std::string_view> ids;
  for (const auto row : query_rows) ids.push_back(main_users.ids[row]);
  std::vector<io::DenseIndex> indices;
  const io::IdDictionary dictionary = io::IdDictionary::build(ctx, ids, &indices);
  const auto rows = embedding_rows_of(ctx, file_users, dictionary);
  std::vector<std::uint64_t> result;
  for (const auto index : indices) result.push_back(rows[index] == kNoRow ? kNotInFile : rows[index]);
  return result;
}

}  // namespace

SourceVectors read_source_vectors(Context& ctx, const io::ShardedReader& reader, std::size_t file,
                                  const ItemUniverse& universe, const EmbeddingSide& items,
                                  const EmbeddingSide& main_users,
                                  const std::vector<std::uint64_t>& query_rows) {
  const std::string path = reader.path().string();
  SourceVectors source;
  std::vector<std::uint64_t> wanted;
  for (std::uint64_t row = 0; row < items.local_rows(); ++row) {
    wanted.push_back(universe.row_in_file(file, items.first_row + row));
    source.missing.push_back(wanted.back() == kNotInFile ? 1 : 0);
  }
  source.items_missing = comm::allreduce_sum(
      ctx.comm(), static_cast<std::uint64_t>(std::count(source.missing.begin(), source.missing.end(), 1)));
  source.items = fetch_file_rows(ctx, reader, "items/vectors", wanted);

  const bool own_users = reader.has_dataset("users/ids") && reader.has_dataset("users/vectors");
  if (file == 0 || !own_users) {
    source.users_from = "--embeddings";
    source.queries = select_rows(main_users.vectors, query_rows);
  } else {
    const EmbeddingSide file_users = read_embedding_side(ctx, reader, "users");
    const auto rows = user_rows_in_file(ctx, file_users, main_users, query_rows);
    source.users_missing = comm::allreduce_sum(
        ctx.comm(), static_cast<std::uint64_t>(std::count(rows.begin(), rows.end(), kNotInFile)));
    source.users_from = path;
    const io::RowRange share{file_users.first_row, file_users.local_rows()};
    RowMatrix fetched =
        ops::knn::fetch_rows(ctx, ops::knn::FactorSlice{file_users.vectors, share.first}, [&] {
          std::vector<std::uint64_t> present;
          for (const auto row : rows)
            if (row != kNotInFile) present.push_back(row);
          return present;
        }());
    source.queries = RowMatrix::Zero(static_cast<Eigen::Index>(rows.size()),
                                     static_cast<Eigen::Index>(reader.cols("users/vectors")));
    for (std::size_t q = 0, next = 0; q < rows.size(); ++q)
      if (rows[q] != kNotInFile)
        source.queries.row(static_cast<Eigen::Index>(q)) = fetched.row(static_cast<Eigen::Index>(next++));
  }
  const auto user_dims = file == 0 || !own_users ? static_cast<std::uint64_t>(main_users.vectors.cols())
                                                 : reader.cols("users/vectors");
  if (user_dims != reader.cols("items/vectors"))
    throw CollectiveError(fmt::format(
        "{}: items have {} factors but the users ({}) have {}; a source without users/* needs the factor "
        "count of --embeddings",
        path, reader.cols("items/vectors"), source.users_from, user_dims));

  source.item_biases = reader.has_dataset("items/biases");
  if (source.item_biases) {
    const RowMatrix biases = fetch_file_rows(ctx, reader, "items/biases", wanted);
    append_item_bias_column(source.queries, source.items,
                            std::vector<float>(biases.data(), biases.data() + biases.size()));
  }
  if (source.items_missing > 0) {
    // A column of ones against 0 (present) or kMissingItemScore (missing): missing items score exactly
    // kMissingItemScore, as their other columns are 0.
    std::vector<float> penalty(source.missing.size(), 0.0f);
    for (std::size_t row = 0; row < penalty.size(); ++row)
      if (source.missing[row]) penalty[row] = ops::knn::kMissingItemScore;
    append_item_bias_column(source.queries, source.items, penalty);
  }
  return source;
}

}  // namespace tailflow::jobs
