#include "operators/learning/ridge_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"

namespace tailflow::ops::learning {
namespace {

// The design matrix X of a set of items, read in place: for each item, its (column, value) entries.
class DesignRows {
 public:
  DesignRows(const ItemFeatures& items, const FeatureSchema& schema) : items_(items), schema_(schema) {
    std::int64_t offset = 0;
    for (const BagSchema& bag : schema.bags) {
      bag_offsets_.push_back(offset);
      offset += bag.vocabulary_size;
    }
    for (const CategoricalSchema& column : schema.categorical) {
      categorical_offsets_.push_back(offset);
      offset += column.vocabulary_size;
    }
    numeric_offset_ = offset;
    offset += static_cast<std::int64_t>(schema.numeric.size());
    dense_offset_ = offset;
  }

  // Calls visit(column, value) for every entry of item `row`.
  template <class Visit>
  void for_each(std::int64_t row, Visit visit) const {
    for (std::size_t b = 0; b < schema_.bags.size(); ++b) {
      const SparseBags& bag = items_.bags[b];
      for (std::int64_t e = bag.offsets[row]; e < bag.offsets[row + 1]; ++e)
        visit(bag_offsets_[b] + bag.ids[e], double{bag.weights[e]});
    }
    const std::size_t columns = schema_.categorical.size();
    for (std::size_t c = 0; c < columns; ++c)
      visit(categorical_offsets_[c] + items_.categorical[row * columns + c], 1.0);
    const std::size_t numeric = schema_.numeric.size();
    for (std::size_t c = 0; c < numeric; ++c)
      visit(numeric_offset_ + static_cast<std::int64_t>(c), double{items_.numeric[row * numeric + c]});
    const auto dense = static_cast<std::size_t>(schema_.dense_dims);
    for (std::size_t c = 0; c < dense; ++c)
      visit(dense_offset_ + static_cast<std::int64_t>(c), double{items_.dense[row * dense + c]});
  }

 private:
  const ItemFeatures& items_;
  const FeatureSchema& schema_;
  std::vector<std::int64_t> bag_offsets_, categorical_offsets_;
  std::int64_t numeric_offset_ = 0, dense_offset_ = 0;
};

// Σ over columns of a · b, per output column (p × k matrices, row-major).
std::vector<double> column_dots(const std::vector<double>& a, const std::vector<double>& b, std::size_t k) {
  std::vector<double> dots(k, 0.0);
  for (std::size_t i = 0; i < a.size(); ++i) dots[i % k] += a[i] * b[i];
  return dots;
}

}  // namespace

std::int64_t ridge_columns(const FeatureSchema& schema) {
  std::int64_t columns = static_cast<std::int64_t>(schema.numeric.size()) + schema.dense_dims;
  for (const BagSchema& bag : schema.bags) columns += bag.vocabulary_size;
  for (const CategoricalSchema& column : schema.categorical) columns += column.vocabulary_size;
  return columns;
}

RidgePath::RidgePath(const FeatureSchema& schema, std::int64_t dims, double alpha, std::vector<float> weights,
                     std::vector<float> intercept)
    : schema_(schema),
      dims_(dims),
      alpha_(alpha),
      weights_(std::move(weights)),
      intercept_(std::move(intercept)) {
  if (static_cast<std::int64_t>(weights_.size()) != ridge_columns(schema) * dims ||
      static_cast<std::int64_t>(intercept_.size()) != dims)
    throw Error(fmt::format("ridge path: {} weights and {} intercepts do not fit {} inputs × {} outputs",
                            weights_.size(), intercept_.size(), ridge_columns(schema), dims));
}

RidgePath RidgePath::fit(const ItemFeatures& items, const FeatureSchema& schema,
                         std::span<const float> targets, std::int64_t dims, double alpha,
                         const RidgeSolverSettings& settings) {
  const auto n = static_cast<std::int64_t>(items.size());
  const auto k = static_cast<std::size_t>(dims);
  const auto p = static_cast<std::size_t>(ridge_columns(schema));
  if (alpha <= 0) throw Error(fmt::format("ridge path: alpha {} must be positive", alpha));
  if (n == 0 || targets.size() != static_cast<std::size_t>(n) * k)
    throw Error(
        fmt::format("ridge path: {} target values for {} items of {} dimensions", targets.size(), n, dims));
  const DesignRows x(items, schema);

  // Column means μ and target means ȳ over the items.
  std::vector<double> mu(p, 0.0), y_mean(k, 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    x.for_each(i, [&](std::int64_t c, double v) { mu[static_cast<std::size_t>(c)] += v; });
    for (std::size_t d = 0; d < k; ++d) y_mean[d] += targets[static_cast<std::size_t>(i) * k + d];
  }
  for (double& m : mu) m /= static_cast<double>(n);
  for (double& m : y_mean) m /= static_cast<double>(n);

  // X_cᵀ T for an n × k matrix T: Xᵀ T − μ (1ᵀT).
  auto transpose_times = [&](const std::vector<double>& t) {
    std::vector<double> out(p * k, 0.0), column_sums(k, 0.0);
    for (std::int64_t i = 0; i < n; ++i) {
      const double* row = t.data() + static_cast<std::size_t>(i) * k;
      for (std::size_t d = 0; d < k; ++d) column_sums[d] += row[d];
      x.for_each(i, [&](std::int64_t c, double v) {
        double* target = out.data() + static_cast<std::size_t>(c) * k;
        for (std::size_t d = 0; d < k; ++d) target[d] += v * row[d];
      });
    }
    for (std::size_t c = 0; c < p; ++c)
      if (mu[c] != 0)
        for (std::size_t d = 0; d < k; ++d) out[c * k + d] -= mu[c] * column_sums[d];
    return out;
  };
  // (X_cᵀ X_c + αI) P.
  auto normal_times = [&](const std::vector<double>& w) {
    std::vector<double> mu_w(k, 0.0);  // μᵀW
    for (std::size_t c = 0; c < p; ++c)
      if (mu[c] != 0)
        for (std::size_t d = 0; d < k; ++d) mu_w[d] += mu[c] * w[c * k + d];
    std::vector<double> t(static_cast<std::size_t>(n) * k);
    for (std::int64_t i = 0; i < n; ++i) {
      double* row = t.data() + static_cast<std::size_t>(i) * k;
      for (std::size_t d = 0; d < k; ++d) row[d] = -mu_w[d];
      x.for_each(i, [&](std::int64_t c, double v) {
        const double* weight = w.data() + static_cast<std::size_t>(c) * k;
        for (std::size_t d = 0; d < k; ++d) row[d] += v * weight[d];
      });
    }
    std::vector<double> out = transpose_times(t);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] += alpha * w[i];
    return out;
  };

  std::vector<double> centred(static_cast<std::size_t>(n) * k);
  for (std::size_t i = 0; i < centred.size(); ++i) centred[i] = targets[i] - y_mean[i % k];
  std::vector<double> residual = transpose_times(centred);
  centred = {};
  std::vector<double> w(p * k, 0.0), direction = residual;
  std::vector<double> squares = column_dots(residual, residual, k);
  const std::vector<double> right_side = squares;
  RidgePath path;
  for (; path.iterations_ < settings.max_iterations; ++path.iterations_) {
    bool converged = true;
    for (std::size_t d = 0; d < k; ++d)
      converged = converged && squares[d] <= settings.tolerance * settings.tolerance * right_side[d];
    if (converged) break;
    const std::vector<double> product = normal_times(direction);
    const std::vector<double> curvature = column_dots(direction, product, k);
    std::vector<double> step(k, 0.0);
    for (std::size_t d = 0; d < k; ++d) step[d] = curvature[d] > 0 ? squares[d] / curvature[d] : 0.0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      w[i] += step[i % k] * direction[i];
      residual[i] -= step[i % k] * product[i];
    }
    const std::vector<double> next = column_dots(residual, residual, k);
    for (std::size_t i = 0; i < w.size(); ++i)
      direction[i] = residual[i] + (squares[i % k] > 0 ? next[i % k] / squares[i % k] : 0.0) * direction[i];
    squares = next;
  }

  path.schema_ = schema;
  path.dims_ = dims;
  path.alpha_ = alpha;
  path.weights_.assign(w.begin(), w.end());
  path.intercept_.resize(k);
  for (std::size_t d = 0; d < k; ++d) {
    double b = y_mean[d];
    for (std::size_t c = 0; c < p; ++c) b -= mu[c] * w[c * k + d];
    path.intercept_[d] = static_cast<float>(b);
  }
  return path;
}

std::vector<float> RidgePath::predict(const ItemFeatures& items, std::span<const std::int64_t> rows) const {
  validate(items, schema_);
  const auto k = static_cast<std::size_t>(dims_);
  const DesignRows x(items, schema_);
  const std::size_t count = rows.empty() ? items.size() : rows.size();
  std::vector<float> out(count * k);
  std::vector<double> sum(k);
  for (std::size_t r = 0; r < count; ++r) {
    const std::int64_t row = rows.empty() ? static_cast<std::int64_t>(r) : rows[r];
    std::copy(intercept_.begin(), intercept_.end(), sum.begin());
    x.for_each(row, [&](std::int64_t c, double v) {
      const float* weight = weights_.data() + static_cast<std::size_t>(c) * k;
      for (std::size_t d = 0; d < k; ++d) sum[d] += v * weight[d];
    });
    std::copy(sum.begin(), sum.end(), out.begin() + static_cast<std::ptrdiff_t>(r * k));
  }
  return out;
}

}  // namespace tailflow::ops::learning
