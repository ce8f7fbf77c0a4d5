// Loading an interaction file (who did what to which item, how strongly, when) into dense-indexed rows.
//
// Each rank parses its own byte range of the file (io::CsvReader) into local Interaction rows; the user and
// item id dictionaries number the external ids 0..n-1 independently of the rank count. Columns are found by
// their usual names (userId, user_id, movieId, item_id, rating, value, timestamp, event, ...), by an explicit
// name or index, or — for files without a header — by the names given with `--columns user,item,value,time`.
// Implicit signals given as event names ("view", "purchase") become values through event weights.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/context.hpp"
#include "engine/io/csv_reader.hpp"
#include "engine/io/id_dictionary.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::data {

// Event name -> weight, e.g. {{"view", 1}, {"cart", 3}, {"purchase", 5}}.
using EventWeights = std::vector<std::pair<std::string, float>>;

// Parses "view=1,cart=3,purchase=5". Throws Error naming the bad entry.
EventWeights parse_event_weights(const std::string& text);

// "user,item,value,time" -> {"user", "item", "value", "time"}. Empty names (",,") skip a column.
std::vector<std::string> parse_column_list(const std::string& text);

struct InteractionsLoadOptions {
  std::string path;
  // Names of the file's columns, in order, for a file without a header (--columns). The roles below are then
  // found among these names.
  std::vector<std::string> columns;
  std::optional<std::string> separator;  // detected when absent
  io::HeaderMode header = io::HeaderMode::kAuto;
  // Each role: a column name or 0-based index; empty = look for the usual names.
  std::string user_column;
  std::string item_column;
  std::string value_column;  // none found: every interaction weighs 1
  std::string time_column;   // none found: time 0
  std::string event_column;  // used with event_weights
  EventWeights
      event_weights;  // non-empty: value = weight of the row's event (times the value column, if given)
  io::BadRowPolicy bad_rows = io::BadRowPolicy::kFailFast;
};

struct LoadedInteractions {
  std::vector<Interaction> local;  // this rank's rows, in file order
  io::IdDictionary users;
  io::IdDictionary items;
  std::uint64_t total = 0;   // interactions over all ranks
  io::CsvReadReport report;  // rows, skipped rows and their first examples
  bool has_value = false;    // a value column or event weights gave the values
  bool has_time = false;
  std::string columns_used;  // "user=userId item=movieId value=rating time=timestamp", for the log
};

// Collective. Throws CollectiveError (naming file, line, field and value) for unreadable or malformed input,
// unless options.bad_rows drops malformed rows; skipped rows are then counted and logged, never silent.
LoadedInteractions load_interactions(Context& ctx, const InteractionsLoadOptions& options);

}  // namespace tailflow::ops::data
