#include "operators/features/text_encoding.hpp"

#include <cstddef>

namespace tailflow::ops::features {

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  auto continuation = [&](std::size_t at) { return at < n && (byte(at) & 0xC0) == 0x80; };
  while (i < n) {
    const unsigned char c = byte(i);
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!continuation(i + 1)) return false;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (!continuation(i + 1) || !continuation(i + 2)) return false;
      const unsigned char c1 = byte(i + 1);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) return false;  // overlong, surrogate
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return false;
      const unsigned char c1 = byte(i + 1);
      if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) return false;  // overlong, > U+10FFFF
      i += 4;
    } else {
      return false;  // a stray continuation byte, or a lead byte that UTF-8 never uses
    }
  }
  return true;
}

std::string latin1_to_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char raw : text) {
    const auto c = static_cast<unsigned char>(raw);
    if (c < 0x80) {
      out.push_back(raw);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool ensure_utf8(std::string& text) {
  if (is_valid_utf8(text)) return false;
  text = latin1_to_utf8(text);
  return true;
}

}  // namespace tailflow::ops::features
