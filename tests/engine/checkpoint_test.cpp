// Checkpoints: save and restore, the newest complete one after simulated crashes, settings fingerprints,
// and resuming with another rank count.
#include "engine/io/checkpoint.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::io {
namespace {

namespace fs = std::filesystem;
using testing::run_distributed;

// A fresh directory shared by all ranks (named by rank 0).
fs::path shared_directory(Context& ctx, const std::string& name) {
  static std::atomic<int> counter{0};
  std::string path;
  if (ctx.is_root()) {
    path = (fs::temp_directory_path() / fmt::format("tailflow-ckpt-{}-{}-{}", name, ::getpid(), counter++))
               .string();
    fs::remove_all(path);
  }
  return comm::broadcast_string(ctx.comm(), path, 0);
}

// The state of iteration `it`: 7 rows of 2 factors in total, split unevenly over the ranks.
RowRange rows_of(const Context& ctx) {
  return balanced_share(7, ctx.rank(), ctx.size());
}
std::vector<double> factors(std::uint64_t iteration, RowRange rows) {
  std::vector<double> values;
  for (std::uint64_t r = rows.first; r < rows.first + rows.count; ++r)
    for (int c = 0; c < 2; ++c) values.push_back(static_cast<double>(iteration * 100 + r * 2 + c));
  return values;
}

void save(Context& ctx, const fs::path& dir, std::uint64_t iteration, const std::string& fingerprint = "f1") {
  CheckpointWriter checkpoint(ctx, dir, iteration, fingerprint);
  checkpoint.state().write_matrix<double>("user_factors", factors(iteration, rows_of(ctx)), 2);
  checkpoint.state().set_attribute("/", "loss", std::vector<double>(iteration, 0.5));
  checkpoint.commit();
}

TEST(Checkpoint, RestoresTheNewestAndKeepsTwo) {
  run_distributed([](Context& ctx) {
    fs::path dir = shared_directory(ctx, "newest");
    EXPECT_FALSE(restore_latest_checkpoint(dir, "f1").has_value());
    for (std::uint64_t iteration = 1; iteration <= 3; ++iteration) save(ctx, dir, iteration);
    ctx.comm().barrier();

    auto restored = restore_latest_checkpoint(dir, "f1");
    ASSERT_TRUE(restored.has_value());
    EXPECT_EQ(restored->iteration, 3u);
    EXPECT_EQ(restored->settings_fingerprint, "f1");
    EXPECT_EQ(restored->state.read_share<double>("user_factors", ctx.rank(), ctx.size()),
              factors(3, rows_of(ctx)));
    EXPECT_EQ(restored->state.master().vector_attribute<double>("/", "loss").size(), 3u);
    EXPECT_FALSE(fs::exists(dir / CheckpointWriter::directory_name(1)));
    EXPECT_TRUE(fs::exists(dir / CheckpointWriter::directory_name(2)));
    ctx.comm().barrier();
    if (ctx.is_root()) fs::remove_all(dir);
  });
}

TEST(Checkpoint, SurvivesCrashesAtAnyPoint) {
  run_distributed([](Context& ctx) {
    fs::path dir = shared_directory(ctx, "crash");
    save(ctx, dir, 1);
    save(ctx, dir, 2);

    // Crash while writing iteration 3: nothing committed.
    try {
      CheckpointWriter checkpoint(ctx, dir, 3, "f1");
      checkpoint.state().write_matrix<double>("user_factors", factors(3, rows_of(ctx)), 2);
      throw std::runtime_error("simulated crash");
    } catch (const std::runtime_error&) {
    }
    ctx.comm().barrier();
    EXPECT_EQ(restore_latest_checkpoint(dir, "f1")->iteration, 2u);
    ctx.comm().barrier();

    // LATEST lost (crash between the state and the pointer): the newest valid directory wins.
    if (ctx.is_root()) fs::remove(dir / "LATEST");
    ctx.comm().barrier();
    EXPECT_EQ(restore_latest_checkpoint(dir, "f1")->iteration, 2u);
    ctx.comm().barrier();

    // The newest checkpoint damaged (a shard gone): fall back to the one before.
    if (ctx.is_root()) {
      std::ofstream(dir / "LATEST") << CheckpointWriter::directory_name(2) << "\n";
      fs::remove(ShardedWriter::shard_path(dir / CheckpointWriter::directory_name(2) / "state.h5",
                                           ctx.size() - 1, ctx.size()));
    }
    ctx.comm().barrier();
    auto restored = restore_latest_checkpoint(dir, "f1");
    ASSERT_TRUE(restored.has_value());
    EXPECT_EQ(restored->iteration, 1u);
    EXPECT_EQ(restored->state.read_share<double>("user_factors", ctx.rank(), ctx.size()),
              factors(1, rows_of(ctx)));
    ctx.comm().barrier();

    // Resuming from 1 and checkpointing 2 again removes the damaged leftovers.
    save(ctx, dir, 2);
    ctx.comm().barrier();
    EXPECT_EQ(restore_latest_checkpoint(dir, "f1")->iteration, 2u);
    ctx.comm().barrier();
    if (ctx.is_root()) fs::remove_all(dir);
  });
}

TEST(Checkpoint, RefusesOtherSettings) {
  run_distributed({1, 2}, [](Context& ctx) {
    fs::path dir = shared_directory(ctx, "settings");
    save(ctx, dir, 4, "factors=8;lambda=0.1");
    ctx.comm().barrier();
    try {
      restore_latest_checkpoint(dir, "factors=16;lambda=0.1");
      ADD_FAILURE() << "expected an error";
    } catch (const Error& error) {
      std::string message = error.what();
      EXPECT_NE(message.find("factors=8;lambda=0.1"), std::string::npos) << message;
      EXPECT_NE(message.find("factors=16;lambda=0.1"), std::string::npos) << message;
      EXPECT_NE(message.find(CheckpointWriter::directory_name(4)), std::string::npos) << message;
    }
    ctx.comm().barrier();
    if (ctx.is_root()) fs::remove_all(dir);
  });
}

TEST(Checkpoint, ResumesWithAnotherRankCount) {
  if (testing::using_mpi()) GTEST_SKIP() << "needs several rank counts in one process (threads backend)";
  fs::path dir = fs::temp_directory_path() / fmt::format("tailflow-ckpt-ranks-{}", ::getpid());
  fs::remove_all(dir);
  run_distributed({3}, [&](Context& ctx) { save(ctx, dir, 5); });
  run_distributed({2, 5}, [&](Context& ctx) {
    auto restored = restore_latest_checkpoint(dir, "f1");
    ASSERT_TRUE(restored.has_value());
    EXPECT_EQ(restored->state.read_share<double>("user_factors", ctx.rank(), ctx.size()),
              factors(5, rows_of(ctx)));
  });
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tailflow::io
