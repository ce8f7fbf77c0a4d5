// Built-in text features: tokenisation, hashed n-grams, the MovieLens title year, and TF-IDF whose document
// frequencies are counted across ranks (the same weights for 1, 2, 3 and 5 ranks).
#include "operators/features/text_hashing.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::features {
namespace {

using testing::run_distributed;

TEST(FeaturesText, TokenizesLowerCaseWordsAndKeepsUtf8Letters) {
  EXPECT_EQ(tokenize_words("T-Shirt, Café  (1995)!"),
            (std::vector<std::string>{"t", "shirt", "café", "1995"}));
  EXPECT_TRUE(tokenize_words(" ,.; ").empty());
}

TEST(FeaturesText, HashedTermsAreDeterministicAndCountEveryKind) {
  TextHashingOptions options;
  options.hash_bits = 20;
  auto a = hashed_terms("Red Shirt", options);
  EXPECT_EQ(a, hashed_terms("red  SHIRT", options));
  // 2 unigrams + 1 bigram + char n-grams of "<red>" (3+2+1) and "<shirt>" (5+4+3).
  EXPECT_EQ(a.size(), 2u + 1u + 6u + 12u);
  for (auto term : a) EXPECT_LT(term, 1u << 20);
  options.word_bigrams = false;
  options.char_ngram_min = options.char_ngram_max = 0;
  EXPECT_EQ(hashed_terms("red shirt red", options).size(), 3u);
  // A short word gives itself once, with its markers, instead of nothing.
  options.char_ngram_min = 4;
  options.char_ngram_max = 5;
  options.word_unigrams = false;
  EXPECT_EQ(hashed_terms("a", options).size(), 1u);
  options.hash_bits = 30;
  EXPECT_THROW(hashed_terms("x", options), Error);
}

TEST(FeaturesText, SplitsTheYearOffMovieLensTitles) {
  auto toy = split_title_year("Toy Story (1995)");
  EXPECT_EQ(toy.title, "Toy Story");
  EXPECT_EQ(toy.year, 1995);
  EXPECT_EQ(split_title_year("Babylon 5 (1994-1998) ").year, 1994);
  EXPECT_EQ(split_title_year("Fawlty Towers (1975\xE2\x80\x93"
                             "1979)")
                .year,
            1975);
  EXPECT_FALSE(split_title_year("Big (Deluxe)").year.has_value());
  EXPECT_FALSE(split_title_year("Hyena Road").year.has_value());
  EXPECT_EQ(split_title_year("Hyena Road").title, "Hyena Road");
  EXPECT_EQ(decade_of(1995), "1990s");
}

const std::vector<std::string> kDocuments = {
    "red cotton shirt",        "blue cotton shirt", "red leather boots", "leather jacket", "",
    "green shirt shirt shirt", "red red red",       "linen dress",       "cotton dress",   "boots"};

TEST(FeaturesText, TfIdfDocumentFrequenciesAreTheSameOnAnyRankCount) {
  TextHashingOptions options;
  options.hash_bits = 12;
  // Serial reference: df of every bucket over all documents.
  std::map<std::uint32_t, int> df;
  for (const auto& text : kDocuments) {
    auto terms = hashed_terms(text, options);
    std::sort(terms.begin(), terms.end());
    terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
    for (auto t : terms) ++df[t];
  }
  const double n = static_cast<double>(kDocuments.size());
  run_distributed([&](Context& ctx) {
    std::vector<std::vector<std::uint32_t>> mine;
    for (std::size_t i = 0; i < kDocuments.size(); ++i)
      if (static_cast<int>(i % ctx.size()) == ctx.rank())
        mine.push_back(hashed_terms(kDocuments[i], options));
    auto weighting = TfIdfWeighting::fit(ctx, mine, options);
    EXPECT_EQ(weighting.documents(), kDocuments.size());
    EXPECT_EQ(weighting.used_buckets(), df.size());
    for (std::uint32_t b = 0; b < (1u << options.hash_bits); ++b) {
      auto found = df.find(b);
      float expected =
          found == df.end() ? 0.0f : static_cast<float>(std::log((1 + n) / (1 + found->second)) + 1);
      ASSERT_FLOAT_EQ(weighting.idf()[b], expected) << "bucket " << b;
    }
    // Weights are L2-normalised, sorted by id, and rarer terms weigh more.
    auto weights = weighting.weigh(hashed_terms("red cotton shirt", options));
    double norm = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      norm += weights[i].second * weights[i].second;
      if (i > 0) {
        EXPECT_LT(weights[i - 1].first, weights[i].first);
      }
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
    EXPECT_TRUE(weighting.weigh({}).empty());
  });
}

TEST(FeaturesText, MinDfDropsRareTerms) {
  TextHashingOptions options;
  options.hash_bits = 12;
  options.char_ngram_min = options.char_ngram_max = 0;
  options.word_bigrams = false;
  options.min_df = 2;
  run_distributed([&](Context& ctx) {
    std::vector<std::vector<std::uint32_t>> mine;
    for (std::size_t i = 0; i < kDocuments.size(); ++i)
      if (static_cast<int>(i % ctx.size()) == ctx.rank())
        mine.push_back(hashed_terms(kDocuments[i], options));
    auto weighting = TfIdfWeighting::fit(ctx, mine, options);
    // "jacket" and "green" occur once: gone; "leather" twice: kept.
    EXPECT_TRUE(weighting.weigh(hashed_terms("jacket green", options)).empty());
    EXPECT_EQ(weighting.weigh(hashed_terms("leather jacket", options)).size(), 1u);
  });
}

}  // namespace
}  // namespace tailflow::ops::features
