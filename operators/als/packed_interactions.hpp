// Interactions packed to 12 bytes in the caller's own buffer, with the freed half handed back to the OS.
//
// The input arrives as std::vector<Interaction> (24 bytes a row: user, item, value, time). ALS needs neither
// the time nor the original numbering, so the layout rewrites each row in place as (internal user, internal
// item, value) — writing row i at byte 12·i never overtakes the reading of row i+1 at byte 24·(i+1) — and
// then releases the pages of the upper half. The peak memory of building the blocks is then that of the
// input itself instead of input + packed copy + blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "operators/als/degree_relabeling.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::als {

struct PackedInteraction {
  std::uint32_t user = 0;  // internal index
  std::uint32_t item = 0;  // internal index
  float value = 0;
};
static_assert(sizeof(PackedInteraction) == 12);

// A read-only view over the packed rows that lie at the start of the consumed vector's storage.
class PackedInteractions {
 public:
  // Consumes `interactions` (left empty, its storage owned by this object).
  PackedInteractions(std::vector<Interaction>&& interactions, const DegreeRelabeling& users,
                     const DegreeRelabeling& items);

  std::size_t size() const { return size_; }
  PackedInteraction operator[](std::size_t i) const {
    PackedInteraction row;
    std::memcpy(&row, bytes_ + i * sizeof(PackedInteraction), sizeof(row));
    return row;
  }
  // Frees the storage now.
  void release() { storage_ = std::vector<Interaction>(); }

 private:
  std::vector<Interaction> storage_;
  const std::byte* bytes_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tailflow::ops::als
