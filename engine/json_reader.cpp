#include "engine/json_reader.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/error.hpp"

namespace tailflow {
namespace {

const char* kind_name(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::Kind::kNull:
      return "null";
    case JsonValue::Kind::kBool:
      return "a boolean";
    case JsonValue::Kind::kNumber:
      return "a number";
    case JsonValue::Kind::kString:
      return "a string";
    case JsonValue::Kind::kArray:
      return "an array";
    case JsonValue::Kind::kObject:
      return "an object";
  }
  return "?";
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

// Recursive descent over the text; nesting depth is bounded so hostile input cannot overflow the stack.
class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  JsonValue document() {
    JsonValue value = parse_value(0);
    skip_space();
    if (position_ != text_.size()) fail("unexpected text after the JSON value");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 256;

  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < position_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw Error(fmt::format("{}:{}:{}: {}", source_, line, column, what));
  }

  void skip_space() {
    while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\n' ||
                                        text_[position_] == '\t' || text_[position_] == '\r'))
      ++position_;
  }

  bool take(char expected) {
    skip_space();
    if (position_ < text_.size() && text_[position_] == expected) {
      ++position_;
      return true;
    }
    return false;
  }

  void expect(char expected) {
    if (!take(expected)) fail(fmt::format("expected '{}'", expected));
  }

  bool take_word(std::string_view word) {
    if (text_.substr(position_, word.size()) != word) return false;
    position_ += word.size();
    return true;
  }

  JsonValue parse_value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    skip_space();
    if (position_ >= text_.size()) fail("unexpected end of the text");
    const char c = text_[position_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return JsonValue::string(parse_string());
    if (take_word("true")) return JsonValue::boolean(true);
    if (take_word("false")) return JsonValue::boolean(false);
    if (take_word("null")) return JsonValue();
    if (c == '-' || (c >= '0' && c <= '9')) return JsonValue::number(parse_number());
    fail(fmt::format("unexpected character '{}'", c));
  }

  JsonValue parse_object(int depth) {
    expect('{');
    std::vector<std::pair<std::string, JsonValue>> members;
    if (take('}')) return JsonValue::object(std::move(members));
    do {
      skip_space();
      if (position_ >= text_.size() || text_[position_] != '"') fail("expected a member name in quotes");
      std::string key = parse_string();
      expect(':');
      members.emplace_back(std::move(key), parse_value(depth + 1));
    } while (take(','));
    expect('}');
    return JsonValue::object(std::move(members));
  }

  JsonValue parse_array(int depth) {
    expect('[');
    std::vector<JsonValue> items;
    if (take(']')) return JsonValue::array(std::move(items));
    do {
      items.push_back(parse_value(depth + 1));
    } while (take(','));
    expect(']');
    return JsonValue::array(std::move(items));
  }

  std::uint32_t parse_hex4() {
    if (position_ + 4 > text_.size()) fail("incomplete \\u escape");
    std::uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[position_++];
      code <<= 4;
      if (h >= '0' && h <= '9')
        code |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        code |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        code |= static_cast<std::uint32_t>(h - 'A' + 10);
      else
        fail("bad hex digit in a \\u escape");
    }
    return code;
  }

  std::string parse_string() {
    ++position_;  // the opening quote
    std::string out;
    while (true) {
      if (position_ >= text_.size()) fail("unterminated string");
      const char c = text_[position_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (position_ >= text_.size()) fail("unterminated escape");
      const char e = text_[position_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t code = parse_hex4();
          if (code >= 0xd800 && code < 0xdc00 && take_word("\\u")) {  // a surrogate pair
            const std::uint32_t low = parse_hex4();
            if (low < 0xdc00 || low >= 0xe000) fail("bad low surrogate in a \\u escape");
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          }
          append_utf8(out, code);
          break;
        }
        default:
          fail(fmt::format("unknown escape '\\{}'", e));
      }
    }
  }

  double parse_number() {
    const std::size_t begin = position_;
    if (text_[position_] == '-') ++position_;
    auto digits = [&] {
      const std::size_t start = position_;
      while (position_ < text_.size() && text_[position_] >= '0' && text_[position_] <= '9') ++position_;
      return position_ > start;
    };
    if (!digits()) fail("expected digits");
    if (position_ < text_.size() && text_[position_] == '.') {
      ++position_;
      if (!digits()) fail("expected digits after '.'");
    }
    if (position_ < text_.size() && (text_[position_] == 'e' || text_[position_] == 'E')) {
      ++position_;
      if (position_ < text_.size() && (text_[position_] == '+' || text_[position_] == '-')) ++position_;
      if (!digits()) fail("expected digits in the exponent");
    }
    const std::string number(text_.substr(begin, position_ - begin));
    return std::strtod(number.c_str(), nullptr);
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t position_ = 0;
};

}  // namespace

JsonValue JsonValue::boolean(bool value) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.bool_ = value;
  return v;
}
JsonValue JsonValue::number(double value) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.number_ = value;
  return v;
}
JsonValue JsonValue::string(std::string value) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(value);
  return v;
}
JsonValue JsonValue::array(std::vector<JsonValue> items) {
  JsonValue v;
  v.kind_ = Kind::kArray;
  v.items_ = std::move(items);
  return v;
}
JsonValue JsonValue::object(std::vector<std::pair<std::string, JsonValue>> members) {
  JsonValue v;
  v.kind_ = Kind::kObject;
  v.members_ = std::move(members);
  return v;
}

bool JsonValue::as_bool() const {
  if (kind_ != Kind::kBool) throw Error(fmt::format("expected a boolean, found {}", kind_name(kind_)));
  return bool_;
}
double JsonValue::as_number() const {
  if (kind_ == Kind::kNull) return std::nan("");  // json_writer writes non-finite numbers as null
  if (kind_ != Kind::kNumber) throw Error(fmt::format("expected a number, found {}", kind_name(kind_)));
  return number_;
}
const std::string& JsonValue::as_string() const {
  if (kind_ != Kind::kString) throw Error(fmt::format("expected a string, found {}", kind_name(kind_)));
  return string_;
}
const std::vector<JsonValue>& JsonValue::items() const {
  if (kind_ != Kind::kArray) throw Error(fmt::format("expected an array, found {}", kind_name(kind_)));
  return items_;
}
const std::vector<std::pair<std::string, JsonValue>>& JsonValue::members() const {
  if (kind_ != Kind::kObject) throw Error(fmt::format("expected an object, found {}", kind_name(kind_)));
  return members_;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (const auto& [name, value] : members_)
    if (name == key) return &value;
  return nullptr;
}

const JsonValue& JsonValue::at(std::string_view key) const {
  if (const JsonValue* value = find(key)) return *value;
  throw Error(fmt::format("no member '{}' in {}", key, kind_name(kind_)));
}

JsonValue parse_json(std::string_view text, const std::string& source) {
  return Parser(text, source).document();
}

JsonValue read_json_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(fmt::format("cannot open '{}'", path.string()));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_json(text.str(), path.string());
}

}  // namespace tailflow
