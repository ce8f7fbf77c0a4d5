// Parsing one CSV field as a number, fast and strict.
//
// std::from_chars does no locale lookups, no allocation and no copying, which is what a reader that parses
// hundreds of megabytes per second needs. "Strict" means the whole field must be the number: "4.0" is a
// float, "84743496 https://..." is not an integer. Surrounding spaces and a leading '+' are tolerated
// because spreadsheets write them; NaN and infinity are refused because no rating or weight can be either.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <optional>
#include <string_view>
#include <system_error>

namespace tailflow::io {

template <class T>
concept Number = std::integral<T> || std::floating_point<T>;

inline std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// Why a field is not a number of type T (for error messages).
enum class NumberError { kNone, kEmpty, kNotANumber, kOutOfRange };

// Parses `text` into `value`; returns kNone on success. `value` is unchanged on failure.
template <Number T>
NumberError parse_number(std::string_view text, T& value) {
  text = trim_spaces(text);
  if (text.empty()) return NumberError::kEmpty;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (*first == '+' && last - first > 1 && first[1] != '-') ++first;
  T parsed{};
  std::from_chars_result result;
  if constexpr (std::floating_point<T>) {
    result = std::from_chars(first, last, parsed, std::chars_format::general);
  } else {
    result = std::from_chars(first, last, parsed, 10);
  }
  if (result.ec == std::errc::result_out_of_range) return NumberError::kOutOfRange;
  if (result.ec != std::errc{} || result.ptr != last) return NumberError::kNotANumber;
  if constexpr (std::floating_point<T>) {
    if (!std::isfinite(parsed)) return NumberError::kNotANumber;
  }
  value = parsed;
  return NumberError::kNone;
}

template <Number T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  if (parse_number(text, value) != NumberError::kNone) return std::nullopt;
  return value;
}

}  // namespace tailflow::io
