#include "operators/data/interactions_loader_id_column.hpp"

#include <bit>
#include <charconv>

#include "engine/comm/collectives.hpp"

namespace tailflow::ops::data {

std::vector<std::int64_t> IdColumn::sorted_values() const {
  std::vector<std::int64_t> values;
  for (std::size_t word = 0; word < present_.size(); ++word)
    for (std::uint64_t bits = present_[word]; bits != 0; bits &= bits - 1)
      values.push_back(
          static_cast<std::int64_t>(word * 64 + static_cast<std::size_t>(std::countr_zero(bits))));
  return values;
}

void IdColumn::switch_to_table() {
  switched_ = true;
  switched_at_ = added_ - 1;  // the row being added is coded by the table
  auto values = sorted_values();
  local_of_value_.assign(values.empty() ? 0 : static_cast<std::size_t>(values.back()) + 1, io::kNoIndex);
  char digits[16];
  for (std::int64_t value : values) {
    auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    local_of_value_[static_cast<std::size_t>(value)] =
        table_.intern(std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }
  present_ = {};
}

io::IdDictionary IdColumn::build(Context& ctx, std::vector<io::DenseIndex>& dense_of_code) const {
  // Every rank must take the same path: integers only if no rank switched.
  const bool integers = comm::allreduce_min(ctx.comm(), std::int32_t{switched_ ? 0 : 1}) == 1;
  std::vector<io::DenseIndex> indices;
  if (integers) {
    auto values = sorted_values();
    auto dictionary = io::IdDictionary::build_integers(ctx, values, &indices);
    dense_of_code.assign(values.empty() ? 0 : static_cast<std::size_t>(values.back()) + 1, io::kNoIndex);
    for (std::size_t i = 0; i < values.size(); ++i)
      dense_of_code[static_cast<std::size_t>(values[i])] = indices[i];
    return dictionary;
  }
  if (switched_) {
    auto keys = table_.keys();
    auto dictionary = io::IdDictionary::build(ctx, keys, &indices);
    dense_of_code = std::move(indices);
    return dictionary;
  }
  // This rank saw integers only, another rank did not: spell the values out.
  auto values = sorted_values();
  std::string arena;
  std::vector<std::size_t> ends;
  char digits[16];
  for (std::int64_t value : values) {
    auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    arena.append(digits, end);
    ends.push_back(arena.size());
  }
  std::vector<std::string_view> keys(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::size_t begin = i == 0 ? 0 : ends[i - 1];
    keys[i] = std::string_view(arena).substr(begin, ends[i] - begin);
  }
  auto dictionary = io::IdDictionary::build(ctx, keys, &indices);
  dense_of_code.assign(values.empty() ? 0 : static_cast<std::size_t>(values.back()) + 1, io::kNoIndex);
  for (std::size_t i = 0; i < values.size(); ++i)
    dense_of_code[static_cast<std::size_t>(values[i])] = indices[i];
  return dictionary;
}

}  // namespace tailflow::ops::data
