// Reading JSON back: the reports and records that tailflow writes (json_writer.hpp) and later jobs read,
// e.g. `tailflow pipeline` reading evaluation reports and its own stage records.
//
// A small document tree: null, bool, number (double), string, array, object. Object members keep the file's
// order. Malformed text is an Error naming the source, line and column.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tailflow {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;
  static JsonValue boolean(bool value);
  static JsonValue number(double value);
  static JsonValue string(std::string value);
  static JsonValue array(std::vector<JsonValue> items);
  static JsonValue object(std::vector<std::pair<std::string, JsonValue>> members);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }

  // The value, or an Error naming the kind it has instead.
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;
  const std::vector<JsonValue>& items() const;                            // array
  const std::vector<std::pair<std::string, JsonValue>>& members() const;  // object, in file order

  // The member named `key` of an object, or null when this is no object or has no such member.
  const JsonValue* find(std::string_view key) const;
  // The member named `key`; Error when it is missing.
  const JsonValue& at(std::string_view key) const;

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

// Parses one JSON document; `source` names it in error messages ("out/eval.json:3:14: ...").
JsonValue parse_json(std::string_view text, const std::string& source = "JSON text");

// Reads and parses a file; Error if it cannot be read or is not JSON.
JsonValue read_json_file(const std::filesystem::path& path);

}  // namespace tailflow
