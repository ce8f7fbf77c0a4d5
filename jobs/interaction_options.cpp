#include "jobs/interaction_options.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"

namespace tailflow::jobs {

namespace po = boost::program_options;

void add_interaction_options(po::options_description& options, bool required) {
  auto path = po::value<std::string>();
  if (required) path->required();
  options.add_options()("interactions", path, "interaction file (CSV/TSV; header or --columns)")(
      "columns", po::value<std::string>(),
      "names of the columns of a file without a header, in order, e.g. user,item,value,time (,, skips one)")(
      "sep", po::value<std::string>(), "field separator: ',', 'tab', '::' or ';' (detected when absent)")(
      "header", po::value<std::string>()->default_value("auto"),
      "does the file start with a header: auto|yes|no")(
      "user-column", po::value<std::string>()->default_value(""), "user id column: name or 0-based index")(
      "item-column", po::value<std::string>()->default_value(""), "item id column: name or 0-based index")(
      "value-column", po::value<std::string>()->default_value(""),
      "rating/weight column (default: value, rating, weight or score; 1 when there is none)")(
      "time-column", po::value<std::string>()->default_value(""),
      "time column (seconds or YYYY-MM-DD HH:MM:SS)")("event-column",
                                                      po::value<std::string>()->default_value(""),
                                                      "event type column (with --event-weights)")(
      "event-weights", po::value<std::string>()->default_value(""),
      "implicit signals: weight per event type, e.g. view=1,cart=3,purchase=5")(
      "on-bad-row", po::value<std::string>()->default_value("fail"),
      "malformed rows: fail (stop, naming file:line) or skip (count and report them)");
}

ops::data::InteractionsLoadOptions interaction_load_options(const po::variables_map& values) {
  ops::data::InteractionsLoadOptions options;
  if (values.count("interactions")) options.path = values["interactions"].as<std::string>();
  if (values.count("columns"))
    options.columns = ops::data::parse_column_list(values["columns"].as<std::string>());
  if (values.count("sep")) options.separator = io::separator_from_option(values["sep"].as<std::string>());
  const auto header = values["header"].as<std::string>();
  if (header == "auto")
    options.header = io::HeaderMode::kAuto;
  else if (header == "yes")
    options.header = io::HeaderMode::kPresent;
  else if (header == "no")
    options.header = io::HeaderMode::kAbsent;
  else
    throw Error(fmt::format("--header must be auto, yes or no, not '{}'", header));
  options.user_column = values["user-column"].as<std::string>();
  options.item_column = values["item-column"].as<std::string>();
  options.value_column = values["value-column"].as<std::string>();
  options.time_column = values["time-column"].as<std::string>();
  options.event_column = values["event-column"].as<std::string>();
  const auto weights = values["event-weights"].as<std::string>();
  if (!weights.empty()) options.event_weights = ops::data::parse_event_weights(weights);
  options.bad_rows = io::bad_row_policy_from_option(values["on-bad-row"].as<std::string>());
  return options;
}

}  // namespace tailflow::jobs
