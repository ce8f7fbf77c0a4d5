#include "operators/features/feature_tables.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/io/hdf5_file.hpp"
#include "operators/features/feature_cache.hpp"
#include "operators/features/feature_extraction.hpp"
#include "operators/features/name_list.hpp"
#include "operators/features/shared_tables_writer.hpp"

namespace tailflow::ops::features {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTablesFile = "feature_tables.h5";
constexpr const char* kVocabularyFile = "wordpiece_vocab.txt";
constexpr std::int64_t kFormat = 1;

void write_tables(io::Hdf5File& file, const ItemFeatureBlock& tables) {
  write_shared_tables(
      file, tables, [](const auto& values) -> const auto& { return values; });
  std::vector<std::int64_t> dense_dims;
  for (const auto& block : tables.dense) dense_dims.push_back(block.dims);
  if (!dense_dims.empty()) file.set_attribute("/", "dense_dims", dense_dims);
}

ItemFeatureBlock read_tables(const io::Hdf5File& file) {
  ItemFeatureBlock tables;
  tables.text_buckets = file.attribute<std::int64_t>("/", "text_buckets");
  if (tables.text_buckets > 0) tables.idf = file.read<float>("text/idf");
  tables.token_length = static_cast<int>(file.attribute<std::int64_t>("/", "token_length"));
  tables.image_shape = {static_cast<int>(file.attribute<std::int64_t>("/", "image_channels")),
                        static_cast<int>(file.attribute<std::int64_t>("/", "image_height")),
                        static_cast<int>(file.attribute<std::int64_t>("/", "image_width"))};
  tables.category_levels = static_cast<int>(file.attribute<std::int64_t>("/", "category_levels"));
  tables.title_years = file.attribute<std::int64_t>("/", "title_years") != 0;
  for (const auto& name : split_names(file.string_attribute("/", "categorical_columns")))
    tables.categorical.push_back({name, file.read_strings("categorical/" + name + "/vocabulary"), {}});
  for (const auto& name : split_names(file.string_attribute("/", "multi_valued_columns")))
    tables.multi_valued.push_back({name, file.read_strings("multi/" + name + "/vocabulary"), {}});
  if (file.exists("numeric/names")) {
    auto names = file.read_strings("numeric/names");
    auto means = file.read<double>("numeric/mean");
    auto stddevs = file.read<double>("numeric/stddev");
    auto missing = file.read<std::uint64_t>("numeric/missing");
    for (std::size_t c = 0; c < names.size(); ++c)
      tables.numeric_columns.push_back({names[c], means[c], stddevs[c], missing[c]});
  }
  auto dense = split_names(file.string_attribute("/", "dense_blocks"));
  auto dims =
      dense.empty() ? std::vector<std::int64_t>{} : file.vector_attribute<std::int64_t>("/", "dense_dims");
  if (dims.size() != dense.size())
    throw Error(fmt::format("'{}': {} dense blocks but {} widths", file.path(), dense.size(), dims.size()));
  for (std::size_t i = 0; i < dense.size(); ++i) tables.dense.push_back({dense[i], dims[i], {}});
  return tables;
}

}  // namespace

void save_featurizer(const fs::path& features_master, const fs::path& model_dir) {
  StoredTables stored = read_feature_tables(features_master);
  if (stored.recipe.empty())
    throw Error(fmt::format(
        "'{}' holds no feature recipe (it was written by an older tailflow): run `tailflow features` again "
        "(with --force) so that the model can embed new items with `tailflow embed --items`",
        features_master.string()));
  FeatureRecipe recipe = recipe_from_text(stored.recipe);  // validates it
  fs::create_directories(model_dir);
  if (!recipe.features.wordpiece_vocab.empty()) {
    if (file_digest(recipe.features.wordpiece_vocab) != recipe.wordpiece_digest)
      throw Error(fmt::format("'{}' changed since the features were computed; run `tailflow features` again",
                              recipe.features.wordpiece_vocab));
    io::AtomicOutput copy(model_dir / kVocabularyFile);
    fs::copy_file(recipe.features.wordpiece_vocab, copy.temporary_path(),
                  fs::copy_options::overwrite_existing);
    copy.commit();
  }
  io::AtomicOutput output(model_dir / kTablesFile);
  {
    auto file = io::Hdf5File::create(output.temporary_path());
    write_tables(file, stored.tables);
    file.set_attribute("/", "format", kFormat);
    file.set_attribute("/", "recipe", stored.recipe);
    file.set_attribute("/", "features_fingerprint", stored.fingerprint);
    file.set_attribute("/", "features", fs::absolute(features_master).string());
    file.close();
  }
  output.commit();
}

bool has_featurizer(const fs::path& model_dir) {
  return fs::exists(model_dir / kTablesFile);
}

Featurizer load_featurizer(const fs::path& model_dir) {
  const fs::path path = model_dir / kTablesFile;
  if (!fs::exists(path))
    throw Error(fmt::format(
        "'{}' has no {}: the model was trained before models carried their feature tables; train it again "
        "to embed new items with --items (or use --features DIR)",
        model_dir.string(), kTablesFile));
  auto file = io::Hdf5File::open(path);
  if (file.attribute<std::int64_t>("/", "format") != kFormat)
    throw Error(
        fmt::format("'{}': unknown format {}", path.string(), file.attribute<std::int64_t>("/", "format")));
  Featurizer featurizer;
  featurizer.tables = read_tables(file);
  featurizer.recipe = recipe_from_text(file.string_attribute("/", "recipe"));
  featurizer.features_fingerprint = file.string_attribute("/", "features_fingerprint");
  auto& vocab = featurizer.recipe.features.wordpiece_vocab;
  if (!vocab.empty()) {
    vocab = (model_dir / kVocabularyFile).string();
    if (file_digest(vocab) != featurizer.recipe.wordpiece_digest)
      throw Error(
          fmt::format("'{}' differs from the vocab.txt the model's features were computed with", vocab));
  }
  return featurizer;
}

std::string table_difference(const ItemFeatureBlock& a, const ItemFeatureBlock& b) {
  if (a.text_buckets != b.text_buckets || a.idf != b.idf) return "the text idf tables differ";
  if (a.category_levels != b.category_levels || a.title_years != b.title_years)
    return "the category levels or title years differ";
  auto names = [](const auto& columns) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& column : columns) out.emplace_back(column.name, column.vocabulary);
    return out;
  };
  if (names(a.categorical) != names(b.categorical) || names(a.multi_valued) != names(b.multi_valued))
    return "the categorical vocabularies differ";
  if (a.numeric_columns.size() != b.numeric_columns.size()) return "the numeric columns differ";
  for (std::size_t c = 0; c < a.numeric_columns.size(); ++c) {
    const auto &x = a.numeric_columns[c], &y = b.numeric_columns[c];
    if (x.name != y.name || x.mean != y.mean || x.stddev != y.stddev)
      return fmt::format("the numeric column '{}' differs (name, mean or standard deviation)", x.name);
  }
  if (a.image_shape.values() != b.image_shape.values() || a.image_shape.channels != b.image_shape.channels)
    return "the image shapes differ";
  if (a.token_length != b.token_length) return "the WordPiece lengths differ";
  if (a.dense.size() != b.dense.size()) return "the pretrained encoder blocks differ";
  for (std::size_t d = 0; d < a.dense.size(); ++d)
    if (a.dense[d].name != b.dense[d].name || a.dense[d].dims != b.dense[d].dims)
      return "the pretrained encoder blocks differ";
  return "";
}

}  // namespace tailflow::ops::features
