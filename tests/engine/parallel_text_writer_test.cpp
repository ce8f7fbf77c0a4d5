// The collective file writer: rank-ordered concatenation, atomic replacement, errors on every rank.
#include "engine/io/parallel_text_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::io {
namespace {

using testing::run_distributed;
namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fresh directory named by rank 0, the same on every rank (under MPI each process has its own pid).
fs::path shared_directory(Context& ctx, const std::string& name) {
  std::string dir;
  if (ctx.is_root()) {
    dir = (fs::path(::testing::TempDir()) / fmt::format("tailflow_{}_{}", name, ::getpid())).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  dir = comm::broadcast_string(ctx.comm(), dir, 0);
  ctx.comm().barrier();
  return dir;
}

bool has_temporary_files(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

TEST(ParallelTextWriter, ConcatenatesRanksInOrderAfterTheHeader) {
  run_distributed([](Context& ctx) {
    fs::path dir = shared_directory(ctx, "writer_order");
    // Rank r writes r lines: rank 0 writes nothing at all.
    std::string mine;
    for (int i = 0; i < ctx.rank(); ++i) mine += fmt::format("rank {} line {}\n", ctx.rank(), i);
    // Only rank 0's header counts.
    std::string header = ctx.is_root() ? "a,b\n" : "ignored\n";
    std::uint64_t size = write_file_collectively(ctx, dir / "out.csv", header, mine);

    std::string expected = "a,b\n";
    for (int r = 0; r < ctx.size(); ++r)
      for (int i = 0; i < r; ++i) expected += fmt::format("rank {} line {}\n", r, i);
    EXPECT_EQ(size, expected.size());
    EXPECT_EQ(read_file(dir / "out.csv"), expected);
    EXPECT_FALSE(has_temporary_files(dir));
    ctx.comm().barrier();
    if (ctx.is_root()) fs::remove_all(dir);
  });
}

TEST(ParallelTextWriter, ReplacesAnExistingFileAndWritesBinaryBytes) {
  run_distributed([](Context& ctx) {
    fs::path dir = shared_directory(ctx, "writer_replace");
    if (ctx.is_root())
      std::ofstream(dir / "data.bin") << "an old and much longer file that must disappear entirely";
    ctx.comm().barrier();
    std::string mine(3, static_cast<char>(ctx.rank()));
    mine += '\0';
    write_file_collectively(ctx, dir / "data.bin", std::string("\x00\x01", 2), mine);
    std::string expected("\x00\x01", 2);
    for (int r = 0; r < ctx.size(); ++r) expected += std::string(3, static_cast<char>(r)) + '\0';
    EXPECT_EQ(read_file(dir / "data.bin"), expected);
    ctx.comm().barrier();
    if (ctx.is_root()) fs::remove_all(dir);
  });
}

TEST(ParallelTextWriter, EmptyFile) {
  run_distributed([](Context& ctx) {
    fs::path dir = shared_directory(ctx, "writer_empty");
    EXPECT_EQ(write_file_collectively(ctx, dir / "empty", "", ""), 0u);
    EXPECT_TRUE(fs::exists(dir / "empty"));
    EXPECT_EQ(fs::file_size(dir / "empty"), 0u);
    ctx.comm().barrier();
    if (ctx.is_root()) fs::remove_all(dir);
  });
}

TEST(ParallelTextWriter, MissingDirectoryFailsOnEveryRank) {
  run_distributed([](Context& ctx) {
    fs::path dir = shared_directory(ctx, "writer_missing");
    try {
      write_file_collectively(ctx, dir / "no" / "such" / "out.csv", "h\n", "row\n");
      ADD_FAILURE() << "expected an error";
    } catch (const CollectiveError& e) {
      EXPECT_NE(std::string(e.what()).find("no/such/.out.csv.tmp."), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
    }
    ctx.comm().barrier();
    if (ctx.is_root()) fs::remove_all(dir);
  });
}

}  // namespace
}  // namespace tailflow::io
