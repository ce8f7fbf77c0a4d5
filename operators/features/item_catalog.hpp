// The item catalog: items.csv (or TSV) with a column mapping, numbered so that item row i is ALS item i.
//
// Columns are found by explicit name or 0-based index, or by their usual names (item_id/movieId/..., title,
// description, brand, category/genres, price, image). Categories may be hierarchical ("women>tops>t-shirt")
// and multi-valued ("Adventure|Comedy"); extra numeric and categorical columns are carried along by name.
//
// Numbering. With an interaction file, item indices come from its id dictionary (the one the ALS job builds
// with operators/data/interactions_loader.hpp, whose order does not depend on the rank count), so row i of
// the features is ALS item i. Interacted items missing from the catalog keep their row, marked not in the
// catalog (empty features); catalog items without interactions (the cold start) follow, after all interacted
// items, in the catalog dictionary's order. Without an interaction file, rows follow the catalog dictionary's
// order. Both kinds of mismatch are counted and logged, never dropped silently; duplicate catalog rows keep
// the first.
//
// Distribution. Every rank parses its byte range of the file; then records move (one shuffle) so that rank r
// holds the contiguous rows io::balanced_share(total, r, size) — the layout the sharded HDF5 output and the
// regressor read back.
//
// Tags (MovieLens tags.csv: userId,movieId,tag,timestamp) are appended to their item's text in file order.
//
// Encoding. Text fields (title, description, brand, categories, extra categorical values, tags) that are not
// valid UTF-8 are read as ISO-8859-1 and converted to UTF-8 (text_encoding.hpp; MovieLens 1M is Latin-1);
// ids and image paths keep their bytes, so that they still match the interaction file and the disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "engine/io/csv_reader.hpp"
#include "engine/serialization.hpp"
#include "operators/data/interactions_loader.hpp"

namespace tailflow::ops::features {

// Each role: a column name or 0-based index; empty = look for the usual names; "none" = do not use.
struct CatalogColumns {
  std::string id;
  std::string title;
  std::string description;
  std::string brand;
  std::string category;
  std::string price;
  std::string image;
  std::vector<std::string> numeric;      // extra numeric columns
  std::vector<std::string> categorical;  // extra categorical columns
};

struct CatalogOptions {
  std::string path;
  CatalogColumns columns;
  std::optional<std::string> separator;
  io::HeaderMode header = io::HeaderMode::kAuto;
  io::BadRowPolicy bad_rows = io::BadRowPolicy::kFailFast;
  std::string category_level_separator = ">";  // "a>b>c": a path from department to type
  std::string category_value_separator = "|";  // "a|b": several categories
  std::vector<std::string> tag_files;          // userId,movieId,tag[,timestamp]
  // A column named explicitly but absent from the file: an error (false), or a column of empty values that
  // keeps its name in the layout (true; `tailflow embed --items` accepts new items with fewer columns). The
  // id column is always required.
  bool absent_columns_are_empty = false;
};

struct ItemRecord {
  std::uint64_t index = 0;  // global row (ALS item index where the item has interactions)
  std::uint64_t line = 0;   // line in the items file (0 for items only in the interactions)
  bool in_catalog = true;
  std::uint64_t interactions = 0;
  std::string id;
  std::string title;
  std::string description;
  std::string brand;
  std::vector<std::string> categories;  // each a path "a>b>c"
  std::optional<double> price;
  std::string image;  // a path or an index into an IDX file
  std::vector<std::optional<double>> numeric;
  std::vector<std::string> categorical;
  std::string tags;  // space-separated
};

// Which roles the file has (the same on every rank).
struct CatalogLayout {
  std::string id_column;  // the label of each column found, empty where there is none
  std::string title_column;
  std::string description_column;
  std::string brand_column;
  std::string category_column;
  std::string price_column;
  std::string image_column;
  std::vector<std::string> numeric_names;
  std::vector<std::string> categorical_names;
  std::string describe() const;  // "id=movieId title=title category=genres"
  // Column choices that find these same columns again in another file with the same column names: the
  // names (or 0-based indices in a file without a header), "none" for roles without a column.
  CatalogColumns choices;
  // Columns named explicitly but absent from the file (only with absent_columns_are_empty).
  std::vector<std::string> absent_columns;
};

struct Catalog {
  std::string path;               // the items file
  std::vector<ItemRecord> local;  // rows [first_row, first_row + local.size()), in order
  std::uint64_t total_items = 0;  // rows over all ranks
  std::uint64_t first_row = 0;
  CatalogLayout layout;
  std::string category_level_separator = ">";
  // Counts over all ranks, for the log and the summary.
  std::uint64_t catalog_items = 0;         // distinct ids in the items file
  std::uint64_t duplicate_rows = 0;        // rows repeating an id (the first row wins)
  std::uint64_t skipped_rows = 0;          // malformed rows dropped (only with BadRowPolicy::kDropMalformed)
  std::uint64_t interacted_items = 0;      // items in the interaction file (0 without one)
  std::uint64_t cold_items = 0;            // catalog items without interactions
  std::uint64_t unknown_items = 0;         // interacted items missing from the catalog
  std::uint64_t unknown_interactions = 0;  // their interactions
  std::uint64_t tags = 0;                  // tags attached to items
  std::uint64_t unknown_tags = 0;          // tags naming items that are in no catalog row
  std::uint64_t latin1_fields = 0;         // text fields (and tags) read as Latin-1: not valid UTF-8
};

// Collective. `interactions` (optional) numbers the items as described above. Throws CollectiveError naming
// file, line, field and value for malformed input (a missing id, a price that is not a number).
Catalog load_catalog(Context& ctx, const CatalogOptions& options,
                     const data::LoadedInteractions* interactions = nullptr);

// The rank holding global row `row` of `total` rows under io::balanced_share.
int owner_of_row(std::uint64_t row, std::uint64_t total, int ranks);

// "a>b>c" -> {"a", "a>b", "a>b>c"}: the path prefixes, one per level (trimmed; empty levels skipped).
std::vector<std::string> category_path_prefixes(const std::string& path, const std::string& level_separator);

}  // namespace tailflow::ops::features

namespace tailflow {
template <>
struct Codec<ops::features::ItemRecord> {
  static void write(ByteWriter& out, const ops::features::ItemRecord& record);
  static ops::features::ItemRecord read(ByteReader& in);
};
}  // namespace tailflow
