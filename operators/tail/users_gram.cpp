#include "operators/tail/users_gram.hpp"

#include <fmt/format.h>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::ops::tail {

std::vector<double> read_users_gram(Context& ctx, const io::ShardedReader& embeddings) {
  if (!embeddings.has_dataset("users/vectors"))
    throw Error(
        fmt::format("{}: no dataset 'users/vectors' (is this an embeddings file written by `tailflow als`?)",
                    embeddings.path().string()));
  const std::size_t k = embeddings.cols("users/vectors");
  const std::vector<float> users = embeddings.read_share<float>("users/vectors", ctx.rank(), ctx.size());
  std::vector<double> gram(k * k, 0.0);
  for (std::size_t start = 0; start + k <= users.size(); start += k)
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < k; ++j) gram[i * k + j] += double{users[start + i]} * users[start + j];
  comm::allreduce(ctx.comm(), std::span<double>(gram), comm::ReduceOp::kSum);
  return gram;
}

}  // namespace tailflow::ops::tail
