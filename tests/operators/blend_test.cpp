// The ALS / content blend of the final item embeddings (operators/tail/blend.hpp) and the join of feature
// rows with ALS items by external id (operators/tail/als_items.hpp).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/error.hpp"
#include "engine/io/sharded_reader.hpp"
#include "operators/tail/als_items.hpp"
#include "operators/tail/blend.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::tail {
namespace {

using testing::run_distributed;

TEST(TailBlend, AlphaFollowsCountOverCountPlusBeta) {
  BlendOptions options;
  options.beta = 10;
  EXPECT_DOUBLE_EQ(als_weight(0, options), 0.0);
  EXPECT_DOUBLE_EQ(als_weight(1, options), 1.0 / 11.0);
  EXPECT_DOUBLE_EQ(als_weight(10, options), 0.5);
  EXPECT_DOUBLE_EQ(als_weight(90, options), 0.9);
  // Monotone in the count, below 1 for every finite count.
  for (std::uint64_t n = 1; n < 1000; ++n) {
    EXPECT_LT(als_weight(n, options), als_weight(n + 1, options));
    EXPECT_LT(als_weight(n, options), 1.0);
  }
}

TEST(TailBlend, SourceFlags) {
  BlendOptions options;
  options.beta = 5;
  EXPECT_EQ(blend_source(0, options), EmbeddingSource::kContent);
  EXPECT_EQ(blend_source(3, options), EmbeddingSource::kBlend);
  options.als_min_count = 20;
  EXPECT_EQ(blend_source(19, options), EmbeddingSource::kBlend);
  EXPECT_EQ(blend_source(20, options), EmbeddingSource::kAls);
  EXPECT_DOUBLE_EQ(als_weight(20, options), 1.0);
  // β = 0: any interaction makes the ALS vector final; none leaves the content vector.
  BlendOptions trust_als;
  trust_als.beta = 0;
  EXPECT_EQ(blend_source(0, trust_als), EmbeddingSource::kContent);
  EXPECT_EQ(blend_source(1, trust_als), EmbeddingSource::kAls);
  EXPECT_EQ(source_name(EmbeddingSource::kPrior), "prior");
  EXPECT_EQ(source_codes_description(), "0=als,1=content,2=blend,3=prior");
}

TEST(TailBlend, BlendsItemsAgainstSerialFormula) {
  BlendOptions options;
  options.beta = 4;
  const std::size_t dims = 3;
  const std::vector<std::uint64_t> counts = {0, 4, 12, 1};
  std::vector<float> als(counts.size() * dims), content(counts.size() * dims);
  for (std::size_t v = 0; v < als.size(); ++v) {
    als[v] = static_cast<float>(v) + 1.0f;
    content[v] = -2.0f * static_cast<float>(v);
  }
  als[0] = als[1] = als[2] = std::nanf("");  // item 0 has no ALS vector: it must not be read
  const auto blended = blend_items(als, content, counts, dims, options);
  ASSERT_EQ(blended.vectors.size(), als.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double alpha = counts[i] == 0 ? 0.0 : counts[i] / (counts[i] + 4.0);
    for (std::size_t d = 0; d < dims; ++d) {
      const double a = counts[i] == 0 ? 0.0 : als[i * dims + d];
      EXPECT_NEAR(blended.vectors[i * dims + d], alpha * a + (1 - alpha) * content[i * dims + d], 1e-5);
    }
  }
  // n = 0 is exactly the content vector.
  for (std::size_t d = 0; d < dims; ++d) EXPECT_EQ(blended.vectors[d], content[d]);
  EXPECT_EQ(blended.sources, (std::vector<std::uint8_t>{1, 2, 2, 2}));
}

TEST(TailBlend, LengthCurveFollowsMedianAlsLengthByCount) {
  // Items with counts 1..64; the ALS length of an item with count n is log2(n) + 1 (plus one outlier).
  const std::size_t dims = 2;
  std::vector<std::uint64_t> counts;
  std::vector<float> vectors;
  for (std::uint64_t n = 1; n <= 64; ++n)
    for (int copy = 0; copy < 6; ++copy) {
      counts.push_back(n);
      const float length = static_cast<float>(std::log2(static_cast<double>(n)) + 1);
      vectors.insert(vectors.end(), {0.6f * length, 0.8f * length});
    }
  counts.push_back(3);
  vectors.insert(vectors.end(), {1000.0f, 0.0f});
  counts.push_back(0);  // no interactions: not part of the fit
  vectors.insert(vectors.end(), {500.0f, 0.0f});
  const auto curve = NormByCount::fit(vectors, counts, dims);
  ASSERT_FALSE(curve.empty());
  EXPECT_EQ(curve.log_counts().size(), 7u);  // groups 1, 2-3, 4-7, ..., 64
  EXPECT_NEAR(curve.at(1), 1.0, 1e-6);
  EXPECT_NEAR(curve.at(64), 7.0, 1e-6);
  EXPECT_NEAR(curve.at(1000), 7.0, 1e-6);  // flat beyond the last group
  // Monotone like the data, and close to log2(n) + 1 in between (the outlier does not move the median).
  for (std::uint64_t n = 1; n < 64; ++n) EXPECT_LE(curve.at(n), curve.at(n + 1) + 1e-9);
  EXPECT_NEAR(curve.at(12), std::log2(12.0) + 1, 0.3);
  EXPECT_EQ(NormByCount::fit({}, {}, dims).at(5), 0.0);
  EXPECT_THROW(NormByCount::fit(vectors, std::vector<std::uint64_t>{1}, dims), Error);
}

TEST(TailBlend, ContentLengthFollowsTheAlsLengthAtTheCount) {
  // ALS items: count 2 has length 1, count 32 has length 8 (five of each, so each group stands alone).
  std::vector<double> als_lengths, content_lengths;
  std::vector<std::uint64_t> fit_counts;
  for (int copy = 0; copy < 5; ++copy) {
    fit_counts.insert(fit_counts.end(), {2, 32});
    als_lengths.insert(als_lengths.end(), {1.0, 8.0});
    content_lengths.insert(content_lengths.end(), {25.0, 40.0});  // the content model: long everywhere
  }
  const auto als_curve = NormByCount::fit_lengths(als_lengths, fit_counts);
  const auto content_curve = NormByCount::fit_lengths(content_lengths, fit_counts);
  const std::vector<float> als = {0.0f, 1.0f}, content = {30.0f, 40.0f};  // content length 50
  // count: every content vector gets the ALS length; count-scale: the ratio of the typical lengths.
  EXPECT_NEAR(content_scale(ContentNorm::kAlsLength, content, 2, als_curve, content_curve), 1.0 / 50, 1e-12);
  EXPECT_NEAR(content_scale(ContentNorm::kAlsScale, content, 2, als_curve, content_curve), 1.0 / 25, 1e-12);
  EXPECT_NEAR(content_scale(ContentNorm::kAlsScale, content, 32, als_curve, content_curve), 8.0 / 40, 1e-12);
  EXPECT_EQ(content_scale(ContentNorm::kAsPredicted, content, 2, als_curve, content_curve), 1.0);
  // No interactions: the content vector stays as predicted.
  EXPECT_EQ(content_scale(ContentNorm::kAlsLength, content, 0, als_curve, content_curve), 1.0);
  EXPECT_EQ(content_scale(ContentNorm::kAlsLength, std::vector<float>{0, 0}, 2, als_curve, content_curve),
            1.0);

  BlendOptions options;
  options.beta = 2;
  std::vector<float> out(2);
  // n = 2: α = 1/2; the content vector is shrunk to length 1 before blending.
  blend_item(als, content, 2, options, out,
             content_scale(ContentNorm::kAlsLength, content, 2, als_curve, content_curve));
  EXPECT_NEAR(out[0], 0.5 * 0.6, 1e-6);
  EXPECT_NEAR(out[1], 0.5 * 1.0 + 0.5 * 0.8, 1e-6);
  // Without a scale: the original blend.
  blend_item(als, content, 2, options, out);
  EXPECT_NEAR(out[0], 15.0, 1e-5);
  // Many items: one scale each, or none.
  const std::vector<std::uint64_t> counts = {2, 2};
  const std::vector<float> two_als = {0, 1, 0, 1}, two_content = {30, 40, 30, 40};
  const auto scaled = blend_items(two_als, two_content, counts, 2, options, std::vector<double>{1.0 / 50, 1});
  EXPECT_NEAR(scaled.vectors[0], 0.3, 1e-6);
  EXPECT_NEAR(scaled.vectors[2], 15.0, 1e-5);
  EXPECT_THROW(blend_items(two_als, two_content, counts, 2, options, std::vector<double>{1}), Error);
  EXPECT_EQ(parse_content_norm("count-scale"), ContentNorm::kAlsScale);
  EXPECT_EQ(content_norm_name(parse_content_norm("count")), "count");
  EXPECT_THROW(parse_content_norm("norm"), Error);
}

TEST(TailBlend, RejectsBadInput) {
  BlendOptions negative;
  negative.beta = -1;
  EXPECT_THROW(validate(negative), Error);
  const std::vector<float> two(2), three(3);
  const std::vector<std::uint64_t> one_count = {1};
  EXPECT_THROW(blend_items(two, three, one_count, 3, BlendOptions{}), Error);
  // No items at all is fine.
  const auto empty = blend_items({}, {}, {}, 4, BlendOptions{});
  EXPECT_TRUE(empty.vectors.empty());
  EXPECT_TRUE(empty.sources.empty());
}

AlsItems small_als(std::vector<std::string> ids) {
  AlsItems als;
  als.dims = 1;
  als.ids = std::move(ids);
  for (std::uint64_t row = 0; row < als.ids.size(); ++row) {
    als.vectors.push_back(static_cast<float>(row));
    als.counts.push_back(row + 1);
    als.row_of.emplace(als.ids[row], row);
  }
  return als;
}

TEST(TailJoin, JoinsFeatureRowsWithAlsItemsById) {
  // ALS knows b, d, a (in its own order); the features hold a..e, e.g. c and e without interactions.
  const AlsItems als = small_als({"b", "d", "a"});
  const std::vector<std::string> all_features = {"a", "b", "c", "d", "e"};
  run_distributed([&](Context& ctx) {
    const auto share = io::balanced_share(all_features.size(), ctx.rank(), ctx.size());
    std::vector<std::string> mine(all_features.begin() + share.first,
                                  all_features.begin() + share.first + share.count);
    const auto join = join_features_with_als(ctx, als, mine, share.first, "features.h5");
    EXPECT_EQ(join.matched, 3u);
    EXPECT_EQ(join.feature_rows, 5u);
    EXPECT_FALSE(join.same_order);
    const std::vector<std::uint64_t> expected_rows = {2, 0, kNotInAls, 1, kNotInAls};
    const std::vector<std::uint64_t> expected_counts = {3, 1, 0, 2, 0};
    for (std::size_t i = 0; i < mine.size(); ++i) {
      EXPECT_EQ(join.als_rows[i], expected_rows[share.first + i]);
      EXPECT_EQ(join.counts[i], expected_counts[share.first + i]);
    }
  });
}

TEST(TailJoin, AlsItemWithoutFeaturesIsAnError) {
  const AlsItems als = small_als({"a", "z"});
  const std::vector<std::string> all_features = {"a", "b"};
  run_distributed([&](Context& ctx) {
    const auto share = io::balanced_share(all_features.size(), ctx.rank(), ctx.size());
    std::vector<std::string> mine(all_features.begin() + share.first,
                                  all_features.begin() + share.first + share.count);
    try {
      join_features_with_als(ctx, als, mine, share.first, "features.h5");
      ADD_FAILURE() << "expected a CollectiveError";
    } catch (const CollectiveError& e) {
      EXPECT_NE(std::string(e.what()).find("'z'"), std::string::npos) << e.what();
    }
  });
}

}  // namespace
}  // namespace tailflow::ops::tail
