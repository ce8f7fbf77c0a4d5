// One id column (users or items) of an interaction file while it is parsed, then its dense indices.
//
// Most files number users and items with small integers. While that holds, a row keeps the id's value and a
// presence bitmap (one bit per value, small enough to stay in cache) records which values occur: no table
// lookup per row, and the distinct ids come out sorted for IdDictionary::build_integers, which moves 8-byte
// integers instead of strings. The first other id (a name, a leading zero, a large number) switches the
// column to a LocalIdTable; the values seen so far are interned then and their rows re-coded at the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.hpp"
#include "engine/io/id_dictionary.hpp"

namespace tailflow::ops::data {

class IdColumn {
 public:
  // Largest value kept as a value: the bitmap stays at most 512 KiB and the value -> index map 16 MiB.
  static constexpr std::uint32_t kMaxValue = (1u << 22) - 1;

  // The code a row stores for `id`: its value, or its number in the table after a switch.
  std::uint32_t add(std::string_view id) {
    ++added_;
    if (!switched_) {
      std::uint32_t value = 0;
      if (small_value(id, value)) {
        const std::size_t word = value / 64;
        if (word >= present_.size()) present_.resize(std::max<std::size_t>(word + 1, 2 * present_.size()), 0);
        present_[word] |= std::uint64_t{1} << (value % 64);
        return value;
      }
      switch_to_table();
    }
    if (has_last_ && id == last_id_) return last_code_;  // files sorted by user repeat ids row after row
    last_code_ = table_.intern(id);
    last_id_.assign(id);
    has_last_ = true;
    return last_code_;
  }

  // Collective: the dictionary of the column over all ranks. `dense_of_code[code]` is the dense index of the
  // id behind each code add() returned, except for rows added before a switch: re-code those first with
  // recode_before_switch().
  io::IdDictionary build(Context& ctx, std::vector<io::DenseIndex>& dense_of_code) const;

  // Rows [0, rows_before_switch()) hold values that recode() turns into table codes.
  std::uint64_t rows_before_switch() const { return switched_ ? switched_at_ : 0; }
  std::uint32_t recode(std::uint32_t value) const { return local_of_value_[value]; }

 private:
  // Canonical decimal (digits only, no leading zero) of at most kMaxValue.
  static bool small_value(std::string_view id, std::uint32_t& value) {
    if (id.empty() || id.size() > 7 || (id[0] == '0' && id.size() > 1)) return false;
    std::uint32_t parsed = 0;
    for (char c : id) {
      if (c < '0' || c > '9') return false;
      parsed = parsed * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (parsed > kMaxValue) return false;
    value = parsed;
    return true;
  }
  void switch_to_table();
  std::vector<std::int64_t> sorted_values() const;

  std::vector<std::uint64_t> present_;  // bit v: value v occurs (before any switch)
  bool switched_ = false;
  std::uint64_t added_ = 0;
  std::uint64_t switched_at_ = 0;
  std::vector<std::uint32_t> local_of_value_;  // after a switch: value seen before it -> table number
  io::LocalIdTable table_;
  bool has_last_ = false;
  std::uint32_t last_code_ = 0;
  std::string last_id_;
};

}  // namespace tailflow::ops::data
