// One user-item interaction, after ingestion: dense indices instead of external id strings.
//
// Users and items are numbered 0..n-1 by the id dictionaries (engine/io/id_dictionary.hpp), which keep the
// reverse map for output. `value` is the rating (explicit feedback) or the signal weight (implicit: a view,
// a purchase); `time` is seconds since the epoch, 0 when the input has no time column.
#pragma once

#include <cstdint>
#include <type_traits>

namespace tailflow::ops {

using UserIndex = std::uint32_t;
using ItemIndex = std::uint32_t;

struct Interaction {
  UserIndex user = 0;
  ItemIndex item = 0;
  float value = 1.0f;
  std::int64_t time = 0;

  friend bool operator==(const Interaction&, const Interaction&) = default;
};

static_assert(std::is_trivially_copyable_v<Interaction>, "interactions move between ranks as raw bytes");

}  // namespace tailflow::ops
