#include "operators/als/gram.hpp"

#include <algorithm>

#include "engine/comm/collectives.hpp"

namespace tailflow::ops::als {

Eigen::MatrixXd allreduce_gram(Context& ctx, const FactorMatrix& owned, int factors) {
  using Block = Eigen::Map<const RowMajorMatrix, Eigen::Aligned64, Eigen::OuterStride<>>;
  constexpr std::size_t kRowsPerBlock = 256;
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(factors, factors);
  Eigen::MatrixXf partial(factors, factors);
  for (std::size_t begin = 0; begin < owned.rows(); begin += kRowsPerBlock) {
    std::size_t rows = std::min(kRowsPerBlock, owned.rows() - begin);
    Block block(owned.row(begin), static_cast<Eigen::Index>(rows), factors,
                Eigen::OuterStride<>(owned.stride()));
    partial.setZero();
    partial.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
    gram += partial.cast<double>();
  }
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  comm::allreduce(ctx.comm(), std::span<double>(gram.data(), gram.size()), comm::ReduceOp::kSum);
  return gram;
}

}  // namespace tailflow::ops::als
