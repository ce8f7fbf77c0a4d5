// "key = value" text files: the human-readable half of a saved model (its options and feature schema).
//
// One entry per line, '#' starts a comment line, whitespace around keys and values is trimmed. Lists are
// written comma-separated by the callers. Floating-point values are written with enough digits to read back
// exactly.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tailflow::ops::learning {

using KeyValues = std::map<std::string, std::string>;

// Throws Error (naming file and line) on a line without '='.
KeyValues read_key_value_file(const std::string& path);
// Atomic: a temporary file renamed over `path`.
void write_key_value_file(const std::string& path, const KeyValues& values);

// Typed access; each throws Error naming the key and the bad value.
std::string required_value(const KeyValues& values, const std::string& key);
std::int64_t parse_int(const std::string& key, const std::string& text);
double parse_double(const std::string& key, const std::string& text);
bool parse_bool(const std::string& key, const std::string& text);  // true/false, 1/0, yes/no

std::string format_double(double value);  // round-trips exactly
std::string join(const std::vector<std::string>& parts, char separator = ',');
std::vector<std::string> split(const std::string& text, char separator = ',');  // "" → no parts

}  // namespace tailflow::ops::learning
