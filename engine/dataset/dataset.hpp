// Dataset<T>: a collection of rows partitioned across ranks (Spark's RDD, Thrill's DIA), one std::vector<T>
// per rank.
//
// Narrow operations (map, filter, flat_map, map_partitions) work on each rank's rows alone. Wide operations
// (partition_by, reduce_by_key, group_by_key, join, sort_by, distinct, zip_with_index) are stage boundaries:
// they move rows with one shuffle and record a Stage in the context's metrics. Actions (count, collect,
// reduce) return plain values on every rank. All operations are collective except the narrow ones, and none
// consumes its input: a Dataset can be used again after an operation.
//
// Each wide operation is defined in its own header (reduce_by_key.hpp, join.hpp, ...), included at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/context.hpp"
#include "engine/stable_hash.hpp"

namespace tailflow {

template <class T>
class Dataset {
 public:
  using value_type = T;

  Dataset(Context& ctx, std::vector<T> local_rows) : ctx_(&ctx), rows_(std::move(local_rows)) {}

  // Rows 0..n-1 made by `make(index)`, spread evenly over ranks in index order.
  template <class MakeFn>
  static Dataset generate(Context& ctx, std::uint64_t n, MakeFn&& make);

  Context& context() const { return *ctx_; }
  const std::vector<T>& local() const { return rows_; }
  std::vector<T>& local() { return rows_; }
  std::size_t local_size() const { return rows_.size(); }

  // ---- narrow operations (no communication) ----
  template <class F>
  auto map(F&& f) const -> Dataset<std::invoke_result_t<F, const T&>>;
  template <class Predicate>
  Dataset filter(Predicate&& keep) const;
  // f(row, emit) calls emit(value) zero or more times.
  template <class R, class F>
  Dataset<R> flat_map(F&& f) const;
  // f(const std::vector<T>& rows) -> std::vector<R>: the whole local partition at once.
  template <class F>
  auto map_partitions(F&& f) const
      -> Dataset<typename std::invoke_result_t<F, const std::vector<T>&>::value_type>;

  // ---- wide operations (one shuffle each) ----
  // Sends each row to rank `destination(row)` (in 0..size-1). See partitioners.hpp for hash and range ones.
  template <class DestFn>
  Dataset partition_by(DestFn&& destination, const std::string& stage = "partition_by") const;
  // One row per distinct key: rows with equal keys are folded with reduce(a, b) — first on each rank (the
  // map-side combine, which shrinks the shuffle), then on the key's owner rank.
  template <class KeyFn, class ReduceFn>
  Dataset reduce_by_key(KeyFn&& key, ReduceFn&& reduce, const std::string& stage = "reduce_by_key") const;
  // group(key, std::span<const T> rows_of_key) -> R for every distinct key; the order of rows inside a group
  // is unspecified.
  template <class KeyFn, class GroupFn>
  auto group_by_key(KeyFn&& key, GroupFn&& group, const std::string& stage = "group_by_key") const;
  // Inner equi-join: combine(a, b) -> R for every pair with key_a(a) == key_b(b).
  template <class U, class KeyA, class KeyB, class CombineFn>
  auto join(const Dataset<U>& other, KeyA&& key_a, KeyB&& key_b, CombineFn&& combine,
            const std::string& stage = "join") const;
  // Globally sorted by key: rank 0 holds the smallest keys, each rank's rows are sorted (sample sort).
  template <class KeyFn>
  Dataset sort_by(KeyFn&& key, const std::string& stage = "sort_by") const;
  // Each distinct row once (needs == and <).
  Dataset distinct(const std::string& stage = "distinct") const;
  // (global position, row) pairs, positions in rank order; moves no rows, only counts.
  Dataset<std::pair<std::uint64_t, T>> zip_with_index() const;

  // ---- actions ----
  std::uint64_t count() const;
  // All rows on every rank, in rank order.
  std::vector<T> collect() const;
  // Folds all rows with `combine` (associative), starting from `identity`; partial results are combined in
  // rank order, so the result does not depend on timing.
  template <class CombineFn>
  T reduce(CombineFn&& combine, T identity) const;

 private:
  Context* ctx_;
  std::vector<T> rows_;
};

// A value from `root` on every rank (any type with a Codec).
template <class T>
T broadcast_object(Context& ctx, const T& value, int root);

}  // namespace tailflow

#include "engine/dataset/actions.hpp"
#include "engine/dataset/distinct.hpp"
#include "engine/dataset/group_by_key.hpp"
#include "engine/dataset/join.hpp"
#include "engine/dataset/narrow_ops.hpp"
#include "engine/dataset/partition_by.hpp"
#include "engine/dataset/partitioners.hpp"
#include "engine/dataset/reduce_by_key.hpp"
#include "engine/dataset/sort_by.hpp"
#include "engine/dataset/zip_with_index.hpp"
