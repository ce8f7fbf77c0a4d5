// The tables every item shares — IDF weights, vocabularies, numeric column statistics, tensor shapes — are
// stored in two places with the same layout: the sharded feature cache (`tailflow features`) and the frozen
// copy a trained model keeps beside its weights (so `tailflow embed --items` featurises new items exactly as
// training did). One writer keeps the two layouts from drifting apart.
//
//   write_shared_tables(sharded_writer, block, [&](const auto& v) { return ctx.is_root() ? v : decltype(v){};
//   }); write_shared_tables(plain_file, block, [](const auto& v) { return v; });
//
// `shared(values)` returns what this process contributes to a table: in a sharded file only rank 0 writes
// the tables (every rank calls, collectively); in a plain file the values themselves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operators/features/item_features.hpp"
#include "operators/features/name_list.hpp"

namespace tailflow::ops::features {

template <class Writer, class Shared>
void write_shared_tables(Writer& out, const ItemFeatureBlock& tables, Shared shared) {
  if (tables.text_buckets > 0) out.template write<float>("text/idf", shared(tables.idf));
  std::vector<std::string> categorical, multi, dense;
  for (const auto& column : tables.categorical) {
    out.write_strings("categorical/" + column.name + "/vocabulary", shared(column.vocabulary));
    categorical.push_back(column.name);
  }
  for (const auto& column : tables.multi_valued) {
    out.write_strings("multi/" + column.name + "/vocabulary", shared(column.vocabulary));
    multi.push_back(column.name);
  }
  if (!tables.numeric_columns.empty()) {
    std::vector<std::string> names;
    std::vector<double> means, stddevs;
    std::vector<std::uint64_t> missing;
    for (const auto& column : tables.numeric_columns) {
      names.push_back(column.name);
      means.push_back(column.mean);
      stddevs.push_back(column.stddev);
      missing.push_back(column.missing);
    }
    out.write_strings("numeric/names", shared(names));
    out.template write<double>("numeric/mean", shared(means));
    out.template write<double>("numeric/stddev", shared(stddevs));
    out.template write<std::uint64_t>("numeric/missing", shared(missing));
  }
  for (const auto& block : tables.dense) dense.push_back(block.name);
  out.set_attribute("/", "text_buckets", tables.text_buckets);
  out.set_attribute("/", "token_length", std::int64_t{tables.token_length});
  out.set_attribute("/", "image_channels", std::int64_t{tables.image_shape.channels});
  out.set_attribute("/", "image_height", std::int64_t{tables.image_shape.height});
  out.set_attribute("/", "image_width", std::int64_t{tables.image_shape.width});
  out.set_attribute("/", "category_levels", std::int64_t{tables.category_levels});
  out.set_attribute("/", "title_years", std::int64_t{tables.title_years});
  out.set_attribute("/", "categorical_columns", join_names(categorical));
  out.set_attribute("/", "multi_valued_columns", join_names(multi));
  out.set_attribute("/", "dense_blocks", join_names(dense));
}

}  // namespace tailflow::ops::features
