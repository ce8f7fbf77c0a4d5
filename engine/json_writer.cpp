#include "engine/json_writer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/error.hpp"

namespace tailflow {
namespace {

std::string encode_number(double value) {
  if (!std::isfinite(value)) return "null";
  return fmt::format("{}", value);
}

}  // namespace

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

JsonObject& JsonObject::add(const std::string& key, double value) {
  members_.emplace_back(key, encode_number(value));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, std::int64_t value) {
  members_.emplace_back(key, fmt::format("{}", value));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, std::uint64_t value) {
  members_.emplace_back(key, fmt::format("{}", value));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, bool value) {
  members_.emplace_back(key, value ? "true" : "false");
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const std::string& value) {
  members_.emplace_back(key, json_quote(value));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const std::vector<double>& values) {
  std::string encoded = "[";
  for (std::size_t i = 0; i < values.size(); ++i) encoded += (i ? ", " : "") + encode_number(values[i]);
  members_.emplace_back(key, encoded + "]");
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const JsonObject& value) {
  members_.emplace_back(key, value.dump(-1));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const std::vector<JsonObject>& values) {
  std::string encoded = "[";
  for (std::size_t i = 0; i < values.size(); ++i) encoded += (i ? ", " : "") + values[i].dump(-1);
  members_.emplace_back(key, encoded + "]");
  return *this;
}

std::string JsonObject::dump(int indent) const {
  // indent < 0: compact, on one line (used for nested values).
  if (indent < 0) {
    std::string out = "{";
    for (std::size_t i = 0; i < members_.size(); ++i)
      out += (i ? ", " : "") + json_quote(members_[i].first) + ": " + members_[i].second;
    return out + "}";
  }
  std::string pad(indent + 2, ' ');
  std::string out = "{\n";
  for (std::size_t i = 0; i < members_.size(); ++i)
    out += pad + json_quote(members_[i].first) + ": " + members_[i].second + (i + 1 < members_.size() ? ",\n" : "\n");
  return out + std::string(indent, ' ') + "}";
}

void write_json_file(const std::string& path, const JsonObject& object) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) throw Error(fmt::format("cannot write '{}'", temporary));
    out << object.dump() << "\n";
    if (!out) throw Error(fmt::format("error while writing '{}'", temporary));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    throw Error(fmt::format("cannot rename '{}' to '{}'", temporary, path));
}

}  // namespace tailflow
