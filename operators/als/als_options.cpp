#include "operators/als/als_options.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"

namespace tailflow::ops::als {

Feedback parse_feedback(const std::string& text) {
  if (text == "implicit") return Feedback::kImplicit;
  if (text == "explicit") return Feedback::kExplicit;
  throw Error(fmt::format("--feedback must be implicit or explicit, not '{}'", text));
}

SolverKind parse_solver(const std::string& text) {
  if (text == "cg") return SolverKind::kConjugateGradient;
  if (text == "cholesky") return SolverKind::kCholesky;
  throw Error(fmt::format("--solver must be cg or cholesky, not '{}'", text));
}

ExchangeMode parse_exchange(const std::string& text) {
  if (text == "auto") return ExchangeMode::kAuto;
  if (text == "broadcast") return ExchangeMode::kBroadcast;
  if (text == "targeted") return ExchangeMode::kTargeted;
  if (text == "shared") return ExchangeMode::kShared;
  throw Error(fmt::format("--exchange must be auto, broadcast, targeted or shared, not '{}'", text));
}

RegScaling parse_reg_scaling(const std::string& text) {
  if (text == "none") return RegScaling::kNone;
  if (text == "count") return RegScaling::kCount;
  throw Error(fmt::format("--reg-scaling must be none or count, not '{}'", text));
}

std::string to_string(Feedback feedback) {
  return feedback == Feedback::kImplicit ? "implicit" : "explicit";
}
std::string to_string(SolverKind solver) {
  return solver == SolverKind::kConjugateGradient ? "cg" : "cholesky";
}
std::string to_string(ExchangeMode mode) {
  switch (mode) {
    case ExchangeMode::kAuto:
      return "auto";
    case ExchangeMode::kBroadcast:
      return "broadcast";
    case ExchangeMode::kTargeted:
      return "targeted";
    case ExchangeMode::kShared:
      return "shared";
  }
  return "?";
}
std::string to_string(RegScaling scaling) {
  return scaling == RegScaling::kNone ? "none" : "count";
}

void validate(const AlsOptions& options) {
  if (options.factors < 1 || options.factors > 4096)
    throw Error(fmt::format("--factors must be between 1 and 4096, not {}", options.factors));
  if (options.iterations < 0)
    throw Error(fmt::format("--iterations must be >= 0, not {}", options.iterations));
  if (!(options.regularization >= 0))
    throw Error(fmt::format("--reg must be >= 0, not {}", options.regularization));
  if (!(options.alpha >= 0)) throw Error(fmt::format("--alpha must be >= 0, not {}", options.alpha));
  if (options.cg_steps < 1) throw Error(fmt::format("--cg-steps must be >= 1, not {}", options.cg_steps));
  if (!(options.tolerance >= 0))
    throw Error(fmt::format("--tolerance must be >= 0, not {}", options.tolerance));
  if (options.loss_every < 0)
    throw Error(fmt::format("--loss-every must be >= 0, not {}", options.loss_every));
  if (options.biases && options.feedback != Feedback::kExplicit)
    throw Error("--biases applies to --feedback explicit only");
  if (options.biases && options.solver != SolverKind::kCholesky)
    throw Error("--biases needs --solver cholesky (the conjugate-gradient kernels solve for factors only)");
  if (options.feedback == Feedback::kExplicit && options.regularization == 0)
    throw Error(
        "explicit feedback needs --reg > 0: rows with fewer ratings than factors are singular otherwise");
}

}  // namespace tailflow::ops::als
