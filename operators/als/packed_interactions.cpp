#include "operators/als/packed_interactions.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace tailflow::ops::als {

PackedInteractions::PackedInteractions(std::vector<Interaction>&& interactions, const DegreeRelabeling& users,
                                       const DegreeRelabeling& items)
    : storage_(std::move(interactions)), size_(storage_.size()) {
  static_assert(sizeof(Interaction) >= 2 * sizeof(PackedInteraction),
                "packing in place needs the packed row to be at most half the input row");
  auto* bytes = reinterpret_cast<std::byte*>(storage_.data());
  for (std::size_t i = 0; i < size_; ++i) {
    Interaction in;
    std::memcpy(&in, bytes + i * sizeof(Interaction), sizeof(in));
    PackedInteraction out{users.to_internal[in.user], items.to_internal[in.item], in.value};
    std::memcpy(bytes + i * sizeof(PackedInteraction), &out, sizeof(out));
  }
  bytes_ = bytes;
  // Whole pages strictly inside the unused tail go back to the OS. Touching them again would read zeros,
  // which is harmless: nothing reads them, and the vector's elements are trivially destructible.
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  auto first = reinterpret_cast<std::uintptr_t>(bytes + size_ * sizeof(PackedInteraction));
  auto last = reinterpret_cast<std::uintptr_t>(bytes + size_ * sizeof(Interaction));
  first = (first + page - 1) / page * page;
  last = last / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace tailflow::ops::als
