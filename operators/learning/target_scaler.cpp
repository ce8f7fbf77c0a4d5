#include "operators/learning/target_scaler.hpp"

#include <fmt/format.h>

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

}  // namespace

TargetScaler TargetScaler::fit(std::span<const float> targets, std::int64_t dims, TargetNormalisation mode) {
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
  }
  return scaler;
}

void TargetScaler::transform(std::span<float> rows) const {
  const std::size_t k = mean_.size();
  for (std::size_t start = 0; start + k <= rows.size(); start += k) {
    float* row = rows.data() + start;
    if (mode_ == TargetNormalisation::kL2) {
      set_length(row, k, 1.0);
    } else {
      for (std::size_t d = 0; d < k; ++d) row[d] = static_cast<float>((row[d] - mean_[d]) / scale_[d]);
    }
  }
}

void TargetScaler::inverse(std::span<float> rows) const {
  const std::size_t k = mean_.size();
  for (std::size_t start = 0; start + k <= rows.size(); start += k) {
    float* row = rows.data() + start;
    if (mode_ == TargetNormalisation::kL2) {
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
  return scaler;
}

}  // namespace tailflow::ops::learning
