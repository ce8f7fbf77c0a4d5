#include "operators/features/feature_cache.hpp"

#include <fmt/format.h>

#include <fstream>
#include <numeric>
#include <span>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/sharded_reader.hpp"
#include "engine/io/sharded_writer.hpp"
#include "engine/stable_hash.hpp"
#include "operators/features/name_list.hpp"
#include "operators/features/shared_tables_writer.hpp"

namespace tailflow::ops::features {

namespace {

constexpr std::int64_t kFormat = 2;

std::uint64_t hash_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read input file '{}'", path));
  std::string chunk(1 << 20, '\0');
  std::uint64_t hash = stable_hash(std::string_view("file"));
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    hash = combine_hashes(hash, stable_hash(std::string_view(chunk.data(), got)));
  }
  return hash;
}

std::vector<std::int64_t> lengths_of(const SparseRows& rows) {
  std::vector<std::int64_t> lengths(rows.rows());
  for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = rows.offsets[i + 1] - rows.offsets[i];
  return lengths;
}

// Rank 0's rows only: global tables written once.
template <class T>
std::vector<T> on_root(const Context& ctx, const std::vector<T>& values) {
  return ctx.is_root() ? values : std::vector<T>{};
}

void write_sparse(io::ShardedWriter& out, const std::string& prefix, const SparseRows& rows) {
  out.write<std::int64_t>(prefix + "/lengths", lengths_of(rows));
  out.write<std::int64_t>(prefix + "/ids", rows.ids);
  out.write<float>(prefix + "/weights", rows.weights);
}

SparseRows read_sparse(const io::ShardedReader& in, const std::string& prefix, const io::RowRange& share) {
  auto lengths = in.read_all<std::int64_t>(prefix + "/lengths");
  std::uint64_t first = std::accumulate(
      lengths.begin(), lengths.begin() + static_cast<std::ptrdiff_t>(share.first), std::uint64_t{0});
  SparseRows rows;
  for (std::uint64_t i = share.first; i < share.first + share.count; ++i)
    rows.offsets.push_back(rows.offsets.back() + lengths[i]);
  const auto count = static_cast<std::uint64_t>(rows.offsets.back());
  rows.ids = in.read_rows<std::int64_t>(prefix + "/ids", first, count);
  rows.weights = in.read_rows<float>(prefix + "/weights", first, count);
  return rows;
}

}  // namespace

std::string file_digest(const std::string& path) {
  return fmt::format("{:016x}", hash_file(path));
}

std::string feature_fingerprint(Context& ctx, const std::vector<std::string>& input_files,
                                const std::string& settings) {
  std::string digest, error;
  if (ctx.is_root()) {
    try {
      std::uint64_t hash = stable_hash_of(std::string("tailflow features"), kFormat, settings);
      for (const auto& file : input_files) hash = combine_hashes(hash, hash_file(file));
      digest = fmt::format("{:016x}", hash);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  ctx.check_collectively(error);
  return comm::broadcast_string(ctx.comm(), digest, 0);
}

std::optional<std::string> stored_fingerprint(Context& ctx, const std::filesystem::path& master_path) {
  std::string stored;
  if (ctx.is_root() && std::filesystem::exists(master_path)) {
    try {
      io::ShardedReader in(master_path);  // validates every shard
      if (in.master().has_attribute("/", "fingerprint") &&
          in.master().attribute<std::int64_t>("/", "features_format") == kFormat)
        stored = in.master().string_attribute("/", "fingerprint");
    } catch (const Error&) {
      stored.clear();  // unreadable or incomplete: recompute
    }
  }
  stored = comm::broadcast_string(ctx.comm(), stored, 0);
  return stored.empty() ? std::nullopt : std::optional<std::string>(stored);
}

void write_features(Context& ctx, const std::filesystem::path& master_path, const ItemFeatureBlock& block,
                    const std::string& fingerprint, const std::string& settings, const std::string& recipe) {
  io::ShardedWriter out(ctx, master_path);
  out.write_strings("items/ids", block.ids);
  out.write<std::uint64_t>("items/interactions", block.interaction_counts);
  out.write<std::uint8_t>("items/in_catalog", block.in_catalog);
  if (block.text_buckets > 0) write_sparse(out, "text", block.text);
  for (const auto& column : block.categorical)
    out.write<std::int64_t>("categorical/" + column.name + "/ids", column.ids);
  for (const auto& column : block.multi_valued) write_sparse(out, "multi/" + column.name, column.values);
  if (!block.numeric_columns.empty())
    out.write_matrix<float>("numeric/values", block.numeric, block.numeric_columns.size());
  if (block.image_shape.channels > 0)
    out.write_matrix<float>("images/pixels", block.images, block.image_shape.values());
  if (block.token_length > 0) {
    out.write_matrix<std::int32_t>("tokens/ids", block.token_ids,
                                   static_cast<std::uint64_t>(block.token_length));
    out.write_matrix<std::uint8_t>("tokens/attention_mask", block.attention_mask,
                                   static_cast<std::uint64_t>(block.token_length));
  }
  for (const auto& dense : block.dense)
    out.write_matrix<float>("dense/" + dense.name + "/values", dense.values,
                            static_cast<std::uint64_t>(dense.dims));
  write_shared_tables(out, block, [&](const auto& values) { return on_root(ctx, values); });
  out.set_attribute("/", "features_format", kFormat);
  out.set_attribute("/", "recipe", recipe);
  out.set_attribute("/", "fingerprint", fingerprint);
  out.set_attribute("/", "settings", settings);
  out.set_attribute("/", "total_items", block.total_items);
  out.commit();
}

namespace {

// The global tables and block-level settings of an open feature file (no rows).
ItemFeatureBlock read_tables(const io::ShardedReader& in) {
  const auto& master = in.master();
  if (!master.has_attribute("/", "features_format"))
    throw Error(fmt::format("'{}' is not a feature file of `tailflow features`", in.path().string()));
  auto optional_int = [&](const char* name) {
    return master.has_attribute("/", name) ? master.attribute<std::int64_t>("/", name) : std::int64_t{0};
  };
  auto optional_names = [&](const char* name) {
    return master.has_attribute("/", name) ? split_names(master.string_attribute("/", name))
                                           : std::vector<std::string>{};
  };
  ItemFeatureBlock block;
  block.total_items = master.attribute<std::uint64_t>("/", "total_items");
  block.text_buckets = master.attribute<std::int64_t>("/", "text_buckets");
  if (block.text_buckets > 0) block.idf = in.read_all<float>("text/idf");
  block.category_levels = static_cast<int>(optional_int("category_levels"));
  block.title_years = optional_int("title_years") != 0;
  for (const auto& name : split_names(master.string_attribute("/", "categorical_columns")))
    block.categorical.push_back({name, in.read_all_strings("categorical/" + name + "/vocabulary"), {}});
  for (const auto& name : split_names(master.string_attribute("/", "multi_valued_columns")))
    block.multi_valued.push_back({name, in.read_all_strings("multi/" + name + "/vocabulary"), {}});
  if (in.has_dataset("numeric/values")) {
    auto names = in.read_all_strings("numeric/names");
    auto means = in.read_all<double>("numeric/mean");
    auto stddevs = in.read_all<double>("numeric/stddev");
    auto missing = in.read_all<std::uint64_t>("numeric/missing");
    for (std::size_t c = 0; c < names.size(); ++c)
      block.numeric_columns.push_back({names[c], means[c], stddevs[c], missing[c]});
  }
  block.image_shape = {static_cast<int>(master.attribute<std::int64_t>("/", "image_channels")),
                       static_cast<int>(master.attribute<std::int64_t>("/", "image_height")),
                       static_cast<int>(master.attribute<std::int64_t>("/", "image_width"))};
  block.token_length = static_cast<int>(master.attribute<std::int64_t>("/", "token_length"));
  for (const auto& name : optional_names("dense_blocks"))
    block.dense.push_back({name, static_cast<std::int64_t>(in.cols("dense/" + name + "/values")), {}});
  return block;
}

}  // namespace

StoredTables read_feature_tables(const std::filesystem::path& master_path) {
  io::ShardedReader in(master_path);
  StoredTables stored;
  stored.tables = read_tables(in);
  stored.tables.total_items = 0;
  const auto& master = in.master();
  if (master.has_attribute("/", "fingerprint"))
    stored.fingerprint = master.string_attribute("/", "fingerprint");
  if (master.has_attribute("/", "recipe")) stored.recipe = master.string_attribute("/", "recipe");
  return stored;
}

ItemFeatureBlock read_features(const std::filesystem::path& master_path, int rank, int ranks) {
  io::ShardedReader in(master_path);
  ItemFeatureBlock block = read_tables(in);
  const auto share = io::balanced_share(block.total_items, rank, ranks);
  block.first_row = share.first;
  block.ids = in.read_string_rows("items/ids", share.first, share.count);
  block.interaction_counts = in.read_rows<std::uint64_t>("items/interactions", share.first, share.count);
  block.in_catalog = in.read_rows<std::uint8_t>("items/in_catalog", share.first, share.count);
  if (block.text_buckets > 0) block.text = read_sparse(in, "text", share);
  for (auto& column : block.categorical)
    column.ids = in.read_rows<std::int64_t>("categorical/" + column.name + "/ids", share.first, share.count);
  for (auto& column : block.multi_valued) column.values = read_sparse(in, "multi/" + column.name, share);
  if (in.has_dataset("numeric/values"))
    block.numeric = in.read_rows<float>("numeric/values", share.first, share.count);
  if (block.image_shape.channels > 0)
    block.images = in.read_rows<float>("images/pixels", share.first, share.count);
  if (block.token_length > 0) {
    block.token_ids = in.read_rows<std::int32_t>("tokens/ids", share.first, share.count);
    block.attention_mask = in.read_rows<std::uint8_t>("tokens/attention_mask", share.first, share.count);
  }
  for (auto& dense : block.dense)
    dense.values = in.read_rows<float>("dense/" + dense.name + "/values", share.first, share.count);
  return block;
}

std::string FeatureSummary::describe() const {
  std::string text = fmt::format("items {} ({} in the catalog), text: {} items with terms, {} non-zeros",
                                 items, items_in_catalog, items_with_text, text_nnz);
  for (const auto& [name, size] : vocabulary_sizes) text += fmt::format(", {} vocabulary {}", name, size);
  if (!numeric_columns.empty()) {
    std::string names;
    for (const auto& name : numeric_columns) names += (names.empty() ? "" : " ") + name;
    text += fmt::format(", numeric: {}", names);
  }
  return text;
}

FeatureSummary summarise(Context& ctx, const ItemFeatureBlock& block) {
  std::uint64_t counts[4] = {block.local_rows(), 0, 0, block.text.nnz()};
  for (auto flag : block.in_catalog) counts[1] += flag;
  for (std::size_t i = 0; i + 1 < block.text.offsets.size(); ++i)
    counts[2] += block.text.offsets[i + 1] > block.text.offsets[i];
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(counts), comm::ReduceOp::kSum);
  FeatureSummary summary{counts[0], counts[1], counts[2], counts[3], {}, {}};
  for (const auto& column : block.categorical)
    summary.vocabulary_sizes.emplace_back(column.name, column.vocabulary.size());
  for (const auto& column : block.multi_valued)
    summary.vocabulary_sizes.emplace_back(column.name, column.vocabulary.size());
  for (const auto& column : block.numeric_columns) summary.numeric_columns.push_back(column.name);
  return summary;
}

}  // namespace tailflow::ops::features
