// The content of a set of items, as the content → embedding regressor reads it. No LibTorch types here:
// feature extraction (operators/features/) fills these plain vectors, the regressor turns them into tensors.
//
// One ItemFeatures holds `size()` items (typically one rank's share of the catalog). Each item has:
//
//   item_ids     its global item index (the ALS item index). Seeded decisions (the validation split) and
//                the order of the training set depend on it, never on where an item lies, so training gives
//                the same model on any number of ranks.
//   bags         sparse weighted bags of ids, one per FeatureSchema::bags entry, in the same order; e.g.
//                "text": hashed word/char n-grams with TF-IDF weights, "genres": multi-valued categories
//                with weight 1/count. Stored in CSR form: the ids of item i are
//                ids[offsets[i] .. offsets[i+1]), with weights alongside; offsets has size()+1 entries
//                and starts at 0. An item may have an empty bag (its tower output is then zero).
//   categorical  items × schema.categorical.size() ids, row-major; column c takes values
//                0 .. schema.categorical[c].vocabulary_size-1 where 0 means "unknown" (every vocabulary
//                reserves it, so brand-new brands at `tailflow embed` time still have a row).
//   numeric      items × schema.numeric.size() values, row-major, already standardised (e.g. log price
//                minus its mean, over its standard deviation; 0 for missing).
//   images       items × channels × height × width pixels in [0,1] or normalised, row-major; empty when
//                the schema has no image. Fed to a small CNN tower trained end to end.
//   dense        items × schema.dense_dims precomputed vectors (a frozen pretrained text or image
//                encoder's output); empty when dense_dims is 0. Fed to an MLP tower.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "operators/learning/key_value_file.hpp"

namespace tailflow::ops::learning {

struct BagSchema {
  std::string name;              // "text", "genres", ...
  std::int64_t vocabulary_size;  // ids lie in [0, vocabulary_size), e.g. the number of hash buckets
  bool operator==(const BagSchema&) const = default;
};

struct CategoricalSchema {
  std::string name;              // "brand", "category_level_1", ...
  std::int64_t vocabulary_size;  // including the "unknown" id 0
  bool operator==(const CategoricalSchema&) const = default;
};

struct FeatureSchema {
  std::vector<BagSchema> bags;
  std::vector<CategoricalSchema> categorical;
  std::vector<std::string> numeric;  // column names; the values are standardised by the producer
  // Built-in image tower input; all zero when there is no image.
  std::int64_t image_channels = 0;
  std::int64_t image_height = 0;
  std::int64_t image_width = 0;
  // Precomputed dense vector (pretrained encoder output); 0 when absent.
  std::int64_t dense_dims = 0;

  bool has_image() const { return image_channels > 0; }
  std::int64_t image_size() const { return image_channels * image_height * image_width; }
  bool operator==(const FeatureSchema&) const = default;
};

// One sparse bag of weighted ids per item, in CSR form (see the file comment).
struct SparseBags {
  std::vector<std::int64_t> ids;
  std::vector<float> weights;
  std::vector<std::int64_t> offsets{0};
};

struct ItemFeatures {
  std::vector<std::uint64_t> item_ids;
  std::vector<SparseBags> bags;           // one per schema bag
  std::vector<std::int64_t> categorical;  // size() × schema.categorical.size()
  std::vector<float> numeric;             // size() × schema.numeric.size()
  std::vector<float> images;              // size() × schema.image_size(), or empty
  std::vector<float> dense;               // size() × schema.dense_dims, or empty

  std::size_t size() const { return item_ids.size(); }
};

// An empty ItemFeatures shaped for `schema` (one empty bag per schema bag).
ItemFeatures empty_item_features(const FeatureSchema& schema);

// Throws Error naming the first inconsistency (a wrong length, an id outside its vocabulary, offsets that do
// not ascend), so that a bug in feature extraction surfaces as a message, not as a crash inside LibTorch.
void validate(const ItemFeatures& items, const FeatureSchema& schema);

// The items at `rows` (local indices), in that order.
ItemFeatures select_rows(const ItemFeatures& items, const FeatureSchema& schema,
                         std::span<const std::int64_t> rows);

// Appends `more` to `items` (same schema).
void append(ItemFeatures& items, const ItemFeatures& more, const FeatureSchema& schema);

// Collective: every rank's items, concatenated in rank order, on every rank.
ItemFeatures allgather_items(Context& ctx, const ItemFeatures& local, const FeatureSchema& schema);

// The schema as "key = value" entries (saved with a trained model) and back; Error if a key is missing.
KeyValues to_key_values(const FeatureSchema& schema);
FeatureSchema feature_schema_from(const KeyValues& values);

// A one-line description for logs: "2 bags (text 65536, genres 20), 2 categorical, 3 numeric, image 1×28×28".
std::string describe(const FeatureSchema& schema);

}  // namespace tailflow::ops::learning
