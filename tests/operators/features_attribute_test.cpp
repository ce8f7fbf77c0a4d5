// Attribute encoding: vocabularies and standardisation computed across ranks give the serial result.
#include "operators/features/attribute_encoding.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::features {
namespace {

using testing::run_distributed;

// 12 items' brands; "Zeta" and "Alpha" tie on count, so the order must break ties by the value itself.
const std::vector<std::string> kBrands = {"Zeta", "Alpha", "Nova", "Nova", "",     "Nova",
                                          "Zeta", "Alpha", "Orb",  "Nova", "Kilo", "Kilo"};

TEST(FeaturesAttributes, VocabularyIsTheSameOnAnyRankCount) {
  run_distributed([&](Context& ctx) {
    std::vector<std::string> mine;
    for (std::size_t i = 0; i < kBrands.size(); ++i)
      if (static_cast<int>(i % ctx.size()) == ctx.rank()) mine.push_back(kBrands[i]);
    auto vocabulary = CategoricalVocabulary::build(ctx, mine);
    EXPECT_EQ(vocabulary.values(),
              (std::vector<std::string>{"<unknown>", "Nova", "Alpha", "Kilo", "Zeta", "Orb"}));
    EXPECT_EQ(vocabulary.counts(), (std::vector<std::uint64_t>{0, 4, 2, 2, 2, 1}));
    EXPECT_EQ(vocabulary.id_of("Nova"), 1);
    EXPECT_EQ(vocabulary.id_of("never seen"), 0);
    EXPECT_EQ(vocabulary.id_of(""), 0);
    auto frequent = CategoricalVocabulary::build(ctx, mine, /*min_count=*/2);
    EXPECT_EQ(frequent.size(), 5u);
    EXPECT_EQ(frequent.id_of("Orb"), 0);
    auto empty = CategoricalVocabulary::build(ctx, {});
    EXPECT_EQ(empty.size(), 1u);
  });
}

TEST(FeaturesAttributes, StandardisesWithGlobalStatisticsAndLogPrices) {
  const std::vector<std::optional<double>> prices = {9.0, 99.0, std::nullopt, 999.0, 19.0, std::nullopt, 4.0};
  double sum = 0, squares = 0, n = 0;
  for (const auto& p : prices)
    if (p) {
      sum += std::log1p(*p);
      squares += std::log1p(*p) * std::log1p(*p);
      ++n;
    }
  const double mean = sum / n, stddev = std::sqrt(squares / n - mean * mean);
  run_distributed([&](Context& ctx) {
    std::vector<std::optional<double>> mine;
    for (std::size_t i = 0; i < prices.size(); ++i)
      if (static_cast<int>(i % ctx.size()) == ctx.rank()) mine.push_back(prices[i]);
    auto standardiser = NumericStandardiser::fit(ctx, mine, NumericTransform::kLog1p);
    EXPECT_EQ(standardiser.count, 5u);
    EXPECT_EQ(standardiser.missing, 2u);
    EXPECT_NEAR(standardiser.mean, mean, 1e-9);
    EXPECT_NEAR(standardiser.stddev, stddev, 1e-9);
    EXPECT_NEAR(standardiser.apply(99.0), (std::log(100.0) - mean) / stddev, 1e-5);
    EXPECT_EQ(standardiser.apply(std::nullopt), 0.0f);
    // Constant values: nothing to divide by, so the standard deviation stays 1.
    std::vector<std::optional<double>> constant(mine.size(), 7.0);
    auto flat = NumericStandardiser::fit(ctx, constant, NumericTransform::kNone);
    EXPECT_EQ(flat.stddev, 1.0);
    EXPECT_EQ(flat.apply(7.0), 0.0f);
  });
}

}  // namespace
}  // namespace tailflow::ops::features
