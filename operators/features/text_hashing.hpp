// Built-in text features: hashed word unigrams, word bigrams and character n-grams, TF-IDF weighted.
//
// Hashing (the "hashing trick") needs no vocabulary pass and gives every rank the same term ids without any
// communication: a term's id is stable_hash(kind + term) modulo 2^bits. Kinds are kept apart by a prefix
// ("w " unigram, "b " bigram, "c " char n-gram), so the word "the" and the trigram "the" are different terms.
// Character n-grams are taken from each word with boundary markers ("<red>" gives "<re", "red", "ed>", ...),
// so that "shirt" and "t-shirts" share most of their n-grams.
//
// TF-IDF: document frequencies are counted over ALL ranks (one allreduce of a 2^bits array), so the weights
// do not depend on how items are spread over ranks. weight = (1 + ln tf) * idf, idf = ln((1 + N) / (1 + df))
// + 1 (the smoothed idf of scikit-learn); each document's vector is then L2-normalised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/context.hpp"

namespace tailflow::ops::features {

struct TextHashingOptions {
  int hash_bits = 18;  // 2^bits buckets; at most 24 (the df array is allreduced)
  bool word_unigrams = true;
  bool word_bigrams = true;
  int char_ngram_min = 3;  // 0 = no character n-grams
  int char_ngram_max = 5;
  // Terms in fewer than min_df items get weight 0 (a term seen once cannot generalise to other items).
  std::uint32_t min_df = 1;

  std::string describe() const;  // for logs and the cache fingerprint
};

// Lower-case words: runs of ASCII letters and digits, plus any non-ASCII (UTF-8) bytes, which are kept as
// letters so that "café" stays one word. Everything else separates words.
std::vector<std::string> tokenize_words(std::string_view text);

// The hashed term ids of a text, one entry per occurrence (so repeats give the term frequency).
std::vector<std::uint32_t> hashed_terms(std::string_view text, const TextHashingOptions& options);

// MovieLens titles end with the release year: "Toy Story (1995)", "Babylon 5 (1994-1998)", "Fawlty Towers
// (1975-1979)". Returns the title without the year and the (first) year, if the title ends with one.
struct TitleAndYear {
  std::string title;
  std::optional<int> year;
};
TitleAndYear split_title_year(std::string_view title);

// "1990s" for 1995.
std::string decade_of(int year);

class TfIdfWeighting {
 public:
  // Collective: counts in how many documents each term occurs, over all ranks' `local_documents`.
  static TfIdfWeighting fit(Context& ctx, const std::vector<std::vector<std::uint32_t>>& local_documents,
                            const TextHashingOptions& options);
  // From a stored idf table (e.g. to embed new items with the weights of the training catalog).
  explicit TfIdfWeighting(std::vector<float> idf) : idf_(std::move(idf)) {}

  // (term id, weight) pairs sorted by id, L2-normalised; terms with idf 0 are left out.
  std::vector<std::pair<std::int64_t, float>> weigh(const std::vector<std::uint32_t>& terms) const;

  const std::vector<float>& idf() const { return idf_; }
  std::uint64_t documents() const { return documents_; }
  // Buckets that occur in at least one document (all ranks).
  std::uint64_t used_buckets() const { return used_buckets_; }

 private:
  TfIdfWeighting() = default;
  std::vector<float> idf_;
  std::uint64_t documents_ = 0;
  std::uint64_t used_buckets_ = 0;
};

}  // namespace tailflow::ops::features
