// A small JSON object builder for benchmark and report files.
//
// Keys keep their insertion order, so files diff well between runs. Numbers are written with enough digits to
// round-trip; non-finite numbers become null (JSON has no NaN).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tailflow {

class JsonObject {
 public:
  JsonObject& add(const std::string& key, double value);
  JsonObject& add(const std::string& key, std::int64_t value);
  JsonObject& add(const std::string& key, std::uint64_t value);
  JsonObject& add(const std::string& key, int value) { return add(key, std::int64_t{value}); }
  JsonObject& add(const std::string& key, bool value);
  JsonObject& add(const std::string& key, const std::string& value);
  JsonObject& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  JsonObject& add(const std::string& key, const std::vector<double>& values);
  JsonObject& add(const std::string& key, const JsonObject& value);
  JsonObject& add(const std::string& key, const std::vector<JsonObject>& values);

  // Pretty-printed with two-space indentation.
  std::string dump(int indent = 0) const;

 private:
  std::vector<std::pair<std::string, std::string>> members_;  // key, already-encoded value
};

std::string json_quote(const std::string& text);

// Writes `object` to `path` atomically (temporary file, then rename); throws Error on failure.
void write_json_file(const std::string& path, const JsonObject& object);

}  // namespace tailflow
