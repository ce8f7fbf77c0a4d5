// ALS checkpoints: a run interrupted after a checkpoint and resumed ends with the same factors as the
// uninterrupted run, on the same rank count (exactly) and on another rank count (within rounding).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/als/als_checkpoint.hpp"
#include "operators/als/synthetic_interactions.hpp"
#include "tests/operators/als_test_support.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::testing {
namespace {

using namespace ops::als;

constexpr std::uint32_t kUsers = 150, kItems = 80;

std::vector<ops::Interaction> data() {
  SyntheticShape shape;
  shape.users = kUsers;
  shape.items = kItems;
  shape.nnz = 2000;
  return generate_synthetic_interactions(shape, 0, 1);
}

AlsOptions options_with(int iterations) {
  AlsOptions options;
  options.factors = 6;
  options.iterations = iterations;
  options.regularization = 0.05;
  options.seed = 5;
  return options;
}

// Trains to `iterations`, first restoring from `directory` when asked, saving when `save_at` is reached.
FullFactors run(Context& ctx, const std::filesystem::path& directory, int iterations, bool resume,
                int save_at) {
  AlsOptions options = options_with(iterations);
  LayoutOptions layout_options;
  layout_options.row_cost = RowCost::for_solver(options.solver, options.factors);
  BlockLayout layout = build_block_layout(ctx, kUsers, kItems, share_of(ctx, data()), layout_options);
  AlsTrainer trainer(ctx, layout, options);
  const std::string fingerprint = settings_fingerprint(options, layout);
  if (resume) {
    EXPECT_TRUE(restore_checkpoint(ctx, directory, trainer, layout, fingerprint));
  }
  trainer.train([&](const IterationReport& report) {
    if (report.iteration == save_at) save_checkpoint(ctx, directory, trainer, layout, fingerprint);
  });
  return gather_result(ctx, trainer.result(), kUsers, kItems, options.factors);
}

TEST(AlsCheckpointTest, ResumedRunEqualsUninterruptedRun) {
  run_distributed({1, 2, 3}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    std::string name;
    if (ctx.is_root()) {
      name = (std::filesystem::temp_directory_path() /
              ("tailflow-als-checkpoint-" + std::to_string(::getpid()) + "-" + std::to_string(ctx.size())))
                 .string();
      std::filesystem::remove_all(name);
    }
    const std::filesystem::path directory = comm::broadcast_string(ctx.comm(), name, 0);

    const FullFactors uninterrupted = run(ctx, directory / "unused", 4, false, -1);
    run(ctx, directory, 2, false, 2);  // "interrupted" after iteration 2, with its checkpoint
    EXPECT_FALSE(std::filesystem::exists(directory / "unused"));
    const FullFactors resumed = run(ctx, directory, 4, true, -1);
    EXPECT_EQ(resumed.users, uninterrupted.users);
    EXPECT_EQ(resumed.items, uninterrupted.items);
    ASSERT_EQ(resumed.losses.size(), 4u);
    EXPECT_DOUBLE_EQ(resumed.losses[1], uninterrupted.losses[1]) << "the history travels with the checkpoint";

    // Resuming on another rank count (one rank, in a thread of its own) gives the same factors too.
    if (ctx.is_root()) {
      comm::run_on_threads(1, [&](comm::Communicator& comm) {
        Context single(comm);
        single.log().set_quiet(true);
        FullFactors other = run(single, directory, 4, true, -1);
        EXPECT_LT(max_relative_difference(other.users, uninterrupted.users), 1e-4);
        EXPECT_LT(max_relative_difference(other.items, uninterrupted.items), 1e-4);
      });
    }
    ctx.comm().barrier();
    if (ctx.is_root()) std::filesystem::remove_all(directory);
  });
}

TEST(AlsCheckpointTest, ResumingWithOtherSettingsIsRefused) {
  run_distributed({1, 2}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    std::string name;
    if (ctx.is_root()) {
      name = (std::filesystem::temp_directory_path() /
              ("tailflow-als-settings-" + std::to_string(::getpid()) + "-" + std::to_string(ctx.size())))
                 .string();
      std::filesystem::remove_all(name);
    }
    const std::filesystem::path directory = comm::broadcast_string(ctx.comm(), name, 0);
    run(ctx, directory, 1, false, 1);
    AlsOptions other = options_with(2);
    other.factors = 7;
    LayoutOptions layout_options;
    BlockLayout layout = build_block_layout(ctx, kUsers, kItems, share_of(ctx, data()), layout_options);
    AlsTrainer trainer(ctx, layout, other);
    EXPECT_FALSE(restore_checkpoint(ctx, directory / "nothing-here", trainer, layout,
                                    settings_fingerprint(other, layout)));
    EXPECT_THROW(restore_checkpoint(ctx, directory, trainer, layout, settings_fingerprint(other, layout)),
                 Error);
    ctx.comm().barrier();
    if (ctx.is_root()) std::filesystem::remove_all(directory);
  });
}

}  // namespace
}  // namespace tailflow::testing
