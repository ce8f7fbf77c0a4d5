// `tailflow als`: user and item embeddings by alternating least squares, written as sharded HDF5.
//
//   DIR/embeddings.h5 (master) + DIR/embeddings.shard-*.h5:
//     users/ids (external ids), users/vectors (rows × factors), users/counts (training interactions),
//     items/ids, items/vectors, items/counts; with --biases also users/biases, items/biases;
//     attributes: every setting, global_mean, loss_history, seconds_history, version, command_line.
//   DIR/checkpoints/ with --checkpoint-every N (resumable with --resume, also on another rank count).
//
// On SIGTERM / SIGUSR1 (Slurm's warning before a kill or requeue) every rank finishes the iteration it is in,
// writes a checkpoint and the job ends with status 75; `--resume` continues from there.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/sharded_writer.hpp"
#include "engine/stop_request.hpp"
#include "jobs/als_cli_options.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/subcommand.hpp"
#include "operators/als/als_checkpoint.hpp"
#include "operators/als/als_trainer.hpp"
#include "operators/als/block_layout.hpp"

namespace tailflow::jobs {
namespace {

using namespace ops::als;

// The command line as the process received it (mpirun's arguments are not part of it).
std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string text, argument;
  while (std::getline(in, argument, '\0')) text += (text.empty() ? "" : " ") + argument;
  return text;
}

void write_side(Context& ctx, io::ShardedWriter& out, const std::string& side, const io::IdDictionary& ids,
                const std::vector<std::uint32_t>& rows, const RowMajorMatrix& vectors,
                const std::vector<std::uint32_t>& counts, const std::vector<float>& biases,
                bool with_biases) {
  std::vector<std::string> names = ids.strings_of(ctx, rows);
  out.write_strings(side + "/ids", names);
  out.write_matrix<float>(side + "/vectors", std::span<const float>(vectors.data(), vectors.size()),
                          static_cast<std::uint64_t>(vectors.cols()));
  out.write<std::uint32_t>(side + "/counts", counts);
  if (with_biases) out.write<float>(side + "/biases", biases);
}

int run_als(Context& ctx, const po::variables_map& values) {
  AlsOptions options = als_options_from(values);
  const std::filesystem::path out_dir = values["out"].as<std::string>();
  const int checkpoint_every = values["checkpoint-every"].as<int>();
  if (checkpoint_every < 0) throw Error("--checkpoint-every must be >= 0");
  std::string error;
  if (ctx.is_root()) {
    std::error_code failure;
    std::filesystem::create_directories(out_dir, failure);
    if (failure)
      error = fmt::format("cannot create --out directory '{}': {}", out_dir.string(), failure.message());
  }
  ctx.check_collectively(error);

  auto loaded = ops::data::load_interactions(ctx, interaction_load_options(values));
  ctx.log().info("als: {} interactions of {} users and {} items ({})", loaded.total, loaded.users.size(),
                 loaded.items.size(), loaded.columns_used);
  LayoutOptions layout_options;
  layout_options.row_cost = RowCost::for_solver(options.solver, options.factors);
  layout_options.merge_duplicates = options.feedback == Feedback::kImplicit;
  BlockLayout layout = build_block_layout(ctx, static_cast<std::uint32_t>(loaded.users.size()),
                                          static_cast<std::uint32_t>(loaded.items.size()),
                                          std::move(loaded.local), layout_options);

  AlsTrainer trainer(ctx, layout, options);
  const std::filesystem::path checkpoints = out_dir / "checkpoints";
  const std::string fingerprint = settings_fingerprint(options, layout);
  if (values["resume"].as<bool>() && !restore_checkpoint(ctx, checkpoints, trainer, layout, fingerprint))
    ctx.log().info("als: no checkpoint in {}, starting from the beginning", checkpoints.string());
  trainer.train([&](const IterationReport& report) {
    const bool due = checkpoint_every > 0 && report.iteration % checkpoint_every == 0;
    if (due) save_checkpoint(ctx, checkpoints, trainer, layout, fingerprint);
    // Collective, so every rank stops after the same iteration; the checkpoint is written with or without
    // --checkpoint-every, since a stopped job is meant to be resumed. After the last iteration only the
    // output is left to write: finish instead.
    if (report.iteration < options.iterations && stop_requested(ctx.comm())) {
      if (!due) save_checkpoint(ctx, checkpoints, trainer, layout, fingerprint);
      throw StopRequested(fmt::format(
          "stop signal after ALS iteration {} of {}; checkpoint in {}, rerun with --resume to continue",
          report.iteration, options.iterations, checkpoints.string()));
    }
  });
  AlsResult result = trainer.result();

  io::ShardedWriter out(ctx, out_dir / "embeddings.h5");
  write_side(ctx, out, "users", loaded.users, result.user_ids, result.user_factors, result.user_counts,
             result.user_biases, options.biases);
  write_side(ctx, out, "items", loaded.items, result.item_ids, result.item_factors, result.item_counts,
             result.item_biases, options.biases);
  std::vector<double> losses, seconds;
  for (const auto& report : result.history) {
    losses.push_back(report.loss);
    seconds.push_back(report.seconds);
  }
  out.set_attribute("/", "model", "als");
  out.set_attribute("/", "factors", static_cast<std::int64_t>(options.factors));
  out.set_attribute("/", "iterations", static_cast<std::int64_t>(result.history.size()));
  out.set_attribute("/", "regularization", options.regularization);
  out.set_attribute("/", "reg_scaling", to_string(options.reg_scaling));
  out.set_attribute("/", "feedback", to_string(options.feedback));
  out.set_attribute("/", "alpha", options.alpha);
  out.set_attribute("/", "solver", to_string(options.solver));
  out.set_attribute("/", "cg_steps", static_cast<std::int64_t>(options.cg_steps));
  out.set_attribute("/", "biases", static_cast<std::int64_t>(options.biases));
  out.set_attribute("/", "global_mean", static_cast<double>(result.global_mean));
  out.set_attribute("/", "exchange", to_string(options.exchange));
  out.set_attribute("/", "seed", options.seed);
  out.set_attribute("/", "tolerance", options.tolerance);
  out.set_attribute("/", "interactions", layout.total_nnz);
  out.set_attribute("/", "loss_history", losses);
  out.set_attribute("/", "seconds_history", seconds);
  out.set_attribute("/", "version", TAILFLOW_VERSION);
  out.set_attribute("/", "command_line", command_line());
  out.set_attribute("/", "ranks", static_cast<std::int64_t>(ctx.size()));
  out.commit();
  ctx.log().info("als: wrote {}", (out_dir / "embeddings.h5").string());
  return 0;
}

const SubcommandRegistration registration{
    Subcommand{"als", "user and item embeddings by alternating least squares (implicit or explicit feedback)",
               [](po::options_description& options) {
                 add_interaction_options(options);
                 options.add_options()("out", po::value<std::string>()->required(),
                                       "output directory: embeddings.h5 (master) + shards, checkpoints/")(
                     "checkpoint-every", po::value<int>()->default_value(0),
                     "write a checkpoint every N iterations (0: never)")(
                     "resume", po::bool_switch(), "continue from the newest checkpoint in DIR/checkpoints");
                 add_als_options(options, AlsOptions{});
               },
               run_als}};

}  // namespace
}  // namespace tailflow::jobs
