#include "operators/features/text_hashing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/stable_hash.hpp"

namespace tailflow::ops::features {

std::string TextHashingOptions::describe() const {
  return fmt::format("bits={} unigrams={} bigrams={} char={}-{} min_df={}", hash_bits, word_unigrams,
                     word_bigrams, char_ngram_min, char_ngram_max, min_df);
}

namespace {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

std::uint32_t bucket_of(std::string_view kind, std::string_view term, std::uint32_t mask) {
  std::string key;
  key.reserve(kind.size() + term.size());
  key.append(kind).append(term);
  return static_cast<std::uint32_t>(stable_hash(std::string_view(key)) & mask);
}

void check_options(const TextHashingOptions& options) {
  if (options.hash_bits < 1 || options.hash_bits > 24)
    throw Error(fmt::format("text hash bits must be in 1..24, not {}", options.hash_bits));
  if (options.char_ngram_min < 0 || options.char_ngram_max < options.char_ngram_min)
    throw Error(fmt::format("character n-gram range {}-{} is not a range (use 0 to turn them off)",
                            options.char_ngram_min, options.char_ngram_max));
}

}  // namespace

std::vector<std::string> tokenize_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char raw : text) {
    auto c = static_cast<unsigned char>(raw);
    if (is_word_byte(c)) {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : raw);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::vector<std::uint32_t> hashed_terms(std::string_view text, const TextHashingOptions& options) {
  check_options(options);
  const std::uint32_t mask = (std::uint32_t{1} << options.hash_bits) - 1;
  auto words = tokenize_words(text);
  std::vector<std::uint32_t> terms;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (options.word_unigrams) terms.push_back(bucket_of("w ", words[i], mask));
    if (options.word_bigrams && i + 1 < words.size())
      terms.push_back(bucket_of("b ", words[i] + " " + words[i + 1], mask));
    if (options.char_ngram_min > 0) {
      const std::string marked = "<" + words[i] + ">";
      for (int n = options.char_ngram_min; n <= options.char_ngram_max; ++n) {
        const auto length = static_cast<std::size_t>(n);
        // A word shorter than n contributes itself once (as "<ab>"), so short words are not lost.
        if (marked.size() < length) {
          if (n == options.char_ngram_min) terms.push_back(bucket_of("c ", marked, mask));
          continue;
        }
        for (std::size_t at = 0; at + length <= marked.size(); ++at)
          terms.push_back(bucket_of("c ", std::string_view(marked).substr(at, length), mask));
      }
    }
  }
  return terms;
}

TitleAndYear split_title_year(std::string_view title) {
  std::string_view text = title;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  TitleAndYear result{std::string(text), std::nullopt};
  if (text.empty() || text.back() != ')') return result;
  std::size_t open = text.rfind('(');
  if (open == std::string_view::npos) return result;
  std::string_view inside = text.substr(open + 1, text.size() - open - 2);
  // "1995", "1994-1998", "2007-", "1975–1979" (an en dash, as some MovieLens titles have).
  if (inside.size() < 4) return result;
  int year = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (inside[i] < '0' || inside[i] > '9') return result;
    year = year * 10 + (inside[i] - '0');
  }
  std::string_view rest = inside.substr(4);
  bool rest_ok = rest.empty() || rest.front() == '-' || rest.starts_with("\xE2\x80\x93");
  if (!rest_ok || year < 1800 || year > 2100) return result;
  std::string_view before = text.substr(0, open);
  while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
  result.title = std::string(before);
  result.year = year;
  return result;
}

std::string decade_of(int year) {
  return fmt::format("{}s", year / 10 * 10);
}

TfIdfWeighting TfIdfWeighting::fit(Context& ctx,
                                   const std::vector<std::vector<std::uint32_t>>& local_documents,
                                   const TextHashingOptions& options) {
  check_options(options);
  const std::size_t buckets = std::size_t{1} << options.hash_bits;
  std::vector<std::int32_t> df(buckets, 0);
  std::vector<std::uint32_t> distinct;
  for (const auto& terms : local_documents) {
    distinct.assign(terms.begin(), terms.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (auto term : distinct) ++df[term];
  }
  comm::allreduce(ctx.comm(), std::span<std::int32_t>(df), comm::ReduceOp::kSum);
  TfIdfWeighting weighting;
  weighting.documents_ = comm::allreduce_sum<std::uint64_t>(ctx.comm(), local_documents.size());
  weighting.idf_.assign(buckets, 0.0f);
  const double n = static_cast<double>(weighting.documents_);
  for (std::size_t b = 0; b < buckets; ++b) {
    if (df[b] == 0) continue;
    ++weighting.used_buckets_;
    if (static_cast<std::uint32_t>(df[b]) < options.min_df) continue;
    weighting.idf_[b] = static_cast<float>(std::log((1.0 + n) / (1.0 + df[b])) + 1.0);
  }
  return weighting;
}

std::vector<std::pair<std::int64_t, float>> TfIdfWeighting::weigh(
    const std::vector<std::uint32_t>& terms) const {
  std::vector<std::uint32_t> sorted(terms);
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::pair<std::int64_t, float>> weights;
  double norm = 0;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    if (sorted[i] >= idf_.size()) throw Error(fmt::format("term id {} outside the idf table", sorted[i]));
    float idf = idf_[sorted[i]];
    if (idf > 0) {
      float weight = static_cast<float>((1.0 + std::log(static_cast<double>(j - i))) * idf);
      weights.emplace_back(sorted[i], weight);
      norm += static_cast<double>(weight) * weight;
    }
    i = j;
  }
  if (norm > 0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (auto& entry : weights) entry.second *= scale;
  }
  return weights;
}

}  // namespace tailflow::ops::features
