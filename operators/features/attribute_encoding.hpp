// Item attributes as model inputs: numbers standardised, categories numbered by a shared vocabulary.
//
// Both are fitted over ALL ranks' items, and both give the same result whatever the number of ranks:
//   - numbers: count, sum and sum of squares are allreduced (in long double on each rank, then as doubles),
//     so mean and standard deviation are the global ones; a "log" transform (ln(1 + x), for prices, whose
//     spread is multiplicative) is applied first. Missing values become 0 after standardisation: the mean.
//   - categories: each value's item count is summed with reduce_by_key, every rank receives the (value,
//     count) list, and ids follow a fixed order — count descending, then the value's bytes — so the
//     vocabulary is the same for 1 or 5 ranks. Id 0 is "<unknown>": missing values, values below min_count,
//     and values never seen when new items are embedded later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/context.hpp"

namespace tailflow::ops::features {

enum class NumericTransform { kNone, kLog1p };

struct NumericStandardiser {
  NumericTransform transform = NumericTransform::kNone;
  double mean = 0;
  double stddev = 1;          // 1 when all values are equal (or there are none), so nothing is divided by 0
  std::uint64_t count = 0;    // values seen over all ranks
  std::uint64_t missing = 0;  // missing values over all ranks

  // Collective. `local_values`: this rank's values, nullopt where missing.
  static NumericStandardiser fit(Context& ctx, const std::vector<std::optional<double>>& local_values,
                                 NumericTransform transform);
  // The standardised value; 0 for a missing one.
  float apply(std::optional<double> value) const;
};

inline constexpr std::string_view kUnknownValue = "<unknown>";

class CategoricalVocabulary {
 public:
  // Collective. `local_values`: every value occurrence of this rank's items (an item with categories "a|b"
  // contributes "a" and "b"; give each value at most once per item, so counts are item counts). Values seen
  // in fewer than `min_count` items map to the unknown id 0.
  static CategoricalVocabulary build(Context& ctx, const std::vector<std::string>& local_values,
                                     std::uint64_t min_count = 1);
  // From stored values (entry 0 must be kUnknownValue).
  explicit CategoricalVocabulary(std::vector<std::string> values);
  CategoricalVocabulary() : CategoricalVocabulary(std::vector<std::string>{std::string(kUnknownValue)}) {}

  // 0 for unknown or empty values.
  std::int64_t id_of(std::string_view value) const;
  // Number of ids, the unknown entry included.
  std::size_t size() const { return values_.size(); }
  const std::vector<std::string>& values() const { return values_; }
  // Item counts per id (0 for the unknown entry); empty for a vocabulary made from stored values.
  const std::vector<std::uint64_t>& counts() const { return counts_; }

 private:
  std::vector<std::string> values_;
  std::vector<std::uint64_t> counts_;
  std::unordered_map<std::string, std::int64_t> ids_;
};

}  // namespace tailflow::ops::features
