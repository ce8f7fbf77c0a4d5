// `tailflow stats`: what an interaction file holds — users, items, density, value range, and how long its
// long tail is (popularity and activity histograms, head/tail/cold bucket sizes as in EVALUATION.md).
//
// With --items, the catalog is known too: items without any interaction are counted as cold, and
// interactions naming items that are not in the catalog are counted and reported (never dropped silently).
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/csv_reader.hpp"
#include "engine/io/id_dictionary.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/subcommand.hpp"
#include "operators/data/interactions_loader.hpp"
#include "operators/metrics/popularity_buckets.hpp"

namespace tailflow::jobs {
namespace {

// Counts per dense index, summed over ranks (the same on every rank).
template <class IndexOf>
std::vector<std::uint64_t> counts_per_index(Context& ctx, const std::vector<ops::Interaction>& rows,
                                            std::uint64_t n, IndexOf index_of) {
  std::vector<std::uint64_t> counts(n, 0);
  for (const auto& row : rows) ++counts[index_of(row)];
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(counts), comm::ReduceOp::kSum);
  return counts;
}

// Log2 buckets of counts >= 1: [1], [2,3], [4,7], ...
std::string histogram(const std::vector<std::uint64_t>& counts, const char* what, const char* per) {
  std::vector<std::uint64_t> entities, interactions;
  std::uint64_t total_entities = 0, total_interactions = 0;
  for (auto count : counts) {
    if (count == 0) continue;
    std::size_t bucket = static_cast<std::size_t>(std::bit_width(count) - 1);
    if (bucket >= entities.size()) {
      entities.resize(bucket + 1, 0);
      interactions.resize(bucket + 1, 0);
    }
    ++entities[bucket];
    interactions[bucket] += count;
    ++total_entities;
    total_interactions += count;
  }
  std::string text = fmt::format("\ninteractions per {} ({})\n  {:>15}  {:>10} {:>7}  {:>13} {:>7}\n", per,
                                 what, "interactions", what, "share", "interactions", "share");
  for (std::size_t b = 0; b < entities.size(); ++b) {
    std::uint64_t low = std::uint64_t{1} << b, high = (std::uint64_t{1} << (b + 1)) - 1;
    std::string range = low == high ? fmt::format("{}", low) : fmt::format("{}-{}", low, high);
    text += fmt::format("  {:>15}  {:>10} {:>6.2f}%  {:>13} {:>6.2f}%\n", range, entities[b],
                        100.0 * entities[b] / std::max<std::uint64_t>(1, total_entities), interactions[b],
                        100.0 * interactions[b] / std::max<std::uint64_t>(1, total_interactions));
  }
  return text;
}

std::string date_of(std::int64_t seconds) {
  // H. Hinnant's civil_from_days.
  std::int64_t days = (seconds >= 0 ? seconds : seconds - 86399) / 86400 + 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  auto day_of_era = static_cast<unsigned>(days - era * 146097);
  unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  unsigned mp = (5 * day_of_year + 2) / 153;
  unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  unsigned month = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t year = static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2);
  return fmt::format("{:04}-{:02}-{:02}", year, month, day);
}

// What the catalog (--items) adds: cold items, and interactions with items the catalog does not know.
struct CatalogCounts {
  std::uint64_t catalog_items = 0;   // distinct ids in the items file
  std::uint64_t duplicate_rows = 0;  // rows repeating an id already seen
  std::uint64_t cold_items = 0;      // catalog items without interactions
  std::uint64_t unknown_items = 0;   // interacted items missing from the catalog
  std::uint64_t unknown_interactions = 0;
  std::uint64_t skipped_rows = 0;
};

CatalogCounts count_catalog(Context& ctx, const po::variables_map& options, const io::IdDictionary& items,
                            const std::vector<std::uint64_t>& item_counts, io::BadRowPolicy bad_rows) {
  const auto path = options["items"].as<std::string>();
  io::CsvOptions csv;
  csv.bad_rows = bad_rows;
  io::CsvReader reader(ctx, path, csv);
  std::size_t id_column = 0;
  if (options.count("item-id-column"))
    id_column = reader.column(options["item-id-column"].as<std::string>());
  else if (auto found = reader.find_column("item_id"))
    id_column = *found;
  io::LocalIdTable ids;
  auto report = reader.for_each_row([&](const io::CsvRow& row) {
    if (row[id_column].empty()) row.fail(id_column, "is empty: every item needs an id");
    ids.intern(row[id_column]);
  });
  auto keys = ids.keys();
  auto catalog = io::IdDictionary::build(ctx, keys);

  CatalogCounts counts;
  counts.catalog_items = catalog.size();
  counts.duplicate_rows = report.rows - catalog.size();
  counts.skipped_rows = report.skipped_rows;
  // Catalog ids (each held by one rank) found among the interacted items are warm; the rest are cold.
  std::vector<std::string_view> owned_catalog;
  for (auto i = catalog.owned_begin(); i < catalog.owned_end(); ++i)
    owned_catalog.push_back(catalog.owned_string(i));
  auto found_in_interactions = items.lookup(ctx, owned_catalog);
  std::uint64_t warm = 0;
  for (auto index : found_in_interactions) warm += index != io::kNoIndex;
  counts.cold_items = catalog.size() - comm::allreduce_sum(ctx.comm(), warm);
  // Interacted items (each held by one rank) missing from the catalog are unknown.
  std::vector<std::string_view> owned_items;
  for (auto i = items.owned_begin(); i < items.owned_end(); ++i) owned_items.push_back(items.owned_string(i));
  auto found_in_catalog = catalog.lookup(ctx, owned_items);
  std::uint64_t unknown[2] = {0, 0};
  for (std::size_t k = 0; k < owned_items.size(); ++k) {
    if (found_in_catalog[k] != io::kNoIndex) continue;
    ++unknown[0];
    unknown[1] += item_counts[items.owned_begin() + k];
  }
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(unknown), comm::ReduceOp::kSum);
  counts.unknown_items = unknown[0];
  counts.unknown_interactions = unknown[1];
  if (counts.skipped_rows > 0) {
    ctx.log().info("{}: skipped {} malformed row{}; first:", path, counts.skipped_rows,
                   counts.skipped_rows == 1 ? "" : "s");
    for (const auto& example : report.skipped_examples) ctx.log().info("  {}", example);
  }
  return counts;
}

int run_stats(Context& ctx, const po::variables_map& options) {
  ops::data::InteractionsLoadOptions load_options;
  try {
    load_options = interaction_load_options(options);
  } catch (const Error& e) {
    throw CollectiveError(e.what());  // every rank parsed the same options
  }
  auto loaded = ops::data::load_interactions(ctx, load_options);
  const auto& rows = loaded.local;
  const std::uint64_t users = loaded.users.size(), items = loaded.items.size(), total = loaded.total;

  auto item_counts = counts_per_index(ctx, rows, items, [](const ops::Interaction& r) { return r.item; });
  auto user_counts = counts_per_index(ctx, rows, users, [](const ops::Interaction& r) { return r.user; });
  double range[4] = {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  double value_sum = 0;
  for (const auto& row : rows) {
    range[0] = std::min<double>(range[0], row.value);
    range[1] = std::max<double>(range[1], row.value);
    range[2] = std::min<double>(range[2], static_cast<double>(row.time));
    range[3] = std::max<double>(range[3], static_cast<double>(row.time));
    value_sum += row.value;
  }
  double minima[2] = {range[0], range[2]}, maxima[2] = {-range[1], -range[3]};
  comm::allreduce(ctx.comm(), std::span<double>(minima), comm::ReduceOp::kMin);
  comm::allreduce(ctx.comm(), std::span<double>(maxima), comm::ReduceOp::kMin);
  value_sum = comm::allreduce_sum(ctx.comm(), value_sum);

  std::optional<CatalogCounts> catalog;
  if (options.count("items"))
    catalog = count_catalog(ctx, options, loaded.items, item_counts, load_options.bad_rows);

  const std::uint64_t head_min = options.count("head-min") ? options["head-min"].as<std::uint64_t>()
                                                           : ops::metrics::default_head_min(item_counts);
  if (!ctx.is_root()) return 0;

  std::uint64_t head_items = 0, head_interactions = 0, tail_items = 0, tail_interactions = 0;
  for (auto count : item_counts) {
    if (count >= head_min) {
      ++head_items;
      head_interactions += count;
    } else {
      ++tail_items;
      tail_interactions += count;
    }
  }
  const double cells = static_cast<double>(users) * static_cast<double>(items);
  const double density = static_cast<double>(total) / cells;
  std::string text = fmt::format("interactions file  {}\n", load_options.path);
  text += fmt::format("columns            {}\n", loaded.columns_used);
  text += fmt::format("users              {}\n", users);
  text += fmt::format("items              {} (with at least one interaction)\n", items);
  text += fmt::format("interactions       {}\n", total);
  text += fmt::format("density            {:.6f} (sparsity {:.4f}%; interactions / (users x items))\n",
                      density, 100.0 * (1.0 - density));
  if (loaded.has_value)
    text += fmt::format("value range        {:g} .. {:g} (mean {:.4g})\n", minima[0], -maxima[0],
                        value_sum / static_cast<double>(total));
  else
    text += "value range        1 .. 1 (no value column: every interaction counts 1)\n";
  if (loaded.has_time)
    text += fmt::format("time range         {} .. {} ({} .. {} s)\n",
                        date_of(static_cast<std::int64_t>(minima[1])),
                        date_of(static_cast<std::int64_t>(-maxima[1])), static_cast<std::int64_t>(minima[1]),
                        static_cast<std::int64_t>(-maxima[1]));
  text += fmt::format("skipped rows       {}{}\n", loaded.report.skipped_rows,
                      loaded.report.skipped_rows ? " (malformed; see the log above)" : "");
  text += fmt::format("interactions/user  mean {:.2f}, max {}\n", static_cast<double>(total) / users,
                      *std::max_element(user_counts.begin(), user_counts.end()));
  text += fmt::format("interactions/item  mean {:.2f}, max {}\n", static_cast<double>(total) / items,
                      *std::max_element(item_counts.begin(), item_counts.end()));
  text += histogram(item_counts, "items", "item, popularity");
  text += histogram(user_counts, "users", "user, activity");

  text += fmt::format("\npopularity buckets (head-min {}{})\n", head_min,
                      options.count("head-min") ? ", from --head-min"
                                                : ": the most popular items holding 80% of the interactions");
  auto share = [](std::uint64_t part, std::uint64_t whole) {
    return 100.0 * part / std::max<std::uint64_t>(whole, 1);
  };
  const std::uint64_t all_items = items + (catalog ? catalog->cold_items : 0);
  text += fmt::format(
      "  {:<6} {:>10} items {:>6.2f}%  {:>12} interactions {:>6.2f}%   ({} or more interactions)\n", "head",
      head_items, share(head_items, all_items), head_interactions, share(head_interactions, total), head_min);
  text +=
      fmt::format("  {:<6} {:>10} items {:>6.2f}%  {:>12} interactions {:>6.2f}%   (1 to {} interactions)\n",
                  "tail", tail_items, share(tail_items, all_items), tail_interactions,
                  share(tail_interactions, total), head_min - 1);
  if (catalog) {
    text += fmt::format(
        "  {:<6} {:>10} items {:>6.2f}%  {:>12} interactions {:>6.2f}%   (in the catalog, never "
        "interacted with)\n",
        "cold", catalog->cold_items, share(catalog->cold_items, all_items), 0, 0.0);
    text += fmt::format("\nitems file         {}\n", options["items"].as<std::string>());
    text += fmt::format(
        "catalog items      {}{}\n", catalog->catalog_items,
        catalog->duplicate_rows ? fmt::format(" ({} rows repeat an id)", catalog->duplicate_rows) : "");
    text += fmt::format("cold items         {} (no interactions)\n", catalog->cold_items);
    text += fmt::format("unknown items      {} interacted items are not in the catalog ({} interactions)\n",
                        catalog->unknown_items, catalog->unknown_interactions);
    if (catalog->skipped_rows) text += fmt::format("skipped item rows  {}\n", catalog->skipped_rows);
  } else {
    text += "  cold   unknown without --items (items never interacted with are not in an interaction file)\n";
  }
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "stats", "users, items, sparsity, popularity histogram and long-tail buckets of an interaction file",
    [](po::options_description& options) {
      add_interaction_options(options);
      options.add_options()("items", po::value<std::string>(),
                            "item catalog (CSV with an id column): counts cold "
                            "items and interactions with unknown items")(
          "item-id-column", po::value<std::string>(),
          "id column of --items (default: item_id, else the first)")(
          "head-min", po::value<std::uint64_t>(),
          "interactions that make an item 'head' (default: the most popular items holding 80% of "
          "interactions)");
    },
    run_stats}};

}  // namespace
}  // namespace tailflow::jobs
