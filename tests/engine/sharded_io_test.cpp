// Sharded HDF5 output: round trips for every rank count, reading with other rank counts, empty ranks,
// damaged outputs, atomicity, and the master file as h5py sees it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/io/sharded_reader.hpp"
#include "engine/io/sharded_writer.hpp"
#include "tests/support/distributed_test.hpp"
#include "tests/support/expect_error.hpp"

namespace tailflow::io {
namespace {

namespace fs = std::filesystem;
using testing::run_distributed;

// A directory that every rank of this run shares (rank 0 names it), removed when the object goes.
class SharedTestDirectory {
 public:
  SharedTestDirectory(Context& ctx, const std::string& name) : ctx_(ctx) {
    std::string path;
    if (ctx.is_root()) {
      path = (fs::temp_directory_path() /
              fmt::format("tailflow-{}-{}-{}-{}", name, ::getpid(), ctx.size(), counter_++))
                 .string();
      fs::remove_all(path);
      fs::create_directories(path);
    }
    path_ = comm::broadcast_string(ctx.comm(), path, 0);
  }
  ~SharedTestDirectory() {
    // No collective here: a failing rank may leave early. Rank 0 cleans up once the others had their turn.
    if (ctx_.is_root()) {
      std::error_code ignored;
      fs::remove_all(path_, ignored);
    }
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  Context& ctx_;
  fs::path path_;
  static inline std::atomic<int> counter_{0};
};

// The test data: rank r owns (3r + 1) mod 4 rows (rank 1 owns none); row g holds g*10 + c in column c.
constexpr std::uint64_t kCols = 3;
std::uint64_t rows_of_rank(int rank) {
  return (3 * static_cast<std::uint64_t>(rank) + 1) % 4;
}
std::uint64_t total_rows(int size) {
  std::uint64_t total = 0;
  for (int r = 0; r < size; ++r) total += rows_of_rank(r);
  return total;
}
std::uint64_t first_row_of_rank(int rank) {
  std::uint64_t first = 0;
  for (int r = 0; r < rank; ++r) first += rows_of_rank(r);
  return first;
}
std::vector<float> matrix_rows(std::uint64_t first, std::uint64_t count) {
  std::vector<float> values;
  for (std::uint64_t g = first; g < first + count; ++g)
    for (std::uint64_t c = 0; c < kCols; ++c) values.push_back(static_cast<float>(g * 10 + c));
  return values;
}
std::vector<std::int64_t> counter_rows(std::uint64_t first, std::uint64_t count) {
  std::vector<std::int64_t> values;
  for (std::uint64_t g = first; g < first + count; ++g)
    values.push_back(-static_cast<std::int64_t>(g) * 1000);
  return values;
}
std::vector<std::string> id_rows(std::uint64_t first, std::uint64_t count) {
  std::vector<std::string> values;
  for (std::uint64_t g = first; g < first + count; ++g)
    values.push_back("item-" + std::string(g % 5, 'x') + std::to_string(g));
  return values;
}

// Writes the test data from every rank of `ctx` and commits.
void write_test_output(Context& ctx, const fs::path& master, float version = 1) {
  std::uint64_t first = first_row_of_rank(ctx.rank()), count = rows_of_rank(ctx.rank());
  ShardedWriter out(ctx, master, WriteOptions{.compression_level = 1});
  auto vectors = matrix_rows(first, count);
  for (auto& v : vectors) v *= version;
  EXPECT_EQ(out.write_matrix<float>("items/vectors", vectors, kCols), first);
  EXPECT_EQ(out.write<std::int64_t>("items/counters", counter_rows(first, count)), first);
  EXPECT_EQ(out.write_strings("items/ids", id_rows(first, count)), first);
  out.set_attribute("/", "version", version);
  out.set_attribute("/", "command", "tailflow als --factors 3");
  out.set_attribute("/", "loss", std::vector<double>{3.0, 2.0, 1.5});
  out.set_attribute("items/vectors", "factors", std::uint32_t{kCols});
  out.commit();
}

TEST(ShardedIo, EveryRankWritesItsRowsAndEveryRankReadsThemAll) {
  run_distributed([](Context& ctx) {
    SharedTestDirectory dir(ctx, "roundtrip");
    write_test_output(ctx, dir / "embeddings.h5");
    ctx.comm().barrier();

    std::uint64_t total = total_rows(ctx.size());
    ShardedReader in(dir / "embeddings.h5");
    EXPECT_EQ(in.shard_count(), ctx.size());
    EXPECT_EQ(in.datasets(), (std::vector<std::string>{"items/counters", "items/ids", "items/vectors"}));
    EXPECT_EQ(in.dims("items/vectors"), (std::vector<std::uint64_t>{total, kCols}));
    EXPECT_EQ(in.cols("items/counters"), 1u);
    EXPECT_EQ(in.read_all<float>("items/vectors"), matrix_rows(0, total));
    EXPECT_EQ(in.read_all<double>("/items/vectors").size(), total * kCols);
    EXPECT_EQ(in.read_all<std::int64_t>("items/counters"), counter_rows(0, total));
    EXPECT_EQ(in.read_all_strings("items/ids"), id_rows(0, total));
    if (total >= 3) {
      EXPECT_EQ(in.read_rows<float>("items/vectors", 1, total - 2), matrix_rows(1, total - 2));
      EXPECT_EQ(in.read_string_rows("items/ids", 1, total - 2), id_rows(1, total - 2));
    }
    EXPECT_EQ(in.master().attribute<float>("/", "version"), 1.0f);
    EXPECT_EQ(in.master().string_attribute("/", "command"), "tailflow als --factors 3");
    EXPECT_EQ(in.master().vector_attribute<double>("/", "loss"), (std::vector<double>{3.0, 2.0, 1.5}));
    EXPECT_EQ(in.master().attribute<std::uint32_t>("items/vectors", "factors"), kCols);

    // The master's virtual datasets read the same through plain HDF5 (what h5py does).
    auto master = Hdf5File::open(dir / "embeddings.h5");
    EXPECT_EQ(master.read<float>("items/vectors"), matrix_rows(0, total));
    EXPECT_EQ(master.read_strings("items/ids"), id_rows(0, total));
    ctx.comm().barrier();
  });
}

TEST(ShardedIo, BalancedSharesCoverEveryRowOnceForAnyReaderCount) {
  run_distributed([](Context& ctx) {
    SharedTestDirectory dir(ctx, "shares");
    write_test_output(ctx, dir / "out.h5");
    ctx.comm().barrier();
    ShardedReader in(dir / "out.h5");
    std::uint64_t total = total_rows(ctx.size());
    // As if 1, 2, 3 or 7 ranks each read their share (a resume with another rank count).
    for (int readers : {1, 2, 3, 7}) {
      std::vector<float> joined;
      std::vector<std::string> ids;
      for (int r = 0; r < readers; ++r) {
        auto part = in.read_share<float>("items/vectors", r, readers);
        joined.insert(joined.end(), part.begin(), part.end());
        auto id_part = in.read_string_share("items/ids", r, readers);
        ids.insert(ids.end(), id_part.begin(), id_part.end());
      }
      EXPECT_EQ(joined, matrix_rows(0, total)) << readers << " readers";
      EXPECT_EQ(ids, id_rows(0, total)) << readers << " readers";
    }
    ctx.comm().barrier();
  });
}

TEST(ShardedIo, BalancedShare) {
  EXPECT_EQ(balanced_share(10, 0, 3).first, 0u);
  EXPECT_EQ(balanced_share(10, 0, 3).count, 3u);
  EXPECT_EQ(balanced_share(10, 1, 3).first, 3u);
  EXPECT_EQ(balanced_share(10, 2, 3).count, 4u);
  EXPECT_EQ(balanced_share(2, 4, 5).count, 1u);
  EXPECT_EQ(balanced_share(0, 0, 1).count, 0u);
}

// A file written by 5 ranks, read by 1, 2 and 3: only the threads backend can change the rank count.
TEST(ShardedIo, WrittenByFiveRanksReadByFewer) {
  if (testing::using_mpi()) GTEST_SKIP() << "needs several rank counts in one process (threads backend)";
  fs::path dir = fs::temp_directory_path() / fmt::format("tailflow-fewer-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  run_distributed({5}, [&](Context& ctx) { write_test_output(ctx, dir / "out.h5"); });
  std::uint64_t total = total_rows(5);
  run_distributed({1, 2, 3}, [&](Context& ctx) {
    ShardedReader in(dir / "out.h5");
    auto mine = in.read_share<float>("items/vectors", ctx.rank(), ctx.size());
    auto range = balanced_share(total, ctx.rank(), ctx.size());
    EXPECT_EQ(mine, matrix_rows(range.first, range.count));
  });
  // And the other way round: 1 rank writes, 3 ranks read.
  run_distributed({1}, [&](Context& ctx) { write_test_output(ctx, dir / "single.h5"); });
  run_distributed({3}, [&](Context& ctx) {
    ShardedReader in(dir / "single.h5");
    EXPECT_EQ(in.shard_count(), 1);
    auto range = balanced_share(total_rows(1), ctx.rank(), ctx.size());
    EXPECT_EQ(in.read_share<float>("items/vectors", ctx.rank(), ctx.size()),
              matrix_rows(range.first, range.count));
  });
  fs::remove_all(dir);
}

TEST(ShardedIo, NoRowsAnywhere) {
  run_distributed([](Context& ctx) {
    SharedTestDirectory dir(ctx, "empty");
    {
      ShardedWriter out(ctx, dir / "empty.h5");
      out.write_matrix<double>("m", std::vector<double>{}, 4);
      out.write_strings("s", std::vector<std::string>{});
      out.commit();
    }
    ctx.comm().barrier();
    ShardedReader in(dir / "empty.h5");
    EXPECT_EQ(in.dims("m"), (std::vector<std::uint64_t>{0, 4}));
    EXPECT_TRUE(in.read_all<double>("m").empty());
    EXPECT_TRUE(in.read_string_share("s", ctx.rank(), ctx.size()).empty());
    ctx.comm().barrier();
  });
}

using testing::expect_error;

TEST(ShardedIo, MissingOrShortShardIsNamedInTheError) {
  run_distributed([](Context& ctx) {
    SharedTestDirectory dir(ctx, "damaged");
    write_test_output(ctx, dir / "a.h5");
    write_test_output(ctx, dir / "b.h5");
    write_test_output(ctx, dir / "c.h5");
    ctx.comm().barrier();
    int last = ctx.size() - 1;
    if (ctx.is_root()) {
      // Shard 0 of c from another write.
      fs::copy_file(ShardedWriter::shard_path(dir / "a.h5", 0, ctx.size()),
                    ShardedWriter::shard_path(dir / "c.h5", 0, ctx.size()),
                    fs::copy_options::overwrite_existing);
      fs::remove(ShardedWriter::shard_path(dir / "a.h5", last, ctx.size()));
      // Shard 0 of b: same write, one row short.
      auto shard = ShardedWriter::shard_path(dir / "b.h5", 0, ctx.size());
      auto write_id = Hdf5File::open(shard).string_attribute("/", "write_id");
      auto file = Hdf5File::create(shard);
      file.set_attribute("/", "write_id", write_id);
      file.write_matrix<float>("items/vectors", matrix_rows(0, 0), 0, kCols);
      file.write<std::int64_t>("items/counters", counter_rows(0, rows_of_rank(0)));
      file.write_strings("items/ids", id_rows(0, rows_of_rank(0)));
    }
    ctx.comm().barrier();
    std::string of = fmt::format("of {}", ctx.size());
    expect_error([&] { ShardedReader in(dir / "a.h5"); },
                 {fmt::format("shard {} {}", last, of), fmt::format("a.shard-{:05d}", last), "missing"});
    expect_error([&] { ShardedReader in(dir / "b.h5"); },
                 {"shard 0 " + of, "b.shard-00000", "holds 0 rows of 'items/vectors'", "expects 1"});
    expect_error([&] { ShardedReader in(dir / "c.h5"); }, {"shard 0 " + of, "different write"});
    expect_error([&] { ShardedReader in(dir / "nothing.h5"); }, {"nothing.h5", "does not exist"});
    ctx.comm().barrier();
  });
}

std::vector<std::string> leftover_temporaries(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos)
      found.push_back(entry.path().filename().string());
  return found;
}

TEST(ShardedIo, AFailedWriteLeavesThePreviousOutputIntact) {
  run_distributed([](Context& ctx) {
    SharedTestDirectory dir(ctx, "atomic");
    write_test_output(ctx, dir / "out.h5", /*version=*/1);
    ctx.comm().barrier();

    // An exception on every rank before commit().
    try {
      ShardedWriter out(ctx, dir / "out.h5");
      out.write_matrix<float>("items/vectors", std::vector<float>(3 * kCols, -1.0f), kCols);
      throw std::runtime_error("simulated failure");
    } catch (const std::runtime_error&) {
    }
    // A bad input on one rank only: every rank gets the error, nobody commits.
    expect_error(
        [&] {
          ShardedWriter out(ctx, dir / "out.h5");
          std::size_t values = ctx.rank() == ctx.size() - 1 ? kCols + 1 : kCols;
          out.write_matrix<float>("items/vectors", std::vector<float>(values, -1.0f), kCols);
          out.commit();
        },
        {"not a multiple of 3 columns", fmt::format("rank {}", ctx.size() - 1)});
    // Ranks that disagree about what they write.
    if (ctx.size() > 1)
      expect_error(
          [&] {
            ShardedWriter out(ctx, dir / "out.h5");
            out.write<float>(ctx.rank() == 1 ? "other" : "items/vectors", std::vector<float>{1.0f});
          },
          {"rank 1", "same datasets"});
    ctx.comm().barrier();

    ShardedReader in(dir / "out.h5");
    EXPECT_EQ(in.master().attribute<float>("/", "version"), 1.0f);
    EXPECT_EQ(in.read_all<float>("items/vectors"), matrix_rows(0, total_rows(ctx.size())));
    EXPECT_EQ(leftover_temporaries(dir.path()), std::vector<std::string>{});

    // A complete second write replaces the first.
    ctx.comm().barrier();
    write_test_output(ctx, dir / "out.h5", /*version=*/2);
    ctx.comm().barrier();
    ShardedReader again(dir / "out.h5");
    EXPECT_EQ(again.master().attribute<float>("/", "version"), 2.0f);
    auto expected = matrix_rows(0, total_rows(ctx.size()));
    for (auto& v : expected) v *= 2;
    EXPECT_EQ(again.read_all<float>("items/vectors"), expected);
    ctx.comm().barrier();
  });
}

TEST(ShardedIo, ShardsOfAnOlderRankCountAreRemoved) {
  if (testing::using_mpi()) GTEST_SKIP() << "needs several rank counts in one process (threads backend)";
  fs::path dir = fs::temp_directory_path() / fmt::format("tailflow-stale-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "out.shard-notes.h5") << "not ours\n";
  run_distributed({3}, [&](Context& ctx) { write_test_output(ctx, dir / "out.h5"); });
  run_distributed({2}, [&](Context& ctx) { write_test_output(ctx, dir / "out.h5"); });
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"out.h5", "out.shard-00000-of-00002.h5",
                                             "out.shard-00001-of-00002.h5", "out.shard-notes.h5"}));
  fs::remove_all(dir);
}

bool python_has_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0;
}

TEST(ShardedIo, H5pyReadsTheMasterAsOneDataset) {
  if (!python_has_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  run_distributed({3}, [](Context& ctx) {
    SharedTestDirectory dir(ctx, "h5py");
    write_test_output(ctx, dir / "emb.h5");
    ctx.comm().barrier();
    if (ctx.is_root()) {
      std::uint64_t total = total_rows(ctx.size());
      // Run from another directory: the shards are found relative to the master file.
      std::string script = fmt::format(R"(
import h5py, numpy as np
f = h5py.File("{0}", "r")
v = f["items/vectors"]
assert v.shape == ({1}, 3), v.shape
g = np.arange({1})
assert (v[:] == (g[:, None] * 10 + np.arange(3)[None, :]).astype(np.float32)).all()
assert (f["items/counters"][:] == -g * 1000).all()
ids = list(f["items/ids"].asstr()[:])
assert ids == ["item-" + "x" * (i % 5) + str(i) for i in range({1})], ids
assert f.attrs["command"] == "tailflow als --factors 3"
assert list(f.attrs["loss"]) == [3.0, 2.0, 1.5]
)",
                                       (dir / "emb.h5").string(), total);
      std::ofstream(dir / "check.py") << script;
      std::string command = fmt::format("cd / && /usr/bin/python3 {} 2>&1", (dir / "check.py").string());
      EXPECT_EQ(std::system(command.c_str()), 0) << "the h5py check failed: " << command;
    }
    ctx.comm().barrier();
  });
}

// --- AtomicOutput on its own ---------------------------------------------------------------------------

TEST(AtomicOutput, CommitReplacesAndUncommittedOutputVanishes) {
  fs::path dir = fs::temp_directory_path() / fmt::format("tailflow-atomic-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto read = [](const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  {
    AtomicOutput output(dir / "a.csv");
    std::ofstream(output.temporary_path()) << "old\n";
    output.commit();
    EXPECT_TRUE(output.committed());
  }
  EXPECT_EQ(read(dir / "a.csv"), "old\n");
  try {
    AtomicOutput output(dir / "a.csv");
    std::ofstream(output.temporary_path()) << "half of the new";
    throw std::runtime_error("simulated failure");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read(dir / "a.csv"), "old\n");
  EXPECT_EQ(leftover_temporaries(dir), std::vector<std::string>{});
  {
    AtomicOutput output(dir / "never-written.csv");
    expect_error([&] { output.commit(); }, {"never-written.csv", "nothing was written"});
  }
  expect_error([&] { AtomicOutput output(dir / "missing-dir" / "x.csv"); },
               {"missing-dir", "does not exist"});
  fs::remove_all(dir);
}

TEST(AtomicOutput, SharedOutputIsRenamedByRankZeroAfterEveryRankWrote) {
  run_distributed([](Context& ctx) {
    SharedTestDirectory dir(ctx, "shared-output");
    {
      SharedAtomicOutput output(ctx, dir / "all.txt");
      // Each rank writes its own line at its own offset (as MPI-IO would).
      if (ctx.is_root()) std::ofstream(output.temporary_path()) << std::string(ctx.size() * 2, ' ');
      ctx.comm().barrier();
      {
        std::fstream file(output.temporary_path(), std::ios::in | std::ios::out);
        file.seekp(ctx.rank() * 2);
        file << static_cast<char>('a' + ctx.rank()) << '\n';
      }
      output.commit();
    }
    std::string expected;
    for (int r = 0; r < ctx.size(); ++r) expected += std::string(1, static_cast<char>('a' + r)) + "\n";
    std::ifstream in(dir / "all.txt");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), expected);
    {
      SharedAtomicOutput abandoned(ctx, dir / "abandoned.txt");
      if (ctx.is_root()) std::ofstream(abandoned.temporary_path()) << "x";
      ctx.comm().barrier();
    }
    ctx.comm().barrier();
    EXPECT_FALSE(fs::exists(dir / "abandoned.txt"));
    EXPECT_EQ(leftover_temporaries(dir.path()), std::vector<std::string>{});
    ctx.comm().barrier();
  });
}

}  // namespace
}  // namespace tailflow::io
