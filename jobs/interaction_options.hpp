// The command-line options that say how to read an interaction file, shared by every job that reads one
// (stats, bench ingest, and later als, split, ...): one spelling everywhere, as in CLI.md.
#pragma once

#include <boost/program_options.hpp>

#include "operators/data/interactions_loader.hpp"

namespace tailflow::jobs {

// Adds --interactions, --columns, --sep, --header, --user-column, --item-column, --value-column,
// --time-column, --event-column, --event-weights and --on-bad-row. `required`: --interactions must be given.
void add_interaction_options(boost::program_options::options_description& options, bool required = true);

// The loader's options from parsed values. Throws Error for malformed values (e.g. --on-bad-row maybe).
ops::data::InteractionsLoadOptions interaction_load_options(
    const boost::program_options::variables_map& values);

}  // namespace tailflow::jobs
