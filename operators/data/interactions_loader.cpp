#include "operators/data/interactions_loader.hpp"

#include <fmt/format.h>
#include <sys/mman.h>

#include <cmath>
#include <filesystem>

#include "engine/error.hpp"
#include "engine/io/parse_number.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/data/interactions_loader_id_column.hpp"

namespace tailflow::ops::data {

EventWeights parse_event_weights(const std::string& text) {
  EventWeights weights;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view entry = io::trim_spaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (entry.empty()) continue;
    std::size_t equals = entry.find('=');
    float weight = 0;
    if (equals == std::string_view::npos || equals == 0 ||
        io::parse_number(entry.substr(equals + 1), weight) != io::NumberError::kNone)
      throw Error(fmt::format(
          "event weights: '{}' is not of the form event=weight (as in view=1,cart=3,purchase=5)", entry));
    weights.emplace_back(std::string(io::trim_spaces(entry.substr(0, equals))), weight);
  }
  if (weights.empty()) throw Error("event weights: none given (expected e.g. view=1,cart=3,purchase=5)");
  return weights;
}

std::vector<std::string> parse_column_list(const std::string& text) {
  std::vector<std::string> names;
  std::string_view rest = text;
  while (true) {
    std::size_t comma = rest.find(',');
    names.emplace_back(io::trim_spaces(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return names;
}

namespace {

// Usual spellings of each role's column, tried in order (case-insensitively).
const std::vector<std::string> kUserNames = {"user",        "user_id",    "userId",   "uid",
                                             "customer_id", "visitor_id", "visitorid"};
const std::vector<std::string> kItemNames = {"item",       "item_id",   "itemId", "movieId", "movie_id",
                                             "product_id", "productId", "asin",   "sku"};
const std::vector<std::string> kValueNames = {"value", "rating", "weight", "score"};
const std::vector<std::string> kTimeNames = {"time", "timestamp", "ts", "datetime", "event_time"};
const std::vector<std::string> kEventNames = {"event", "event_type", "type", "action"};

std::optional<std::size_t> find_any(const io::CsvReader& reader, const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (auto found = reader.find_column(name)) return found;
  return std::nullopt;
}

// The column of one role: the explicit choice, else a usual name, else (files without names) a position.
std::optional<std::size_t> resolve(const io::CsvReader& reader, const std::string& explicit_choice,
                                   const std::vector<std::string>& usual_names,
                                   std::optional<std::size_t> position_without_names) {
  if (!explicit_choice.empty()) return reader.column(explicit_choice);
  if (auto found = find_any(reader, usual_names)) return found;
  if (reader.column_names().empty() && position_without_names &&
      *position_without_names < reader.column_count())
    return position_without_names;
  return std::nullopt;
}

[[noreturn]] void fail_for_all(const io::CsvReader& reader, const std::string& what) {
  throw CollectiveError(fmt::format("{}: {}", reader.path(), what));
}

std::string known_columns(const io::CsvReader& reader) {
  std::string text;
  for (std::size_t c = 0; c < reader.column_count(); ++c)
    text += fmt::format("{}{}", c ? ", " : "", reader.column_label(c));
  return text;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

// "YYYY-MM-DD", optionally followed by " HH:MM:SS" or "THH:MM:SS", fractional seconds, and "Z" or " UTC".
std::optional<std::int64_t> parse_iso_time(std::string_view text) {
  auto digits = [&](std::size_t at, std::size_t count) -> std::optional<unsigned> {
    if (at + count > text.size()) return std::nullopt;
    unsigned value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
    }
    return value;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-' || *month < 1 || *month > 12 || *day < 1 ||
      *day > 31)
    return std::nullopt;
  std::int64_t seconds = days_from_civil(*year, *month, *day) * 86400;
  std::string_view rest = text.substr(10);
  if (rest.empty()) return seconds;
  if (rest[0] != ' ' && rest[0] != 'T') return std::nullopt;
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!hour || !minute || !second || text[13] != ':' || text[16] != ':' || *hour > 23 || *minute > 59 ||
      *second > 60)
    return std::nullopt;
  seconds += *hour * 3600 + *minute * 60 + *second;
  rest = text.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') rest.remove_prefix(1);
  }
  if (rest.empty() || rest == "Z" || rest == " UTC" || rest == "+00:00") return seconds;
  return std::nullopt;
}

std::int64_t parse_time(const io::CsvRow& row, std::size_t column) {
  std::string_view text = row[column];
  std::int64_t seconds = 0;
  if (io::parse_number(text, seconds) == io::NumberError::kNone) return seconds;
  double fractional = 0;
  if (io::parse_number(text, fractional) == io::NumberError::kNone && std::abs(fractional) < 9e18)
    return static_cast<std::int64_t>(std::floor(fractional));
  if (auto iso = parse_iso_time(io::trim_spaces(text))) return *iso;
  std::string shown(text.substr(0, 80));
  if (text.size() > 80) shown += "...";
  row.fail(column,
           fmt::format("'{}' is not a time (expected seconds since 1970 or YYYY-MM-DD[ HH:MM:SS])", shown));
}

// Asks the kernel for 2 MiB pages under a large fresh buffer: filling it then takes a few hundred page
// faults instead of one per 4 KiB, which is a large part of ingest time on virtual machines. Only a hint.
void advise_huge_pages(void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = 2u << 20;
  auto first = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) / kHuge * kHuge;
  auto last = (reinterpret_cast<std::uintptr_t>(data) + bytes) / kHuge * kHuge;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace

LoadedInteractions load_interactions(Context& ctx, const InteractionsLoadOptions& options) {
  Stopwatch watch;
  io::CsvOptions csv;
  csv.separator = options.separator;
  csv.header = options.header;
  csv.column_names = options.columns;
  csv.bad_rows = options.bad_rows;
  io::CsvReader reader(ctx, options.path, csv);

  // Roles to columns. Every rank sees the same layout, so every rank decides (and fails) alike.
  const bool weighted_events = !options.event_weights.empty();
  auto user = resolve(reader, options.user_column, kUserNames, 0);
  auto item = resolve(reader, options.item_column, kItemNames, 1);
  if (!user || !item)
    fail_for_all(reader,
                 fmt::format("no {} column among [{}]; name it with --{}-column or give the file's columns "
                             "with --columns user,item[,value][,time]",
                             !user ? "user" : "item", known_columns(reader), !user ? "user" : "item"));
  std::optional<std::size_t> event;
  if (weighted_events) {
    event = resolve(reader, options.event_column, kEventNames, std::nullopt);
    if (!event)
      fail_for_all(reader,
                   fmt::format("event weights were given but there is no event column among [{}]; name it "
                               "with --event-column",
                               known_columns(reader)));
  } else if (!options.event_column.empty()) {
    fail_for_all(reader, "--event-column needs --event-weights (e.g. view=1,cart=3,purchase=5)");
  }
  // With event weights the value column is used only when asked for, so weights are not applied twice.
  auto value = weighted_events && options.value_column.empty()
                   ? std::nullopt
                   : resolve(reader, options.value_column, kValueNames, 2);
  auto time = resolve(reader, options.time_column, kTimeNames, 3);
  std::vector<std::pair<const char*, std::optional<std::size_t>>> roles = {
      {"user", user}, {"item", item}, {"value", value}, {"time", time}, {"event", event}};
  std::string used;
  for (std::size_t a = 0; a < roles.size(); ++a) {
    if (!roles[a].second) continue;
    for (std::size_t b = a + 1; b < roles.size(); ++b)
      if (roles[b].second == roles[a].second)
        fail_for_all(reader,
                     fmt::format("column '{}' cannot be both the {} and the {} column",
                                 reader.column_label(*roles[a].second), roles[a].first, roles[b].first));
    used += fmt::format("{}{}={}", used.empty() ? "" : " ", roles[a].first,
                        reader.column_label(*roles[a].second));
  }

  // Parse this rank's rows; ids become codes first (their values, or local numbers), dense global indices
  // below.
  IdColumn users;
  IdColumn items;
  // Rows hold the columns' codes until the dictionaries replace them with global indices (in place: one
  // array of rows, not two).
  std::vector<Interaction> rows;
  rows.reserve(reader.file_bytes() / std::max(1, ctx.size()) / 24 + 16);
  advise_huge_pages(rows.data(), rows.capacity() * sizeof(Interaction));
  const std::size_t user_column = *user;
  const std::size_t item_column = *item;
  auto report = reader.for_each_row([&](const io::CsvRow& row) {
    std::string_view user_id = row[user_column];
    std::string_view item_id = row[item_column];
    if (user_id.empty()) row.fail(user_column, "is empty: every interaction needs a user id");
    if (item_id.empty()) row.fail(item_column, "is empty: every interaction needs an item id");
    float weight = value ? row.number<float>(*value) : 1.0f;
    if (event) {
      std::string_view name = row[*event];
      const float* found = nullptr;
      for (const auto& [event_name, event_weight] : options.event_weights)
        if (event_name == name) found = &event_weight;
      if (!found) {
        std::string known;
        for (const auto& entry : options.event_weights) known += (known.empty() ? "" : ", ") + entry.first;
        row.fail(*event, fmt::format("unknown event '{}' (weights are given for: {})", name, known));
      }
      weight *= *found;
    }
    std::int64_t seconds = time ? parse_time(row, *time) : 0;
    rows.push_back({users.add(user_id), items.add(item_id), weight, seconds});
  });

  LoadedInteractions loaded;
  loaded.report = report;
  loaded.total = report.rows;
  loaded.has_value = value.has_value() || weighted_events;
  loaded.has_time = time.has_value();
  loaded.columns_used = used;
  if (report.rows == 0) {
    if (report.skipped_rows > 0)
      fail_for_all(reader, fmt::format("all {} rows are malformed, for example: {}", report.skipped_rows,
                                       report.skipped_examples.front()));
    throw CollectiveError(InputError(options.path, 2, "the file has a header but no interactions").what());
  }

  std::vector<io::DenseIndex> user_index;
  std::vector<io::DenseIndex> item_index;
  loaded.users = users.build(ctx, user_index);
  loaded.items = items.build(ctx, item_index);
  for (std::uint64_t r = 0; r < users.rows_before_switch(); ++r) rows[r].user = users.recode(rows[r].user);
  for (std::uint64_t r = 0; r < items.rows_before_switch(); ++r) rows[r].item = items.recode(rows[r].item);
  for (auto& row : rows) {
    row.user = user_index[row.user];
    row.item = item_index[row.item];
  }
  loaded.local = std::move(rows);

  std::string file = std::filesystem::path(options.path).filename().string();
  ctx.log().info("{}: {} interactions, {} users, {} items ({}; separator {}{})", file, loaded.total,
                 loaded.users.size(), loaded.items.size(), used,
                 io::describe_separator(reader.dialect().separator),
                 reader.dialect().has_header ? ", header" : ", no header");
  if (report.skipped_rows > 0) {
    ctx.log().info("{}: skipped {} malformed row{} (--on-bad-row skip); first:", file, report.skipped_rows,
                   report.skipped_rows == 1 ? "" : "s");
    for (const auto& example : report.skipped_examples) ctx.log().info("  {}", example);
  }
  ctx.metrics().record(Stage{"ingest " + file, report.local_rows, loaded.local.size(), 0, watch.seconds()});
  return loaded;
}

}  // namespace tailflow::ops::data
