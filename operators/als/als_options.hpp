// Every setting of an ALS run, with the spellings the command line uses.
//
// One struct, passed by value into the layout, the trainer and the benchmark, so that a run is fully
// described by (data, AlsOptions) and can be written into output attributes as a whole.
#pragma once

#include <cstdint>
#include <string>

namespace tailflow::ops::als {

// What the interaction values mean. Explicit: ratings, fitted by squared error on the observed cells only
// (ALS-WR). Implicit: signals; every cell of the user × item matrix is a preference (1 where observed,
// 0 elsewhere) with confidence 1 + alpha·value where observed and 1 elsewhere (Hu, Koren, Volinsky 2008).
enum class Feedback { kImplicit, kExplicit };

// How each row's k × k normal equations are solved. Cholesky: exact. Conjugate gradient: a few steps,
// warm-started from the previous factors, never forming the k × k matrix of the row (Takács et al. 2011).
enum class SolverKind { kConjugateGradient, kCholesky };

// How the factors of the fixed side reach the ranks that need them: every factor to every rank
// (allgatherv), only the referenced rows (alltoallv, planned once), or not at all, because every rank maps
// one node-shared copy (needs all ranks on one node). Auto shares where it can, else moves fewer bytes.
enum class ExchangeMode { kAuto, kBroadcast, kTargeted, kShared };

// L2 regularisation per row: lambda, or lambda × (interactions of the row) as in ALS-WR.
enum class RegScaling { kNone, kCount };

struct AlsOptions {
  int factors = 64;
  int iterations = 15;
  double regularization = 0.01;
  RegScaling reg_scaling = RegScaling::kNone;
  Feedback feedback = Feedback::kImplicit;
  double alpha = 1.0;  // implicit confidence slope: c = 1 + alpha·value
  SolverKind solver = SolverKind::kConjugateGradient;
  int cg_steps = 3;
  bool biases = false;  // explicit only: prediction = mean + user bias + item bias + x·y
  ExchangeMode exchange = ExchangeMode::kAuto;
  std::uint64_t seed = 42;
  double tolerance = 0;  // stop when |loss change| / loss falls below it (0: run all iterations)
  int loss_every = 1;    // compute the loss every N iterations (0: never while training)
};

Feedback parse_feedback(const std::string& text);
SolverKind parse_solver(const std::string& text);
ExchangeMode parse_exchange(const std::string& text);
RegScaling parse_reg_scaling(const std::string& text);

std::string to_string(Feedback feedback);
std::string to_string(SolverKind solver);
std::string to_string(ExchangeMode mode);
std::string to_string(RegScaling scaling);

// Throws tailflow::Error naming the offending option when a combination cannot run.
void validate(const AlsOptions& options);

}  // namespace tailflow::ops::als
