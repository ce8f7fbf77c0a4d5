// How rows become bytes when they move between ranks.
//
// Trivially copyable rows take the fast path: they are sent as they lie in memory, no encoding at all.
// Everything else needs a Codec<T> with write() and read(); codecs for std::string, std::vector, std::pair
// and std::tuple are provided, and a user type gets one by specialising Codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace tailflow {

// Appends bytes to a growing buffer.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::byte>& out) : out_(out) {}
  void write_bytes(const void* data, std::size_t size) {
    std::size_t at = out_.size();
    out_.resize(at + size);
    if (size > 0) std::memcpy(out_.data() + at, data, size);
  }
  template <class T>
  void write_raw(const T& value) {
    write_bytes(&value, sizeof(T));
  }

 private:
  std::vector<std::byte>& out_;
};

// Reads bytes back in the order they were written; running past the end is a bug, reported as such.
class ByteReader {
 public:
  ByteReader(const std::byte* data, std::size_t size) : cursor_(data), end_(data + size) {}
  void read_bytes(void* out, std::size_t size) {
    if (static_cast<std::size_t>(end_ - cursor_) < size)
      throw std::logic_error("ByteReader: read past the end of a message (codec mismatch?)");
    if (size > 0) std::memcpy(out, cursor_, size);
    cursor_ += size;
  }
  template <class T>
  T read_raw() {
    T value;
    read_bytes(&value, sizeof(T));
    return value;
  }
  bool at_end() const { return cursor_ == end_; }

 private:
  const std::byte* cursor_;
  const std::byte* end_;
};

template <class T>
struct Codec;

template <class T>
requires std::is_trivially_copyable_v<T>
struct Codec<T> {
  static void write(ByteWriter& out, const T& value) { out.write_raw(value); }
  static T read(ByteReader& in) { return in.read_raw<T>(); }
};

template <>
struct Codec<std::string> {
  static void write(ByteWriter& out, const std::string& value) {
    out.write_raw<std::uint64_t>(value.size());
    out.write_bytes(value.data(), value.size());
  }
  static std::string read(ByteReader& in) {
    std::string value(in.read_raw<std::uint64_t>(), '\0');
    in.read_bytes(value.data(), value.size());
    return value;
  }
};

template <class U>
struct Codec<std::vector<U>> {
  static void write(ByteWriter& out, const std::vector<U>& value) {
    out.write_raw<std::uint64_t>(value.size());
    if constexpr (std::is_trivially_copyable_v<U>) {
      out.write_bytes(value.data(), value.size() * sizeof(U));
    } else {
      for (const auto& element : value) Codec<U>::write(out, element);
    }
  }
  static std::vector<U> read(ByteReader& in) {
    std::vector<U> value(in.read_raw<std::uint64_t>());
    if constexpr (std::is_trivially_copyable_v<U>) {
      in.read_bytes(value.data(), value.size() * sizeof(U));
    } else {
      for (auto& element : value) element = Codec<U>::read(in);
    }
    return value;
  }
};

template <class A, class B>
requires(!std::is_trivially_copyable_v<std::pair<A, B>>) struct Codec<std::pair<A, B>> {
  static void write(ByteWriter& out, const std::pair<A, B>& value) {
    Codec<A>::write(out, value.first);
    Codec<B>::write(out, value.second);
  }
  static std::pair<A, B> read(ByteReader& in) {
    A first = Codec<A>::read(in);
    B second = Codec<B>::read(in);
    return {std::move(first), std::move(second)};
  }
};

template <class... Ts>
requires(!std::is_trivially_copyable_v<std::tuple<Ts...>>) struct Codec<std::tuple<Ts...>> {
  static void write(ByteWriter& out, const std::tuple<Ts...>& value) {
    std::apply([&](const auto&... parts) { (Codec<std::decay_t<decltype(parts)>>::write(out, parts), ...); },
               value);
  }
  static std::tuple<Ts...> read(ByteReader& in) {
    // Braced initialisation evaluates left to right, matching the write order.
    return std::tuple<Ts...>{Codec<Ts>::read(in)...};
  }
};

}  // namespace tailflow
