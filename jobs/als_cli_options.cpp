#include "jobs/als_cli_options.hpp"

namespace tailflow::jobs {

namespace po = boost::program_options;
using namespace ops::als;

void add_als_options(po::options_description& options, const AlsOptions& defaults) {
  options.add_options()("factors", po::value<int>()->default_value(defaults.factors),
                        "latent factors per row")("iterations",
                                                  po::value<int>()->default_value(defaults.iterations),
                                                  "ALS iterations (users, then items)")(
      "reg", po::value<double>()->default_value(defaults.regularization), "L2 regularisation λ")(
      "reg-scaling", po::value<std::string>()->default_value(to_string(defaults.reg_scaling)),
      "none: λ per row; count: λ × the row's interactions (ALS-WR)")(
      "feedback", po::value<std::string>()->default_value(to_string(defaults.feedback)),
      "implicit (confidence-weighted preferences over all cells) or explicit (squared error on ratings)")(
      "alpha", po::value<double>()->default_value(defaults.alpha), "implicit confidence: 1 + alpha × value")(
      "solver", po::value<std::string>()->default_value(to_string(defaults.solver)),
      "cg (conjugate gradient, warm-started) or cholesky (exact)")(
      "cg-steps", po::value<int>()->default_value(defaults.cg_steps), "conjugate-gradient steps per row")(
      "biases", po::bool_switch(), "explicit feedback: also fit a global mean and user/item biases")(
      "exchange", po::value<std::string>()->default_value(to_string(defaults.exchange)),
      "how factors reach the ranks: auto (shared on one node, else the cheaper of the two), broadcast "
      "(allgather), targeted (only referenced rows) or shared (one node-shared copy, all ranks on one node)")(
      "seed", po::value<std::uint64_t>()->default_value(defaults.seed), "seed of the initial factors")(
      "tolerance", po::value<double>()->default_value(defaults.tolerance),
      "stop when the loss changes by less than this fraction (0: never)")(
      "loss-every", po::value<int>()->default_value(defaults.loss_every),
      "compute the training loss every N iterations (0: never)");
}

AlsOptions als_options_from(const po::variables_map& values) {
  AlsOptions options;
  options.factors = values["factors"].as<int>();
  options.iterations = values["iterations"].as<int>();
  options.regularization = values["reg"].as<double>();
  options.reg_scaling = parse_reg_scaling(values["reg-scaling"].as<std::string>());
  options.feedback = parse_feedback(values["feedback"].as<std::string>());
  options.alpha = values["alpha"].as<double>();
  options.solver = parse_solver(values["solver"].as<std::string>());
  options.cg_steps = values["cg-steps"].as<int>();
  options.biases = values["biases"].as<bool>();
  options.exchange = parse_exchange(values["exchange"].as<std::string>());
  options.seed = values["seed"].as<std::uint64_t>();
  options.tolerance = values["tolerance"].as<double>();
  options.loss_every = values["loss-every"].as<int>();
  validate(options);
  return options;
}

}  // namespace tailflow::jobs
