#include "operators/features/feature_recipe.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "engine/error.hpp"
#include "engine/io/parse_number.hpp"

namespace tailflow::ops::features {
namespace {

constexpr const char* kFormat = "tailflow-feature-recipe 1";

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string unescape(const std::string& value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      out += value[i + 1] == 'n' ? '\n' : value[i + 1];
      ++i;
    } else {
      out += value[i];
    }
  }
  return out;
}

std::string header_name(io::HeaderMode mode) {
  switch (mode) {
    case io::HeaderMode::kPresent:
      return "present";
    case io::HeaderMode::kAbsent:
      return "absent";
    case io::HeaderMode::kAuto:
      break;
  }
  return "auto";
}

io::HeaderMode header_mode(const std::string& name) {
  if (name == "present") return io::HeaderMode::kPresent;
  if (name == "absent") return io::HeaderMode::kAbsent;
  if (name == "auto") return io::HeaderMode::kAuto;
  throw Error(fmt::format("feature recipe: header mode '{}'", name));
}

class Writer {
 public:
  void put(const std::string& key, const std::string& value) { text_ += key + "=" + escape(value) + "\n"; }
  void put(const std::string& key, const char* value) { put(key, std::string(value)); }
  void put(const std::string& key, bool value) { put(key, std::string(value ? "1" : "0")); }
  template <class Number>
  void put(const std::string& key, Number value) {
    put(key, fmt::format("{}", value));
  }
  template <class T>
  void put_list(const std::string& key, const std::vector<T>& values) {
    put(key + ".count", values.size());
    for (std::size_t i = 0; i < values.size(); ++i) put(fmt::format("{}.{}", key, i), values[i]);
  }
  const std::string& text() const { return text_; }

  // The visit_recipe() interface: write each field.
  template <class T>
  void field(const std::string& key, const T& value) {
    put(key, value);
  }
  template <class T>
  void field(const std::string& key, const std::vector<T>& values) {
    put_list(key, values);
  }
  void field(const std::string& key, const std::optional<std::string>& value) {
    put(key, value.value_or(""));
    put(key + "_given", value.has_value());
  }
  void field(const std::string& key, io::HeaderMode mode) { put(key, header_name(mode)); }

 private:
  std::string text_;
};

class Reader {
 public:
  explicit Reader(const std::string& text) {
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      if (line.empty()) continue;
      const auto equals = line.find('=');
      if (equals == std::string::npos) throw Error(fmt::format("feature recipe: line '{}' has no '='", line));
      values_[line.substr(0, equals)] = unescape(line.substr(equals + 1));
    }
  }
  std::string text(const std::string& key) const {
    auto found = values_.find(key);
    if (found == values_.end())
      throw Error(fmt::format("feature recipe: no entry '{}' (written by another tailflow version?)", key));
    return found->second;
  }
  template <class Number>
  Number number(const std::string& key) const {
    Number value{};
    if (io::parse_number(text(key), value) != io::NumberError::kNone)
      throw Error(fmt::format("feature recipe: '{}' = '{}' is not a number", key, text(key)));
    return value;
  }
  bool flag(const std::string& key) const { return number<int>(key) != 0; }
  std::vector<std::string> texts(const std::string& key) const {
    std::vector<std::string> values;
    const auto count = number<std::size_t>(key + ".count");
    for (std::size_t i = 0; i < count; ++i) values.push_back(text(fmt::format("{}.{}", key, i)));
    return values;
  }
  std::vector<float> floats(const std::string& key) const {
    std::vector<float> values;
    const auto count = number<std::size_t>(key + ".count");
    for (std::size_t i = 0; i < count; ++i) values.push_back(number<float>(fmt::format("{}.{}", key, i)));
    return values;
  }

  // The visit_recipe() interface: read each field back.
  void field(const std::string& key, std::string& value) const { value = text(key); }
  void field(const std::string& key, bool& value) const { value = flag(key); }
  template <class Number>
  void field(const std::string& key, Number& value) const {
    value = number<Number>(key);
  }
  void field(const std::string& key, std::vector<std::string>& values) const { values = texts(key); }
  void field(const std::string& key, std::vector<float>& values) const { values = floats(key); }
  void field(const std::string& key, std::optional<std::string>& value) const {
    value.reset();
    if (flag(key + "_given")) value = text(key);
  }
  void field(const std::string& key, io::HeaderMode& mode) const { mode = header_mode(text(key)); }

 private:
  std::map<std::string, std::string> values_;
};

// Every field of a recipe and its key, in one list for both directions (const recipe: writing; mutable:
// reading). The keys are the stored format: renaming one breaks reading older files.
template <class Recipe, class Visitor>
void visit_recipe(Recipe& recipe, Visitor& v) {
  auto& c = recipe.catalog;
  v.field("catalog.id", c.columns.id);
  v.field("catalog.title", c.columns.title);
  v.field("catalog.description", c.columns.description);
  v.field("catalog.brand", c.columns.brand);
  v.field("catalog.category", c.columns.category);
  v.field("catalog.price", c.columns.price);
  v.field("catalog.image", c.columns.image);
  v.field("catalog.numeric", c.columns.numeric);
  v.field("catalog.categorical", c.columns.categorical);
  v.field("catalog.separator", c.separator);
  v.field("catalog.header", c.header);
  v.field("catalog.category_level_separator", c.category_level_separator);
  v.field("catalog.category_value_separator", c.category_value_separator);
  v.field("catalog.had_tags", recipe.had_tags);
  auto& f = recipe.features;
  v.field("features.text", f.text);
  v.field("features.hash_bits", f.hashing.hash_bits);
  v.field("features.word_unigrams", f.hashing.word_unigrams);
  v.field("features.word_bigrams", f.hashing.word_bigrams);
  v.field("features.char_ngram_min", f.hashing.char_ngram_min);
  v.field("features.char_ngram_max", f.hashing.char_ngram_max);
  v.field("features.text_min_df", f.hashing.min_df);
  v.field("features.include_tags", f.include_tags);
  v.field("features.year_from_title", f.year_from_title);
  v.field("features.max_category_levels", f.max_category_levels);
  v.field("features.min_count", f.min_count);
  v.field("features.images_idx", f.images_idx);
  v.field("features.image_root", f.image_root);
  v.field("features.image_size", f.image_size);
  v.field("features.image_channels", f.image_channels);
  v.field("features.image_mean", f.image_mean);
  v.field("features.image_std", f.image_stddev);
  v.field("features.wordpiece_vocab", f.wordpiece_vocab);
  v.field("features.wordpiece_digest", recipe.wordpiece_digest);
  v.field("features.max_tokens", f.max_tokens);
  v.field("features.text_encoder", f.text_encoder);
  v.field("features.text_encoder_digest", recipe.text_encoder_digest);
  v.field("features.text_pooling", f.text_pooling);
  v.field("features.image_encoder", f.image_encoder);
  v.field("features.image_encoder_digest", recipe.image_encoder_digest);
  v.field("features.encoder_batch", f.encoder_batch);
}

}  // namespace

std::string to_text(const FeatureRecipe& recipe) {
  Writer out;
  out.put("format", kFormat);
  visit_recipe(recipe, out);
  return out.text();
}

FeatureRecipe recipe_from_text(const std::string& text) {
  Reader in(text);
  if (in.text("format") != kFormat)
    throw Error(fmt::format("feature recipe: format '{}', expected '{}'", in.text("format"), kFormat));
  FeatureRecipe recipe;
  visit_recipe(recipe, in);
  return recipe;
}

}  // namespace tailflow::ops::features
