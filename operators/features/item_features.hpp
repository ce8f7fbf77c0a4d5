// The content features of items, as one rank holds them: a contiguous range of item rows.
//
// This is what feature extraction produces, what the feature cache writes to and reads from HDF5, and what
// the regressor consumes (it converts these rows to tensors). Rows are items in the global item order of
// item_catalog.hpp, so row i lines up with ALS item i. Every modality is optional: an empty block means the
// modality is off.
//
//   text       a sparse bag per item (CSR): hashed word/char n-gram ids in [0, text_buckets) with TF-IDF
//              weights, L2-normalised — the input of an EmbeddingBag-style layer.
//   categorical  one id per item and column, 0 = unknown/missing, ids < the column's vocabulary size.
//   multi-valued categorical  a bag of ids per item and column (genres "a|b|c"), CSR like text; weights
//              are 1/values so that every item's bag sums to 1.
//   numeric    standardised values (price as log, year, extra numeric columns), missing = 0.
//   image      pixels, channels x height x width floats per item, normalised by mean/std.
//   tokens     WordPiece ids with attention mask, the input of a pretrained (TorchScript) text encoder.
//   dense      blocks of precomputed vectors, one per pretrained encoder ("text_encoder": pooled output of
//              the TorchScript text model over the tokens; "image_encoder": the frozen backbone's features
//              of the images, which are then not kept as pixels).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tailflow::ops::features {

// A bag of (id, weight) pairs per row: row r's entries are ids[offsets[r] .. offsets[r+1]).
struct SparseRows {
  std::vector<std::int64_t> offsets = {0};
  std::vector<std::int64_t> ids;
  std::vector<float> weights;

  std::size_t rows() const { return offsets.size() - 1; }
  std::size_t nnz() const { return ids.size(); }
  void append_row(const std::vector<std::pair<std::int64_t, float>>& entries) {
    for (const auto& [id, weight] : entries) {
      ids.push_back(id);
      weights.push_back(weight);
    }
    offsets.push_back(static_cast<std::int64_t>(ids.size()));
  }
};

struct CategoricalColumn {
  std::string name;                     // "brand", "category_level1", "decade", ...
  std::vector<std::string> vocabulary;  // id -> value; vocabulary[0] = "<unknown>"
  std::vector<std::int64_t> ids;        // one per local row
};

struct MultiValuedColumn {
  std::string name;  // "genres", "category_level2" (when items have several categories)
  std::vector<std::string> vocabulary;
  SparseRows values;
};

struct NumericColumnStats {
  std::string name;  // "log_price", "year", ...
  double mean = 0;   // of the transformed value, over all items with a value
  double stddev = 1;
  std::uint64_t missing = 0;  // items without a value (their standardised value is 0)
};

struct ImageShape {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::size_t values() const { return static_cast<std::size_t>(channels) * height * width; }
};

// The output of one pretrained encoder for the local rows.
struct DenseBlock {
  std::string name;           // "text_encoder" or "image_encoder"
  std::int64_t dims = 0;      // the encoder's output width (the same on every rank)
  std::vector<float> values;  // local rows x dims, row-major
};

struct ItemFeatureBlock {
  std::uint64_t total_items = 0;                  // rows over all ranks
  std::uint64_t first_row = 0;                    // global row of this rank's first item
  std::vector<std::string> ids;                   // external item ids of the local rows
  std::vector<std::uint64_t> interaction_counts;  // per local row, 0 without --interactions
  std::vector<std::uint8_t> in_catalog;           // 0 for items only seen in the interactions

  std::int64_t text_buckets = 0;  // 0 = no text features
  SparseRows text;
  std::vector<float> idf;  // per bucket (every rank holds all); for embedding new items

  // What the data decided when the tables were built; new items are encoded with the same choices.
  int category_levels = 0;   // category levels turned into columns
  bool title_years = false;  // "(1995)" was cut off titles: the "year" and "decade" columns exist

  std::vector<CategoricalColumn> categorical;
  std::vector<MultiValuedColumn> multi_valued;

  std::vector<NumericColumnStats> numeric_columns;
  std::vector<float> numeric;  // local rows x numeric_columns.size(), row-major

  ImageShape image_shape;     // channels 0 = no images
  std::vector<float> images;  // local rows x image_shape.values()

  int token_length = 0;                      // 0 = no WordPiece tokens
  std::vector<std::int32_t> token_ids;       // local rows x token_length
  std::vector<std::uint8_t> attention_mask;  // local rows x token_length

  std::vector<DenseBlock> dense;  // in the order the encoders ran: text, then image

  std::size_t local_rows() const { return ids.size(); }
};

}  // namespace tailflow::ops::features
