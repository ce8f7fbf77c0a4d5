// Hashes that are the same on every rank, every run and every machine.
//
// Partitioning by key must send a key to the same rank whichever rank holds it, and seeded decisions (splits,
// tie-breaking) must not depend on the rank count; std::hash guarantees neither (and is the identity for
// integers in libstdc++, which partitions structured ids badly).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tailflow {

// The splitmix64 finaliser: a cheap bijective mix with good avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr std::uint64_t combine_hashes(std::uint64_t seed, std::uint64_t value) {
  return mix64(seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2)));
}

inline std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
}
inline std::uint64_t stable_hash(const std::string& text) {
  return stable_hash(std::string_view(text));
}
inline std::uint64_t stable_hash(const char* text) {
  return stable_hash(std::string_view(text));
}

template <class T>
requires std::is_integral_v<T> || std::is_enum_v<T>
constexpr std::uint64_t stable_hash(T value) {
  return mix64(static_cast<std::uint64_t>(value));
}

template <class T>
requires std::is_floating_point_v<T> std::uint64_t stable_hash(T value) {
  if (value == 0) value = 0;  // +0 and -0 are equal keys
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return mix64(bits);
}

template <class A, class B>
std::uint64_t stable_hash(const std::pair<A, B>& pair) {
  return combine_hashes(stable_hash(pair.first), stable_hash(pair.second));
}

template <class... Ts>
std::uint64_t stable_hash(const std::tuple<Ts...>& tuple) {
  std::uint64_t h = 0;
  std::apply([&](const auto&... parts) { ((h = combine_hashes(h, stable_hash(parts))), ...); }, tuple);
  return h;
}

// Hashes several values at once: stable_hash_of(seed, user, item).
template <class... Ts>
std::uint64_t stable_hash_of(const Ts&... values) {
  std::uint64_t h = 0;
  ((h = combine_hashes(h, stable_hash(values))), ...);
  return h;
}

// A functor for hash containers keyed by types that stable_hash understands.
struct StableHasher {
  template <class T>
  std::size_t operator()(const T& value) const {
    return static_cast<std::size_t>(stable_hash(value));
  }
};

}  // namespace tailflow
