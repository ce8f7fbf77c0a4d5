#include "operators/als/degree_relabeling.hpp"

#include <algorithm>
#include <numeric>

namespace tailflow::ops::als {

DegreeRelabeling DegreeRelabeling::by_descending_degree(std::span<const std::uint32_t> external_degrees) {
  DegreeRelabeling relabeling;
  relabeling.to_external.resize(external_degrees.size());
  std::iota(relabeling.to_external.begin(), relabeling.to_external.end(), 0u);
  std::stable_sort(
      relabeling.to_external.begin(), relabeling.to_external.end(),
      [&](std::uint32_t a, std::uint32_t b) { return external_degrees[a] > external_degrees[b]; });
  relabeling.to_internal.resize(external_degrees.size());
  for (std::uint32_t internal = 0; internal < relabeling.to_external.size(); ++internal)
    relabeling.to_internal[relabeling.to_external[internal]] = internal;
  return relabeling;
}

}  // namespace tailflow::ops::als
