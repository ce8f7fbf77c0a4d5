// Actions: results that every rank receives as plain values.
#pragma once

#include "engine/comm/collectives.hpp"
#include "engine/dataset/dataset.hpp"
#include "engine/dataset/shuffle.hpp"

namespace tailflow {

template <class T>
std::uint64_t Dataset<T>::count() const {
  return comm::allreduce_sum(ctx_->comm(), std::uint64_t{rows_.size()});
}

template <class T>
std::vector<T> Dataset<T>::collect() const {
  return allgather_rows(ctx_->comm(), rows_);
}

template <class T>
template <class CombineFn>
T Dataset<T>::reduce(CombineFn&& combine, T identity) const {
  T partial = identity;
  for (const auto& row : rows_) partial = combine(partial, row);
  auto partials = allgather_rows(ctx_->comm(), std::vector<T>{partial});
  T total = identity;
  for (const auto& p : partials) total = combine(total, p);
  return total;
}

template <class T>
T broadcast_object(Context& ctx, const T& value, int root) {
  std::vector<std::byte> bytes;
  if (ctx.rank() == root) {
    ByteWriter writer(bytes);
    Codec<T>::write(writer, value);
  }
  comm::broadcast_vector(ctx.comm(), bytes, root);
  ByteReader reader(bytes.data(), bytes.size());
  return Codec<T>::read(reader);
}

}  // namespace tailflow
