// Narrow operations: each rank transforms its own rows; nothing moves.
#pragma once

#include "engine/dataset/dataset.hpp"

namespace tailflow {

template <class T>
template <class MakeFn>
Dataset<T> Dataset<T>::generate(Context& ctx, std::uint64_t n, MakeFn&& make) {
  std::uint64_t ranks = ctx.size(), rank = ctx.rank();
  std::uint64_t begin = n * rank / ranks, end = n * (rank + 1) / ranks;
  std::vector<T> rows;
  rows.reserve(end - begin);
  for (std::uint64_t i = begin; i < end; ++i) rows.push_back(make(i));
  return Dataset<T>(ctx, std::move(rows));
}

template <class T>
template <class F>
auto Dataset<T>::map(F&& f) const -> Dataset<std::invoke_result_t<F, const T&>> {
  std::vector<std::invoke_result_t<F, const T&>> out;
  out.reserve(rows_.size());
  for (const auto& row : rows_) out.push_back(f(row));
  return {*ctx_, std::move(out)};
}

template <class T>
template <class Predicate>
Dataset<T> Dataset<T>::filter(Predicate&& keep) const {
  std::vector<T> out;
  for (const auto& row : rows_)
    if (keep(row)) out.push_back(row);
  return {*ctx_, std::move(out)};
}

template <class T>
template <class R, class F>
Dataset<R> Dataset<T>::flat_map(F&& f) const {
  std::vector<R> out;
  auto emit = [&out](R value) { out.push_back(std::move(value)); };
  for (const auto& row : rows_) f(row, emit);
  return {*ctx_, std::move(out)};
}

template <class T>
template <class F>
auto Dataset<T>::map_partitions(F&& f) const
    -> Dataset<typename std::invoke_result_t<F, const std::vector<T>&>::value_type> {
  return {*ctx_, f(rows_)};
}

}  // namespace tailflow
