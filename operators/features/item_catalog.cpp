#include "operators/features/item_catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <span>
#include <tuple>

#include "engine/comm/collectives.hpp"
#include "engine/dataset/dataset.hpp"
#include "engine/error.hpp"
#include "engine/io/id_dictionary.hpp"
#include "engine/io/parse_number.hpp"
#include "engine/io/sharded_reader.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/features/text_encoding.hpp"

namespace tailflow {

namespace {
void write_optional(ByteWriter& out, const std::optional<double>& value) {
  out.write_raw<std::uint8_t>(value.has_value());
  out.write_raw<double>(value.value_or(0.0));
}
std::optional<double> read_optional(ByteReader& in) {
  bool present = in.read_raw<std::uint8_t>() != 0;
  double value = in.read_raw<double>();
  return present ? std::optional<double>(value) : std::nullopt;
}
}  // namespace

void Codec<ops::features::ItemRecord>::write(ByteWriter& out, const ops::features::ItemRecord& r) {
  out.write_raw(r.index);
  out.write_raw(r.line);
  out.write_raw<std::uint8_t>(r.in_catalog);
  out.write_raw(r.interactions);
  for (const std::string* text : {&r.id, &r.title, &r.description, &r.brand, &r.image, &r.tags})
    Codec<std::string>::write(out, *text);
  Codec<std::vector<std::string>>::write(out, r.categories);
  write_optional(out, r.price);
  out.write_raw<std::uint64_t>(r.numeric.size());
  for (const auto& value : r.numeric) write_optional(out, value);
  Codec<std::vector<std::string>>::write(out, r.categorical);
}

ops::features::ItemRecord Codec<ops::features::ItemRecord>::read(ByteReader& in) {
  ops::features::ItemRecord r;
  r.index = in.read_raw<std::uint64_t>();
  r.line = in.read_raw<std::uint64_t>();
  r.in_catalog = in.read_raw<std::uint8_t>() != 0;
  r.interactions = in.read_raw<std::uint64_t>();
  for (std::string* text : {&r.id, &r.title, &r.description, &r.brand, &r.image, &r.tags})
    *text = Codec<std::string>::read(in);
  r.categories = Codec<std::vector<std::string>>::read(in);
  r.price = read_optional(in);
  r.numeric.resize(in.read_raw<std::uint64_t>());
  for (auto& value : r.numeric) value = read_optional(in);
  r.categorical = Codec<std::vector<std::string>>::read(in);
  return r;
}

}  // namespace tailflow

namespace tailflow::ops::features {

namespace {

const std::vector<std::string> kIdNames = {"item_id",    "itemId",    "item", "movieId", "movie_id",
                                           "product_id", "productId", "asin", "sku",     "id"};
const std::vector<std::string> kTitleNames = {"title", "name", "product_name", "product_title"};
const std::vector<std::string> kDescriptionNames = {"description", "desc", "product_description", "text"};
const std::vector<std::string> kBrandNames = {"brand", "manufacturer", "vendor"};
const std::vector<std::string> kCategoryNames = {"category", "categories", "genres", "genre",
                                                 "category_path"};
const std::vector<std::string> kPriceNames = {"price", "cost"};
const std::vector<std::string> kImageNames = {"image", "image_path", "image_index", "photo", "imUrl"};
const std::vector<std::string> kTagNames = {"tag", "tags", "label"};

std::string known_columns(const io::CsvReader& reader) {
  std::string text;
  for (std::size_t c = 0; c < reader.column_count(); ++c)
    text += fmt::format("{}{}", c ? ", " : "", reader.column_label(c));
  return text;
}

// The column of one role: explicit choice (a missing one is an error for all ranks), else a usual name.
std::optional<std::size_t> resolve(const io::CsvReader& reader, const std::string& choice,
                                   const std::vector<std::string>& usual_names) {
  if (choice == "none") return std::nullopt;
  if (!choice.empty()) return reader.column(choice);
  for (const auto& name : usual_names)
    if (auto found = reader.find_column(name)) return found;
  return std::nullopt;
}

std::optional<double> parse_price(const io::CsvRow& row, std::size_t column, bool non_negative) {
  std::string_view text = io::trim_spaces(row[column]);
  if (text.empty()) return std::nullopt;
  // "$19.99" and "19,99 €" are common in scraped catalogs; only a leading '$' is accepted, to stay exact.
  if (text.front() == '$') text.remove_prefix(1);
  double value = 0;
  if (io::parse_number(text, value) != io::NumberError::kNone || !std::isfinite(value))
    row.fail(column, fmt::format("'{}' is not a number", row[column]));
  if (non_negative && value < 0) row.fail(column, fmt::format("'{}' is negative", row[column]));
  return value;
}

std::vector<std::string> split_trimmed(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  while (true) {
    std::size_t at = separator.empty() ? std::string_view::npos : text.find(separator);
    std::string_view part = io::trim_spaces(text.substr(0, at));
    if (!part.empty()) parts.emplace_back(part);
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + separator.size());
  }
  return parts;
}

struct TagRow {
  std::uint64_t index = 0;
  std::uint64_t line = 0;
  std::string tag;
};

}  // namespace

}  // namespace tailflow::ops::features

namespace tailflow {
template <>
struct Codec<ops::features::TagRow> {
  static void write(ByteWriter& out, const ops::features::TagRow& row) {
    out.write_raw(row.index);
    out.write_raw(row.line);
    Codec<std::string>::write(out, row.tag);
  }
  static ops::features::TagRow read(ByteReader& in) {
    ops::features::TagRow row;
    row.index = in.read_raw<std::uint64_t>();
    row.line = in.read_raw<std::uint64_t>();
    row.tag = Codec<std::string>::read(in);
    return row;
  }
};
}  // namespace tailflow

namespace tailflow::ops::features {

std::string CatalogLayout::describe() const {
  std::string text;
  auto add = [&](const char* role, const std::string& column) {
    if (!column.empty()) text += fmt::format("{}{}={}", text.empty() ? "" : " ", role, column);
  };
  add("id", id_column);
  add("title", title_column);
  add("description", description_column);
  add("brand", brand_column);
  add("category", category_column);
  add("price", price_column);
  add("image", image_column);
  for (const auto& name : numeric_names) add("numeric", name);
  for (const auto& name : categorical_names) add("categorical", name);
  return text;
}

int owner_of_row(std::uint64_t row, std::uint64_t total, int ranks) {
  // balanced_share gives rank r the rows [total*r/ranks, total*(r+1)/ranks); the first guess is at most
  // one rank off in either direction.
  if (total == 0) return 0;
  auto rank =
      static_cast<int>(std::min<std::uint64_t>(row * ranks / total, static_cast<std::uint64_t>(ranks - 1)));
  while (rank > 0 && io::balanced_share(total, rank, ranks).first > row) --rank;
  while (rank + 1 < ranks && io::balanced_share(total, rank + 1, ranks).first <= row) ++rank;
  return rank;
}

std::vector<std::string> category_path_prefixes(const std::string& path, const std::string& level_separator) {
  std::vector<std::string> prefixes;
  std::string prefix;
  for (const auto& level : split_trimmed(path, level_separator)) {
    prefix += (prefix.empty() ? "" : level_separator) + level;
    prefixes.push_back(prefix);
  }
  return prefixes;
}

namespace {

// Reads the tag files and appends each tag to its item's `tags`, in file order. `row_of` maps the catalog
// dictionary's indices to global rows.
void attach_tags(Context& ctx, Catalog& catalog, const CatalogOptions& options,
                 const io::IdDictionary& dictionary, const std::vector<std::uint64_t>& row_of) {
  std::vector<TagRow> tags;
  std::uint64_t line_base = 0;  // keeps lines of later files after those of earlier ones
  for (const auto& path : options.tag_files) {
    io::CsvOptions csv;
    csv.bad_rows = options.bad_rows;
    io::CsvReader reader(ctx, path, csv);
    auto item = resolve(reader, "", kIdNames);
    auto tag = resolve(reader, "", kTagNames);
    if (!item || !tag)
      throw CollectiveError(
          fmt::format("{}: no {} column among [{}] (expected e.g. userId,movieId,tag,timestamp)", path,
                      !item ? "item" : "tag", known_columns(reader)));
    std::vector<std::string> ids;
    std::vector<TagRow> rows;
    std::uint64_t latin1 = 0;
    auto report = reader.for_each_row([&](const io::CsvRow& row) {
      std::string_view text = io::trim_spaces(row[*tag]);
      if (row[*item].empty()) row.fail(*item, "is empty: every tag needs an item id");
      if (text.empty()) return;
      ids.emplace_back(row[*item]);
      rows.push_back({0, line_base + row.line(), std::string(text)});
      if (ensure_utf8(rows.back().tag)) ++latin1;
    });
    std::vector<std::string_view> views(ids.begin(), ids.end());
    auto found = dictionary.lookup(ctx, views);
    std::uint64_t unknown = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (found[i] == io::kNoIndex) {
        ++unknown;
        continue;
      }
      rows[i].index = row_of[found[i]];
      tags.push_back(std::move(rows[i]));
    }
    catalog.unknown_tags += comm::allreduce_sum(ctx.comm(), unknown);
    catalog.latin1_fields += comm::allreduce_sum(ctx.comm(), latin1);
    line_base += report.rows + report.skipped_rows + 2;
    ctx.log().info("{}: {} tags ({} naming items not in the catalog)", path, report.rows,
                   comm::allreduce_sum(ctx.comm(), unknown));
  }
  const std::uint64_t total = catalog.total_items;
  const int ranks = ctx.size();
  auto mine =
      Dataset<TagRow>(ctx, std::move(tags))
          .partition_by([&](const TagRow& row) { return owner_of_row(row.index, total, ranks); }, "tags")
          .local();
  std::sort(mine.begin(), mine.end(), [](const TagRow& a, const TagRow& b) {
    return std::tie(a.index, a.line) < std::tie(b.index, b.line);
  });
  for (const auto& row : mine) {
    auto& record = catalog.local.at(row.index - catalog.first_row);
    record.tags += (record.tags.empty() ? "" : " ") + row.tag;
  }
  catalog.tags = comm::allreduce_sum<std::uint64_t>(ctx.comm(), mine.size());
}

}  // namespace

Catalog load_catalog(Context& ctx, const CatalogOptions& options,
                     const data::LoadedInteractions* interactions) {
  Stopwatch watch;
  io::CsvOptions csv;
  csv.separator = options.separator;
  csv.header = options.header;
  csv.bad_rows = options.bad_rows;
  io::CsvReader reader(ctx, options.path, csv);
  const auto& columns = options.columns;

  auto id = resolve(reader, columns.id, kIdNames);
  if (!id)
    throw CollectiveError(fmt::format("{}: no item id column among [{}]; name it with --item-id-column",
                                      options.path, known_columns(reader)));
  // A role's column, and the label the layout gives it (the requested name for an absent column that
  // counts as empty).
  std::vector<std::string> absent;
  auto role = [&](const std::string& choice, const std::vector<std::string>& usual_names,
                  std::string& label) -> std::optional<std::size_t> {
    if (options.absent_columns_are_empty && !choice.empty() && choice != "none" &&
        !reader.find_column(choice)) {
      absent.push_back(choice);
      label = choice;
      return std::nullopt;
    }
    auto column = resolve(reader, choice, usual_names);
    label = column ? reader.column_label(*column) : std::string();
    return column;
  };
  Catalog catalog;
  catalog.path = options.path;
  catalog.category_level_separator = options.category_level_separator;
  auto& layout = catalog.layout;
  layout.id_column = reader.column_label(*id);
  auto title = role(columns.title, kTitleNames, layout.title_column);
  auto description = role(columns.description, kDescriptionNames, layout.description_column);
  auto brand = role(columns.brand, kBrandNames, layout.brand_column);
  auto category = role(columns.category, kCategoryNames, layout.category_column);
  auto price = role(columns.price, kPriceNames, layout.price_column);
  auto image = role(columns.image, kImageNames, layout.image_column);
  std::vector<std::optional<std::size_t>> numeric, categorical;
  for (const auto& name : columns.numeric) {
    layout.numeric_names.emplace_back();
    numeric.push_back(role(name, {}, layout.numeric_names.back()));
    if (!numeric.back() && layout.numeric_names.back().empty()) numeric.back() = reader.column(name);
  }
  for (const auto& name : columns.categorical) {
    layout.categorical_names.emplace_back();
    categorical.push_back(role(name, {}, layout.categorical_names.back()));
    if (!categorical.back() && layout.categorical_names.back().empty())
      categorical.back() = reader.column(name);
  }
  // How to find the same columns in another file: by name, or by index where the file has no names.
  auto choice_of = [&](const std::optional<std::size_t>& column, const std::string& label) -> std::string {
    if (!column) return label.empty() ? "none" : label;
    return reader.column_names().empty() ? std::to_string(*column) : reader.column_names()[*column];
  };
  auto& choices = layout.choices;
  choices.id = choice_of(id, layout.id_column);
  choices.title = choice_of(title, layout.title_column);
  choices.description = choice_of(description, layout.description_column);
  choices.brand = choice_of(brand, layout.brand_column);
  choices.category = choice_of(category, layout.category_column);
  choices.price = choice_of(price, layout.price_column);
  choices.image = choice_of(image, layout.image_column);
  for (std::size_t c = 0; c < numeric.size(); ++c)
    choices.numeric.push_back(choice_of(numeric[c], layout.numeric_names[c]));
  for (std::size_t c = 0; c < categorical.size(); ++c)
    choices.categorical.push_back(choice_of(categorical[c], layout.categorical_names[c]));
  layout.absent_columns = absent;

  std::vector<ItemRecord> records;
  std::uint64_t latin1 = 0;
  auto text_of = [](const io::CsvRow& row, const std::optional<std::size_t>& column) {
    return column ? std::string(io::trim_spaces(row[*column])) : std::string();
  };
  auto as_utf8 = [&latin1](std::string& text) {
    if (ensure_utf8(text)) ++latin1;
  };
  auto report = reader.for_each_row([&](const io::CsvRow& row) {
    ItemRecord record;
    record.line = row.line();
    record.id = std::string(io::trim_spaces(row[*id]));
    if (record.id.empty()) row.fail(*id, "is empty: every item needs an id");
    record.title = text_of(row, title);
    record.description = text_of(row, description);
    record.brand = text_of(row, brand);
    if (category) record.categories = split_trimmed(row[*category], options.category_value_separator);
    if (price) record.price = parse_price(row, *price, /*non_negative=*/true);
    record.image = text_of(row, image);
    for (auto c : numeric)
      record.numeric.push_back(c ? parse_price(row, *c, /*non_negative=*/false) : std::nullopt);
    for (auto c : categorical)
      record.categorical.emplace_back(c ? io::trim_spaces(row[*c]) : std::string_view());
    for (std::string* text : {&record.title, &record.description, &record.brand}) as_utf8(*text);
    for (auto& text : record.categories) as_utf8(text);
    for (auto& text : record.categorical) as_utf8(text);
    records.push_back(std::move(record));
  });
  catalog.skipped_rows = report.skipped_rows;
  catalog.latin1_fields = comm::allreduce_sum(ctx.comm(), latin1);
  if (report.rows == 0) throw CollectiveError(fmt::format("{}: the file holds no items", options.path));

  // Catalog dictionary: dense numbers of the distinct ids, independent of the rank count.
  io::LocalIdTable local_ids;
  std::vector<std::uint32_t> local_of(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) local_of[i] = local_ids.intern(records[i].id);
  auto keys = local_ids.keys();
  std::vector<io::DenseIndex> catalog_index_of_key;
  auto dictionary = io::IdDictionary::build(ctx, keys, &catalog_index_of_key);
  catalog.catalog_items = dictionary.size();

  // Global row of each catalog index; items only in the interactions become placeholder records.
  const std::uint64_t owned = dictionary.owned_end() - dictionary.owned_begin();
  std::vector<std::uint64_t> owned_rows(owned);
  std::vector<std::uint64_t> interaction_counts;
  std::vector<ItemRecord> placeholders;
  if (interactions) {
    const auto& items = interactions->items;
    catalog.interacted_items = items.size();
    interaction_counts.assign(items.size(), 0);
    for (const auto& row : interactions->local) ++interaction_counts[row.item];
    comm::allreduce(ctx.comm(), std::span<std::uint64_t>(interaction_counts), comm::ReduceOp::kSum);

    std::vector<std::string_view> owned_ids;
    for (auto i = dictionary.owned_begin(); i < dictionary.owned_end(); ++i)
      owned_ids.push_back(dictionary.owned_string(i));
    auto warm = items.lookup(ctx, owned_ids);
    std::uint64_t cold = 0;
    for (auto index : warm) cold += index == io::kNoIndex;
    std::uint64_t next_cold = items.size() + comm::exclusive_prefix_sum(ctx.comm(), cold);
    for (std::size_t k = 0; k < owned; ++k) owned_rows[k] = warm[k] != io::kNoIndex ? warm[k] : next_cold++;
    catalog.cold_items = comm::allreduce_sum(ctx.comm(), cold);

    std::vector<std::string_view> interacted_ids;
    for (auto i = items.owned_begin(); i < items.owned_end(); ++i)
      interacted_ids.push_back(items.owned_string(i));
    auto in_catalog = dictionary.lookup(ctx, interacted_ids);
    std::uint64_t unknown[2] = {0, 0};
    for (std::size_t k = 0; k < interacted_ids.size(); ++k) {
      if (in_catalog[k] != io::kNoIndex) continue;
      ItemRecord placeholder;
      placeholder.index = items.owned_begin() + k;
      placeholder.in_catalog = false;
      placeholder.id = std::string(interacted_ids[k]);
      placeholders.push_back(std::move(placeholder));
      ++unknown[0];
      unknown[1] += interaction_counts[items.owned_begin() + k];
    }
    comm::allreduce(ctx.comm(), std::span<std::uint64_t>(unknown), comm::ReduceOp::kSum);
    catalog.unknown_items = unknown[0];
    catalog.unknown_interactions = unknown[1];
    catalog.total_items = items.size() + catalog.cold_items;
  } else {
    for (std::size_t k = 0; k < owned; ++k) owned_rows[k] = dictionary.owned_begin() + k;
    catalog.total_items = dictionary.size();
  }
  // Every rank needs the rows of its own records' catalog indices: gather the map (8 bytes per item).
  auto row_of = comm::allgatherv(ctx.comm(), std::span<const std::uint64_t>(owned_rows));
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i].index = row_of[catalog_index_of_key[local_of[i]]];
    if (records[i].index < interaction_counts.size())
      records[i].interactions = interaction_counts[records[i].index];
  }
  for (auto& placeholder : placeholders) {
    placeholder.interactions = interaction_counts[placeholder.index];
    records.push_back(std::move(placeholder));
  }

  // Each record to the rank that owns its row; the first row of a duplicated id wins.
  const std::uint64_t total = catalog.total_items;
  const int ranks = ctx.size();
  auto mine =
      Dataset<ItemRecord>(ctx, std::move(records))
          .partition_by([&](const ItemRecord& r) { return owner_of_row(r.index, total, ranks); }, "catalog")
          .local();
  std::sort(mine.begin(), mine.end(), [](const ItemRecord& a, const ItemRecord& b) {
    return std::tie(a.index, a.line) < std::tie(b.index, b.line);
  });
  const auto share = io::balanced_share(total, ctx.rank(), ranks);
  catalog.first_row = share.first;
  std::uint64_t duplicates = 0;
  for (auto& record : mine) {
    if (!catalog.local.empty() && catalog.local.back().index == record.index) {
      ++duplicates;
      continue;
    }
    if (record.index != share.first + catalog.local.size())
      throw std::logic_error(fmt::format("catalog: row {} arrived where row {} belongs", record.index,
                                         share.first + catalog.local.size()));
    catalog.local.push_back(std::move(record));
  }
  if (catalog.local.size() != share.count)
    throw std::logic_error(fmt::format("catalog: rank {} holds {} rows, expected {}", ctx.rank(),
                                       catalog.local.size(), share.count));
  catalog.duplicate_rows = comm::allreduce_sum(ctx.comm(), duplicates);

  if (!options.tag_files.empty()) attach_tags(ctx, catalog, options, dictionary, row_of);

  const std::string file = std::filesystem::path(options.path).filename().string();
  ctx.log().info("{}: {} items ({}; separator {})", file, catalog.catalog_items, catalog.layout.describe(),
                 io::describe_separator(reader.dialect().separator));
  if (!absent.empty())
    ctx.log().info("{}: warning: no column {}; those values count as missing", file, fmt::join(absent, ", "));
  if (interactions)
    ctx.log().info(
        "{}: {} of {} interacted items are in the catalog; {} catalog items have no interactions "
        "(cold); {} interacted items are not in the catalog ({} interactions; they keep their row, "
        "with empty features)",
        file, catalog.interacted_items - catalog.unknown_items, catalog.interacted_items, catalog.cold_items,
        catalog.unknown_items, catalog.unknown_interactions);
  if (catalog.latin1_fields > 0)
    ctx.log().info("{}: {} text fields are not UTF-8; read as ISO-8859-1 (Latin-1) and converted", file,
                   catalog.latin1_fields);
  if (catalog.duplicate_rows > 0)
    ctx.log().info("{}: {} rows repeat an item id; the first row of each id is used", file,
                   catalog.duplicate_rows);
  if (report.skipped_rows > 0) {
    ctx.log().info("{}: skipped {} malformed row{}; first:", file, report.skipped_rows,
                   report.skipped_rows == 1 ? "" : "s");
    for (const auto& example : report.skipped_examples) ctx.log().info("  {}", example);
  }
  ctx.metrics().record(Stage{"ingest " + file, report.local_rows, catalog.local.size(), 0, watch.seconds()});
  return catalog;
}

}  // namespace tailflow::ops::features
