#include "operators/learning/target_scaler.hpp"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>

#include "engine/error.hpp"

namespace tailflow::ops::learning {
namespace {

// Below this a dimension (or vector) is treated as constant (or zero) rather than divided by ~0.
constexpr double kTiny = 1e-12;

double euclidean_norm(const float* row, std::size_t k) {
  double squares = 0;
  for (std::size_t d = 0; d < k; ++d) squares += double{row[d]} * row[d];
  return std::sqrt(squares);
}

// Rescales `row` to the given length; a (near-)zero row stays as it is.
void set_length(float* row, std::size_t k, double length) {
  double norm = euclidean_norm(row, k);
  if (norm > kTiny)
    for (std::size_t d = 0; d < k; ++d) row[d] = static_cast<float>(row[d] / norm * length);
}

std::vector<std::string> formatted(const std::vector<double>& values) {
  std::vector<std::string> parts;
  for (double value : values) parts.push_back(format_double(value));
  return parts;
}

std::vector<double> parsed(const std::string& key, const std::string& text) {
  std::vector<double> values;
  for (const std::string& part : split(text)) values.push_back(parse_double(key, part));
  return values;
}

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rᵀ of G = R Rᵀ, row-major. A tiny ridge on the diagonal keeps a rank-deficient Gram (fewer users than
// factors, a dead factor) factorable; it changes a healthy G by a relative 1e-9.
RowMajor cholesky_transpose(std::span<const double> gram, std::size_t k) {
  if (gram.size() != k * k)
    throw Error(
        fmt::format("target scaler: gram normalisation needs the users' {}×{} Gram matrix, got {} values", k,
                    k, gram.size()));
  RowMajor g =
      Eigen::Map<const RowMajor>(gram.data(), static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k));
  g = (g + g.transpose()) / 2;
  g.diagonal().array() += 1e-9 * std::max(kTiny, g.trace() / static_cast<double>(k));
  Eigen::LLT<RowMajor> llt(g);
  if (llt.info() != Eigen::Success)
    throw Error("target scaler: the users' Gram matrix is not positive definite");
  return llt.matrixL().transpose();
}

}  // namespace

TargetScaler TargetScaler::fit(std::span<const float> targets, std::int64_t dims, TargetNormalisation mode,
                               std::span<const double> gram) {
  if (dims <= 0 || targets.size() % static_cast<std::size_t>(dims) != 0)
    throw Error(
        fmt::format("target scaler: {} values do not form rows of {} dimensions", targets.size(), dims));
  const std::size_t k = static_cast<std::size_t>(dims);
  const std::size_t rows = targets.size() / k;
  TargetScaler scaler;
  scaler.mode_ = mode;
  scaler.mean_.assign(k, 0.0);
  scaler.scale_.assign(k, 1.0);
  if (rows == 0) return scaler;
  if (mode == TargetNormalisation::kStandardise) {
    std::vector<double> sum(k, 0.0), sum_squares(k, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t d = 0; d < k; ++d) {
        double x = targets[r * k + d];
        sum[d] += x;
        sum_squares[d] += x * x;
      }
    for (std::size_t d = 0; d < k; ++d) {
      double mean = sum[d] / static_cast<double>(rows);
      double variance = std::max(0.0, sum_squares[d] / static_cast<double>(rows) - mean * mean);
      scaler.mean_[d] = mean;
      scaler.scale_[d] = variance > kTiny ? std::sqrt(variance) : 1.0;
    }
  } else if (mode == TargetNormalisation::kL2) {
    double norms = 0;
    for (std::size_t r = 0; r < rows; ++r) norms += euclidean_norm(targets.data() + r * k, k);
    scaler.mean_norm_ = norms / static_cast<double>(rows);
  } else if (mode == TargetNormalisation::kGram) {
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t d = 0; d < k; ++d) scaler.mean_[d] += targets[r * k + d];
    for (double& mean : scaler.mean_) mean /= static_cast<double>(rows);
    RowMajor factor = cholesky_transpose(gram, k);
    // s: the mean squared value of Rᵀ(x − mean) over the training rows becomes 1.
    const Eigen::Map<const Eigen::VectorXd> mean(scaler.mean_.data(), static_cast<Eigen::Index>(k));
    double squares = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      Eigen::VectorXd x(static_cast<Eigen::Index>(k));
      for (std::size_t d = 0; d < k; ++d) x[static_cast<Eigen::Index>(d)] = targets[r * k + d];
      squares += (factor * (x - mean)).squaredNorm();
    }
    const double mean_square = squares / static_cast<double>(rows * k);
    if (mean_square > kTiny) factor /= std::sqrt(mean_square);
    scaler.metric_factor_.assign(factor.data(), factor.data() + k * k);
  }
  return scaler;
}

void TargetScaler::transform(std::span<float> rows) const {
  const std::size_t k = mean_.size();
  std::vector<double> centred(k);
  for (std::size_t start = 0; start + k <= rows.size(); start += k) {
    float* row = rows.data() + start;
    if (mode_ == TargetNormalisation::kGram) {
      // z = F (x − mean), F = s·Rᵀ upper triangular.
      for (std::size_t d = 0; d < k; ++d) centred[d] = row[d] - mean_[d];
      for (std::size_t i = 0; i < k; ++i) {
        double z = 0;
        for (std::size_t j = i; j < k; ++j) z += metric_factor_[i * k + j] * centred[j];
        row[i] = static_cast<float>(z);
      }
    } else if (mode_ == TargetNormalisation::kL2) {
      set_length(row, k, 1.0);
    } else {
      for (std::size_t d = 0; d < k; ++d) row[d] = static_cast<float>((row[d] - mean_[d]) / scale_[d]);
    }
  }
}

void TargetScaler::inverse(std::span<float> rows) const {
  const std::size_t k = mean_.size();
  std::vector<double> x(k);
  for (std::size_t start = 0; start + k <= rows.size(); start += k) {
    float* row = rows.data() + start;
    if (mode_ == TargetNormalisation::kGram) {
      // Solve F (x − mean) = z by back substitution (F is upper triangular).
      for (std::size_t i = k; i-- > 0;) {
        double rest = row[i];
        for (std::size_t j = i + 1; j < k; ++j) rest -= metric_factor_[i * k + j] * x[j];
        x[i] = rest / metric_factor_[i * k + i];
      }
      for (std::size_t d = 0; d < k; ++d) row[d] = static_cast<float>(x[d] + mean_[d]);
    } else if (mode_ == TargetNormalisation::kL2) {
      // The network predicts a direction; lengths come back as the training items' mean length.
      set_length(row, k, mean_norm_);
    } else {
      for (std::size_t d = 0; d < k; ++d) row[d] = static_cast<float>(row[d] * scale_[d] + mean_[d]);
    }
  }
}

KeyValues TargetScaler::to_key_values() const {
  KeyValues values;
  values["scaler.mode"] = to_string(mode_);
  values["scaler.mean"] = join(formatted(mean_));
  values["scaler.scale"] = join(formatted(scale_));
  values["scaler.mean_norm"] = format_double(mean_norm_);
  if (!metric_factor_.empty()) values["scaler.metric_factor"] = join(formatted(metric_factor_));
  return values;
}

TargetScaler TargetScaler::from_key_values(const KeyValues& values) {
  TargetScaler scaler;
  scaler.mode_ = parse_target_normalisation(required_value(values, "scaler.mode"));
  scaler.mean_ = parsed("scaler.mean", required_value(values, "scaler.mean"));
  scaler.scale_ = parsed("scaler.scale", required_value(values, "scaler.scale"));
  scaler.mean_norm_ = parse_double("scaler.mean_norm", required_value(values, "scaler.mean_norm"));
  if (scaler.mean_.size() != scaler.scale_.size())
    throw Error("target scaler: 'scaler.mean' and 'scaler.scale' have different lengths");
  if (scaler.mode_ == TargetNormalisation::kGram) {
    scaler.metric_factor_ = parsed("scaler.metric_factor", required_value(values, "scaler.metric_factor"));
    if (scaler.metric_factor_.size() != scaler.mean_.size() * scaler.mean_.size())
      throw Error("target scaler: 'scaler.metric_factor' is not a dims × dims matrix");
  }
  return scaler;
}

}  // namespace tailflow::ops::learning
