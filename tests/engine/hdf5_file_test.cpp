// Hdf5File: round trips for every element type, strings, attributes, structure queries and error messages.
#include "engine/io/hdf5_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "engine/error.hpp"
#include "tests/support/expect_error.hpp"

namespace tailflow::io {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class Hdf5FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / fmt_name(::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string fmt_name(const std::string& test) {
    return "tailflow-hdf5-" + test + "-" + std::to_string(::getpid());
  }
  fs::path file(const std::string& name) const { return dir_ / name; }

  fs::path dir_;
};

template <class T>
class Hdf5NumberRoundTrip : public Hdf5FileTest {};
using NumberTypes = ::testing::Types<std::int8_t, std::uint8_t, std::int32_t, std::uint32_t, std::int64_t,
                                     std::uint64_t, float, double>;
TYPED_TEST_SUITE(Hdf5NumberRoundTrip, NumberTypes);

TYPED_TEST(Hdf5NumberRoundTrip, VectorsMatricesAndAttributes) {
  using T = TypeParam;
  std::vector<T> vector{std::numeric_limits<T>::lowest(), T{0}, T{1}, std::numeric_limits<T>::max()};
  std::vector<T> matrix(3 * 4);
  for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = static_cast<T>(i * 3 + 1);
  {
    Hdf5File out = Hdf5File::create(this->file("numbers.h5"));
    out.write<T>("a/b/vector", vector);
    out.write_matrix<T>("matrix", matrix, 3, 4, WriteOptions{.compression_level = 4});
    out.write<T>("empty", std::vector<T>{});
    out.write_matrix<T>("empty_matrix", std::vector<T>{}, 0, 4);
    out.set_attribute("/", "scalar", std::numeric_limits<T>::max());
    out.set_attribute("a/b/vector", "values", vector);
    out.set_attribute("matrix", "none", std::vector<T>{});
    out.close();
  }
  Hdf5File in = Hdf5File::open(this->file("numbers.h5"));
  EXPECT_EQ(in.read<T>("a/b/vector"), vector);
  EXPECT_EQ(in.read<T>("/a/b/vector"), vector);
  EXPECT_EQ(in.read<T>("matrix"), matrix);
  EXPECT_EQ(in.dims("matrix"), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(in.dims("a/b/vector"), (std::vector<std::uint64_t>{4}));
  EXPECT_EQ(in.read_rows<T>("matrix", 1, 2), std::vector<T>(matrix.begin() + 4, matrix.end()));
  EXPECT_TRUE(in.read_rows<T>("matrix", 3, 0).empty());
  EXPECT_TRUE(in.read<T>("empty").empty());
  EXPECT_EQ(in.dims("empty_matrix"), (std::vector<std::uint64_t>{0, 4}));
  EXPECT_EQ(in.attribute<T>("/", "scalar"), std::numeric_limits<T>::max());
  EXPECT_EQ(in.vector_attribute<T>("a/b/vector", "values"), vector);
  EXPECT_TRUE(in.vector_attribute<T>("matrix", "none").empty());
}

TEST_F(Hdf5FileTest, ConvertsBetweenNumberTypesOnRead) {
  {
    auto out = Hdf5File::create(file("convert.h5"));
    out.write<float>("x", std::vector<float>{1.5f, -2.25f});
    out.set_attribute("/", "iteration", std::int32_t{12});
  }
  auto in = Hdf5File::open(file("convert.h5"));
  EXPECT_EQ(in.read<double>("x"), (std::vector<double>{1.5, -2.25}));
  EXPECT_EQ(in.attribute<std::uint64_t>("/", "iteration"), 12u);
}

TEST_F(Hdf5FileTest, StringsRoundTripInBothLayouts) {
  std::vector<std::string> ids{"item-1", "", "ünïcode", "a much longer identifier than the others"};
  {
    auto out = Hdf5File::create(file("strings.h5"));
    out.write_strings("ids/fixed", ids);
    out.write_strings("ids/variable", ids, StringLayout::kVariableLength);
    out.write_strings("ids/wide", ids, StringLayout::kFixedLength, 64);
    out.write_strings("ids/compressed", ids, StringLayout::kFixedLength, 0,
                      WriteOptions{.compression_level = 1});
    out.write_strings("ids/empty", std::vector<std::string>{});
    out.set_attribute("/", "command", "tailflow generate --seed 7");
    out.set_attribute("ids", "empty_text", std::string());
  }
  auto in = Hdf5File::open(file("strings.h5"));
  EXPECT_EQ(in.read_strings("ids/fixed"), ids);
  EXPECT_EQ(in.read_strings("ids/variable"), ids);
  EXPECT_EQ(in.read_strings("ids/wide"), ids);
  EXPECT_EQ(in.read_strings("ids/compressed"), ids);
  EXPECT_TRUE(in.read_strings("ids/empty").empty());
  EXPECT_EQ(in.string_width("ids/fixed"), ids.back().size());
  EXPECT_EQ(in.string_width("ids/variable"), 0u);
  EXPECT_EQ(in.read_string_rows("ids/fixed", 1, 2), (std::vector<std::string>{"", "ünïcode"}));
  EXPECT_EQ(in.read_string_rows("ids/variable", 2, 2), (std::vector<std::string>{ids[2], ids[3]}));
  EXPECT_EQ(in.string_attribute("/", "command"), "tailflow generate --seed 7");
  EXPECT_EQ(in.string_attribute("ids", "empty_text"), "");
}

TEST_F(Hdf5FileTest, StructureQueries) {
  {
    auto out = Hdf5File::create(file("tree.h5"));
    out.create_group("items/vectors/deep");
    out.create_group("items");  // already there: fine
    out.write<double>("items/popularity", std::vector<double>{1, 2});
    out.write<double>("users/vectors", std::vector<double>{3});
    out.write<double>("top", std::vector<double>{4});
    out.set_attribute("items", "b", 1.0);
    out.set_attribute("items", "a", "x");
    out.set_attribute("items", "a", "replaced");
  }
  auto in = Hdf5File::open(file("tree.h5"));
  EXPECT_EQ(in.list_datasets(), (std::vector<std::string>{"items/popularity", "top", "users/vectors"}));
  EXPECT_EQ(in.list_datasets("items"), (std::vector<std::string>{"items/popularity"}));
  EXPECT_TRUE(in.exists("items/vectors/deep"));
  EXPECT_TRUE(in.exists("/items"));
  EXPECT_FALSE(in.exists("nothing/here"));
  EXPECT_FALSE(in.exists("items/nothing"));
  EXPECT_TRUE(in.is_dataset("top"));
  EXPECT_FALSE(in.is_dataset("items"));
  EXPECT_FALSE(in.is_dataset("missing"));
  EXPECT_EQ(in.attribute_names("items"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(in.has_attribute("items", "a"));
  EXPECT_FALSE(in.has_attribute("items", "c"));
  EXPECT_EQ(in.string_attribute("items", "a"), "replaced");
}

TEST_F(Hdf5FileTest, OpenForWritingAddsToAnExistingFile) {
  { Hdf5File::create(file("grow.h5")).write<std::int32_t>("first", std::vector<std::int32_t>{1}); }
  {
    Hdf5File::open(file("grow.h5"), OpenMode::kReadWrite)
        .write<std::int32_t>("second", std::vector<std::int32_t>{2});
  }
  EXPECT_EQ(Hdf5File::open(file("grow.h5")).list_datasets(), (std::vector<std::string>{"first", "second"}));
}

using testing::expect_error;

TEST_F(Hdf5FileTest, ErrorsNameTheFileAndTheObject) {
  auto path = file("errors.h5");
  {
    auto out = Hdf5File::create(path);
    out.write<float>("items/vectors", std::vector<float>{1, 2});
    out.write_strings("items/ids", std::vector<std::string>{"a"});
    expect_error([&] { out.write<float>("items/vectors", std::vector<float>{1}); },
                 {path.string(), "items/vectors", "exists"});
    expect_error(
        [&] {
          out.write_matrix<float>("m", std::vector<float>{1, 2, 3}, 2, 2);
        },
        {path.string(), "'m'"});
    expect_error(
        [&] { out.write_strings("s", std::vector<std::string>{"toolong"}, StringLayout::kFixedLength, 3); },
        {path.string(), "'s'", "width"});
  }
  auto in = Hdf5File::open(path);
  expect_error([&] { in.read<float>("items/missing"); }, {path.string(), "items/missing"});
  expect_error([&] { in.read<float>("items/ids"); }, {path.string(), "items/ids", "numbers"});
  expect_error([&] { in.read_strings("items/vectors"); }, {path.string(), "items/vectors", "strings"});
  expect_error([&] { in.read_rows<float>("items/vectors", 1, 5); },
               {path.string(), "items/vectors", "2 rows"});
  expect_error([&] { in.attribute<float>("items", "nope"); }, {path.string(), "items", "nope"});
  expect_error([&] { in.write<float>("new", std::vector<float>{1}); }, {path.string(), "new"});
  expect_error([&] { Hdf5File::open(file("absent.h5")); }, {"absent.h5", "does not exist"});
  expect_error([&] { Hdf5File::create(dir_ / "no-such-dir" / "x.h5"); }, {"no-such-dir"});
  {
    std::ofstream text(file("text.h5"));
    text << "not hdf5\n";
  }
  expect_error([&] { Hdf5File::open(file("text.h5")); }, {"text.h5", "HDF5"});
}

}  // namespace
}  // namespace tailflow::io
