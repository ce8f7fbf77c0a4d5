#include "operators/features/feature_recipe.hpp"

#include <fmt/format.h>

#include <map>

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

 private:
  std::map<std::string, std::string> values_;
};

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

}  // namespace

std::string to_text(const FeatureRecipe& recipe) {
  Writer out;
  out.put("format", kFormat);
  const auto& c = recipe.catalog;
  out.put("catalog.id", c.columns.id);
  out.put("catalog.title", c.columns.title);
  out.put("catalog.description", c.columns.description);
  out.put("catalog.brand", c.columns.brand);
  out.put("catalog.category", c.columns.category);
  out.put("catalog.price", c.columns.price);
  out.put("catalog.image", c.columns.image);
  out.put_list("catalog.numeric", c.columns.numeric);
  out.put_list("catalog.categorical", c.columns.categorical);
  out.put("catalog.separator", c.separator.value_or(""));
  out.put("catalog.separator_given", c.separator.has_value());
  out.put("catalog.header", header_name(c.header));
  out.put("catalog.category_level_separator", c.category_level_separator);
  out.put("catalog.category_value_separator", c.category_value_separator);
  out.put("catalog.had_tags", recipe.had_tags);
  const auto& f = recipe.features;
  out.put("features.text", f.text);
  out.put("features.hash_bits", f.hashing.hash_bits);
  out.put("features.word_unigrams", f.hashing.word_unigrams);
  out.put("features.word_bigrams", f.hashing.word_bigrams);
  out.put("features.char_ngram_min", f.hashing.char_ngram_min);
  out.put("features.char_ngram_max", f.hashing.char_ngram_max);
  out.put("features.text_min_df", f.hashing.min_df);
  out.put("features.include_tags", f.include_tags);
  out.put("features.year_from_title", f.year_from_title);
  out.put("features.max_category_levels", f.max_category_levels);
  out.put("features.min_count", f.min_count);
  out.put("features.images_idx", f.images_idx);
  out.put("features.image_root", f.image_root);
  out.put("features.image_size", f.image_size);
  out.put("features.image_channels", f.image_channels);
  out.put_list("features.image_mean", f.image_mean);
  out.put_list("features.image_std", f.image_stddev);
  out.put("features.wordpiece_vocab", f.wordpiece_vocab);
  out.put("features.wordpiece_digest", recipe.wordpiece_digest);
  out.put("features.max_tokens", f.max_tokens);
  out.put("features.text_encoder", f.text_encoder);
  out.put("features.text_encoder_digest", recipe.text_encoder_digest);
  out.put("features.text_pooling", f.text_pooling);
  out.put("features.image_encoder", f.image_encoder);
  out.put("features.image_encoder_digest", recipe.image_encoder_digest);
  out.put("features.encoder_batch", f.encoder_batch);
  return out.text();
}

FeatureRecipe recipe_from_text(const std::string& text) {
  Reader in(text);
  if (in.text("format") != kFormat)
    throw Error(fmt::format("feature recipe: format '{}', expected '{}'", in.text("format"), kFormat));
  FeatureRecipe recipe;
  auto& c = recipe.catalog;
  c.columns.id = in.text("catalog.id");
  c.columns.title = in.text("catalog.title");
  c.columns.description = in.text("catalog.description");
  c.columns.brand = in.text("catalog.brand");
  c.columns.category = in.text("catalog.category");
  c.columns.price = in.text("catalog.price");
  c.columns.image = in.text("catalog.image");
  c.columns.numeric = in.texts("catalog.numeric");
  c.columns.categorical = in.texts("catalog.categorical");
  if (in.flag("catalog.separator_given")) c.separator = in.text("catalog.separator");
  c.header = header_mode(in.text("catalog.header"));
  c.category_level_separator = in.text("catalog.category_level_separator");
  c.category_value_separator = in.text("catalog.category_value_separator");
  recipe.had_tags = in.flag("catalog.had_tags");
  auto& f = recipe.features;
  f.text = in.flag("features.text");
  f.hashing.hash_bits = in.number<int>("features.hash_bits");
  f.hashing.word_unigrams = in.flag("features.word_unigrams");
  f.hashing.word_bigrams = in.flag("features.word_bigrams");
  f.hashing.char_ngram_min = in.number<int>("features.char_ngram_min");
  f.hashing.char_ngram_max = in.number<int>("features.char_ngram_max");
  f.hashing.min_df = in.number<std::uint32_t>("features.text_min_df");
  f.include_tags = in.flag("features.include_tags");
  f.year_from_title = in.flag("features.year_from_title");
  f.max_category_levels = in.number<int>("features.max_category_levels");
  f.min_count = in.number<std::uint64_t>("features.min_count");
  f.images_idx = in.text("features.images_idx");
  f.image_root = in.text("features.image_root");
  f.image_size = in.number<int>("features.image_size");
  f.image_channels = in.number<int>("features.image_channels");
  f.image_mean = in.floats("features.image_mean");
  f.image_stddev = in.floats("features.image_std");
  f.wordpiece_vocab = in.text("features.wordpiece_vocab");
  recipe.wordpiece_digest = in.text("features.wordpiece_digest");
  f.max_tokens = in.number<int>("features.max_tokens");
  f.text_encoder = in.text("features.text_encoder");
  recipe.text_encoder_digest = in.text("features.text_encoder_digest");
  f.text_pooling = in.text("features.text_pooling");
  f.image_encoder = in.text("features.image_encoder");
  recipe.image_encoder_digest = in.text("features.image_encoder_digest");
  f.encoder_batch = in.number<int>("features.encoder_batch");
  return recipe;
}

}  // namespace tailflow::ops::features
