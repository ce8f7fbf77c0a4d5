// The ALS options shared by `tailflow als` and `tailflow bench als`, spelled as in CLI.md.
#pragma once

#include <boost/program_options.hpp>

#include "operators/als/als_options.hpp"

namespace tailflow::jobs {

// --factors --iterations --reg --reg-scaling --feedback --alpha --solver --cg-steps --biases --exchange
// --seed --tolerance --loss-every, with `defaults` as the default values.
void add_als_options(boost::program_options::options_description& options,
                     const ops::als::AlsOptions& defaults);

// Reads them back; throws Error for unknown spellings or impossible combinations.
ops::als::AlsOptions als_options_from(const boost::program_options::variables_map& values);

}  // namespace tailflow::jobs
