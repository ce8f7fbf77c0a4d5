// The WordPiece tokenizer on a tiny vocabulary written by the test.
#include "operators/features/wordpiece_tokenizer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/error.hpp"

namespace tailflow::ops::features {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kVocabulary = {"[PAD]",  "[UNK]", "[CLS]", "[SEP]", "un",    "##aff",
                                              "##able", "runn",  "##ing", "red",   "shirt", ",",
                                              "!",      "cafe",  "t",     "-",     "the",   "##s"};

TEST(FeaturesWordPiece, SplitsGreedilyLongestMatchFirst) {
  WordPieceTokenizer tokenizer(kVocabulary);
  EXPECT_EQ(tokenizer.tokenize("unaffable"), (std::vector<std::string>{"un", "##aff", "##able"}));
  EXPECT_EQ(tokenizer.tokenize("UNwant running"), (std::vector<std::string>{"[UNK]", "runn", "##ing"}));
  EXPECT_EQ(tokenizer.tokenize("Red T-Shirts!"),
            (std::vector<std::string>{"red", "t", "-", "shirt", "##s", "!"}));
}

TEST(FeaturesWordPiece, BasicTokensLowerCaseStripAccentsAndSplitPunctuation) {
  WordPieceTokenizer tokenizer(kVocabulary);
  EXPECT_EQ(tokenizer.basic_tokens(" Café,\tÉCLAIR\u00a0naïve "),
            (std::vector<std::string>{"cafe", ",", "eclair", "naive"}));
  EXPECT_EQ(tokenizer.tokenize("CAFÉ"), (std::vector<std::string>{"cafe"}));
  WordPieceTokenizer cased(kVocabulary, /*lower_case=*/false);
  EXPECT_EQ(cased.basic_tokens("Café!"), (std::vector<std::string>{"Café", "!"}));
}

TEST(FeaturesWordPiece, EncodesWithSpecialTokensTruncatesAndPads) {
  WordPieceTokenizer tokenizer(kVocabulary);
  auto short_text = tokenizer.encode("red shirt", 6);
  EXPECT_EQ(short_text.ids, (std::vector<std::int32_t>{2, 9, 10, 3, 0, 0}));
  EXPECT_EQ(short_text.attention_mask, (std::vector<std::uint8_t>{1, 1, 1, 1, 0, 0}));
  auto truncated = tokenizer.encode("unaffable red shirt", 4);
  EXPECT_EQ(truncated.ids, (std::vector<std::int32_t>{2, 4, 5, 3}));
  EXPECT_EQ(tokenizer.encode("", 3).ids, (std::vector<std::int32_t>{2, 3, 0}));
  EXPECT_THROW(tokenizer.encode("x", 1), Error);
}

TEST(FeaturesWordPiece, ReadsAVocabFileAndNamesItWhenItIsNoBertVocabulary) {
  std::string dir_pattern = (fs::temp_directory_path() / "tailflow-wordpiece-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir_pattern.data()), nullptr);
  fs::path dir = dir_pattern;
  {
    std::ofstream out(dir / "vocab.txt");
    for (const auto& token : kVocabulary) out << token << "\r\n";
    std::ofstream bad(dir / "bad.txt");
    bad << "hello\nworld\n";
  }
  auto tokenizer = WordPieceTokenizer::from_file(dir / "vocab.txt");
  EXPECT_EQ(tokenizer.vocabulary_size(), kVocabulary.size());
  EXPECT_EQ(tokenizer.id_of("##able"), 6);
  EXPECT_EQ(tokenizer.id_of("nope"), tokenizer.unk_id());
  try {
    WordPieceTokenizer::from_file(dir / "bad.txt");
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(WordPieceTokenizer::from_file(dir / "missing.txt"), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tailflow::ops::features
