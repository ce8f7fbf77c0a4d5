// Ranking quality of top-K lists, as defined in ../shared/design/EVALUATION.md (binary relevance).
//
// Per user, with rel_i = 1 when the item at position i (1-based) is relevant:
//   Precision@K = hits in top K / K
//   Recall@K    = hits in top K / |relevant|
//   NDCG@K      = Σ_{i≤K} rel_i / log2(i + 1)  ÷  Σ_{i≤min(|relevant|,K)} 1 / log2(i + 1)
//   MAP@K       = Σ_{i≤K} P@i · rel_i  ÷  min(|relevant|, K)
//   Recall@L    = hits in top L / |relevant|, at a second, longer cutoff L ≥ K ("long recall": the
//                 protocol asks Recall@10 and @20 from one ranking)
// then averaged over the users with at least one relevant item (their number is reported with every
// figure), with a 95% bootstrap interval over users. A list shorter than K counts its missing places as
// misses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/context.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::metrics {

struct UserRankingScores {
  double precision = 0;
  double recall = 0;
  double ndcg = 0;
  double average_precision = 0;
  double long_recall = 0;  // Recall@L
};

// One user's scores. `ranked` is best first (entries after the max(K, L)-th are ignored); `relevant` must be
// non-empty, sorted and without duplicates. `long_k` is L (0: L = K); L < K is an error.
UserRankingScores score_ranking(std::span<const ItemIndex> ranked, std::span<const ItemIndex> relevant,
                                std::size_t k, std::size_t long_k = 0);

struct UserScores {
  std::uint64_t user = 0;
  UserRankingScores scores;
};

// A mean over users with its bootstrap interval.
struct Estimate {
  double mean = 0;
  double low = 0;
  double high = 0;
};

struct BootstrapOptions {
  std::size_t samples = 1000;  // 0: no interval (low = high = mean)
  std::uint64_t seed = 0;
  double confidence = 0.95;
};

struct RankingReport {
  std::size_t k = 0;
  std::size_t long_k = 0;   // L of long_recall
  std::uint64_t users = 0;  // users averaged over (those with ≥ 1 relevant item)
  Estimate precision;
  Estimate recall;
  Estimate ndcg;
  Estimate map;
  Estimate long_recall;
};

// Collective: averages every rank's users. The intervals resample users, gathered and ordered by user id, so
// the report does not depend on the rank count. Every rank receives the same report. `long_k` only labels
// the report's long recall (0: K).
RankingReport summarize_rankings(Context& ctx, std::span<const UserScores> local_users, std::size_t k,
                                 const BootstrapOptions& bootstrap, std::size_t long_k = 0);

// Collective: the fraction of the catalog (items 0 .. catalog_size-1) recommended to at least one user.
// `recommended` holds this rank's list entries (repeats allowed); items outside the catalog are ignored.
double catalog_coverage(Context& ctx, std::span<const ItemIndex> recommended, std::uint64_t catalog_size);

struct PredictionError {
  std::uint64_t count = 0;
  double rmse = 0;
  double mae = 0;
};

// Collective: root mean squared (and mean absolute) error of explicit predictions over all ranks' pairs.
PredictionError prediction_error(Context& ctx, std::span<const float> predicted,
                                 std::span<const float> actual);

}  // namespace tailflow::ops::metrics
