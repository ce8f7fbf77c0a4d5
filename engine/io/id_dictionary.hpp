// Distributed id dictionaries: external id strings ("u123", "7", "B07XJ8C8F5") to dense indices 0..n-1.
//
// Operators want users and items numbered densely (array indices, block layouts); outputs want the original
// ids back. An IdDictionary does both, across ranks:
//   - build(): every rank passes the ids it has seen (build_integers(): ids that are integers, faster). The
//   distinct ids are range-partitioned to owner ranks
//     (splitters from a sample of all ranks' ids, one alltoallv of bytes), each owner sorts its share, and
//     an exclusive prefix sum of the owners' counts numbers them. Indices follow one global order — by
//     integer value when every id is an integer, otherwise by bytes — so they do not depend on the number of
//     ranks. Each rank gets the indices of its own ids back in a second alltoallv.
//   - the reverse map stays distributed: rank r owns the contiguous indices [owned_begin, owned_end).
//     strings_of() fetches the strings of any indices; all_strings() gathers the whole map (small
//     dictionaries only).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.hpp"

namespace tailflow::io {

using DenseIndex = std::uint32_t;
inline constexpr DenseIndex kNoIndex = std::numeric_limits<DenseIndex>::max();

// True when `text` is the canonical decimal spelling of an int64 (no sign '+', no leading zero, no spaces,
// not "-0"), whose value is then stored in `value`: such ids can travel and be compared as integers.
bool parse_canonical_integer(std::string_view text, std::int64_t& value);

// Local de-duplication: gives each distinct string a local number 0..k-1 in first-seen order and keeps a
// copy of it, so the strings may come from a buffer that is freed afterwards. Meant for the hot loop of a
// reader, so no allocation per lookup and few cache misses: ids that are small canonical integers ("0" ..
// "4194303", no sign or leading zero — most files' ids) index an array directly; other ids go to an
// open-addressing hash table whose slots hold short keys inline, so a hit rarely touches the key store.
class LocalIdTable {
 public:
  LocalIdTable();
  std::uint32_t intern(std::string_view key);
  std::size_t size() const { return starts_.size() - 1; }
  std::string_view key(std::uint32_t local) const {
    return std::string_view(arena_).substr(starts_[local], starts_[local + 1] - starts_[local]);
  }
  // Views into the table, valid until the next intern().
  std::vector<std::string_view> keys() const;

 private:
  static constexpr std::uint32_t kMaxDirectValue = (1u << 22) - 1;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t inline_key = 0;  // the key's bytes when it has at most 8
    std::uint32_t local = kNoIndex;
    std::uint32_t length = 0;
  };
  std::uint32_t add(std::string_view key);
  std::uint32_t intern_hashed(std::string_view key);
  void grow();

  std::string arena_;                    // all keys, back to back
  std::vector<std::uint64_t> starts_;    // key i is arena_[starts_[i], starts_[i+1])
  std::vector<std::uint32_t> by_value_;  // small canonical integers: value -> local, or kNoIndex
  std::vector<Slot> slots_;              // power-of-two size, at most half full
  std::size_t hashed_ = 0;               // keys in slots_
};

class IdDictionary {
 public:
  IdDictionary() = default;

  // Collective. Numbers the distinct strings among all ranks' `ids` (duplicates allowed, empty spans too).
  // If `indices` is given it receives the index of each of this rank's ids, in order.
  static IdDictionary build(Context& ctx, std::span<const std::string_view> ids,
                            std::vector<DenseIndex>* indices = nullptr);
  // Collective. The same dictionary as build() of the ids' decimal spellings, for ids that are integers:
  // 8 bytes per id travel instead of strings, and owners merge sorted runs instead of sorting strings.
  // `sorted_ids` must be strictly increasing on each rank; `indices` receives the index of each.
  static IdDictionary build_integers(Context& ctx, std::span<const std::int64_t> sorted_ids,
                                     std::vector<DenseIndex>* indices = nullptr);

  // Distinct ids over all ranks.
  std::uint64_t size() const { return size_; }
  // True when every id is an integer (then indices follow integer order).
  bool numeric() const { return numeric_; }

  // Collective: the index of each of `ids`, or kNoIndex for ids that are not in the dictionary.
  std::vector<DenseIndex> lookup(Context& ctx, std::span<const std::string_view> ids) const;
  // Collective: the string of each of `indices` (each < size()).
  std::vector<std::string> strings_of(Context& ctx, std::span<const DenseIndex> indices) const;
  // Collective: the whole reverse map on every rank, index order. For small dictionaries.
  std::vector<std::string> all_strings(Context& ctx) const;

  // This rank's share of the reverse map: indices [owned_begin(), owned_end()).
  DenseIndex owned_begin() const { return owned_begin_; }
  DenseIndex owned_end() const { return owned_begin_ + static_cast<DenseIndex>(owned_starts_.size() - 1); }
  std::string_view owned_string(DenseIndex index) const;

 private:
  // The rank that owns `text`, whose integer value is `number` in numeric dictionaries.
  int owner_of(std::int64_t number, std::string_view text) const;
  // Index of an owned id, or kNoIndex.
  DenseIndex find_owned(std::int64_t number, std::string_view text) const;
  // Collective, once this rank's sorted owned ids are in place: dense indices follow rank order, so rank r's
  // first index is the number of ids owned by ranks below it.
  void number_owned_ids(comm::Communicator& comm);

  std::uint64_t size_ = 0;
  bool numeric_ = false;
  // Owner ranges: rank r owns keys in (splitters_[r-1], splitters_[r]] under the global order.
  std::vector<std::string> splitters_;
  std::vector<std::int64_t> splitter_numbers_;
  // Index ranges: rank r owns [index_starts_[r], index_starts_[r+1]).
  std::vector<std::uint64_t> index_starts_;
  DenseIndex owned_begin_ = 0;
  std::string owned_arena_;
  std::vector<std::uint64_t> owned_starts_ = {0};
  std::vector<std::int64_t> owned_numbers_;  // numeric dictionaries only
};

}  // namespace tailflow::io
