#include "operators/knn/top_k.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tailflow::ops::knn {

bool ranks_before(const ScoredItem& a, const ScoredItem& b, std::uint64_t seed, std::uint64_t query) {
  if (a.score != b.score) return a.score > b.score;
  std::uint64_t key_a = tie_break_key(seed, query, a.item);
  std::uint64_t key_b = tie_break_key(seed, query, b.item);
  if (key_a != key_b) return key_a < key_b;
  return a.item < b.item;
}

TopKSelector::TopKSelector(std::size_t k, std::uint64_t seed)
    : k_(k), seed_(seed), threshold_(-std::numeric_limits<float>::infinity()) {
  heap_.reserve(k);
}

void TopKSelector::reset(std::uint64_t query) {
  query_ = query;
  heap_.clear();
  threshold_ = -std::numeric_limits<float>::infinity();
}

bool TopKSelector::entry_before(const Entry& a, const Entry& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.tie_key != b.tie_key) return a.tie_key < b.tie_key;
  return a.item < b.item;
}

void TopKSelector::push(Entry entry) {
  heap_.push_back(entry);
  std::push_heap(heap_.begin(), heap_.end(), entry_before);
  if (heap_.size() == k_) threshold_ = heap_.front().score;
}

void TopKSelector::replace_worst(Entry entry) {
  std::pop_heap(heap_.begin(), heap_.end(), entry_before);
  heap_.back() = entry;
  std::push_heap(heap_.begin(), heap_.end(), entry_before);
  threshold_ = heap_.front().score;
}

void TopKSelector::offer(ItemIndex item, float score) {
  if (k_ == 0 || std::isnan(score)) return;
  if (heap_.size() < k_) {
    push({score, item, tie_break_key(seed_, query_, item)});
    return;
  }
  // Below the worst kept score: the common case, decided without hashing.
  if (score < threshold_) return;
  Entry candidate{score, item, tie_break_key(seed_, query_, item)};
  if (entry_before(candidate, heap_.front())) replace_worst(candidate);
}

void TopKSelector::offer_range(std::span<const float> scores, ItemIndex first_item) {
  std::size_t n = scores.size();
  std::size_t i = 0;
  // Until K items are kept every offer counts (NaN aside).
  for (; i < n && heap_.size() < k_; ++i) offer(first_item + static_cast<ItemIndex>(i), scores[i]);
  if (heap_.size() < k_) return;
  // Full: most scores fall below the threshold. Compare a whole vector register of them at once and look
  // closer only where one reaches it. The threshold lives in a local so the compiler knows it stays put while
  // nothing is offered.
  const float* data = scores.data();
  float threshold = threshold_;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16) {
    __mmask16 reach = _mm512_cmp_ps_mask(_mm512_loadu_ps(data + i), _mm512_set1_ps(threshold), _CMP_GE_OQ);
    for (; reach != 0; reach &= reach - 1) {
      std::size_t j = i + static_cast<std::size_t>(__builtin_ctz(reach));
      if (data[j] >= threshold) offer(first_item + static_cast<ItemIndex>(j), data[j]);
      threshold = threshold_;
    }
  }
#elif defined(__AVX2__)
  for (; i + 8 <= n; i += 8) {
    int reach =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(data + i), _mm256_set1_ps(threshold), _CMP_GE_OQ));
    for (; reach != 0; reach &= reach - 1) {
      std::size_t j = i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(reach)));
      if (data[j] >= threshold) offer(first_item + static_cast<ItemIndex>(j), data[j]);
      threshold = threshold_;
    }
  }
#endif
  for (; i < n; ++i)
    if (data[i] >= threshold) {
      offer(first_item + static_cast<ItemIndex>(i), data[i]);
      threshold = threshold_;
    }
}

void TopKSelector::take_sorted(std::vector<ScoredItem>& out) {
  std::sort_heap(heap_.begin(), heap_.end(), entry_before);
  for (const Entry& entry : heap_) out.push_back({entry.item, entry.score});
  heap_.clear();
  threshold_ = -std::numeric_limits<float>::infinity();
}

std::vector<ScoredItem> select_top_k(std::span<const float> scores, std::size_t k, std::uint64_t seed,
                                     std::uint64_t query) {
  TopKSelector selector(k, seed);
  selector.reset(query);
  selector.offer_range(scores, 0);
  std::vector<ScoredItem> result;
  result.reserve(selector.size());
  selector.take_sorted(result);
  return result;
}

}  // namespace tailflow::ops::knn
