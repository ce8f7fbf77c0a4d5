// BERT's WordPiece tokenizer, reading a BERT `vocab.txt` (one token per line; line i = id i).
//
// Two stages, as in the reference implementation (google-research/bert tokenization.py):
//   1. basic: drop control characters, turn whitespace into spaces, put spaces around CJK ideographs,
//      lower-case and strip accents (uncased models), split on whitespace and around punctuation;
//   2. WordPiece: each word is split greedily, longest match first, into vocabulary pieces; pieces after the
//      first carry the "##" prefix ("unaffable" -> un ##aff ##able). A word that cannot be split, or is
//      longer than 100 characters, becomes [UNK].
// encode() adds [CLS] ... [SEP], truncates to max_length and pads with [PAD]; the attention mask is 1 on
// real tokens, 0 on padding — the input of a TorchScript text encoder.
//
// Accent stripping covers Latin-1 and Latin Extended-A (U+00C0..U+017F), which is what item titles in
// European languages need; other letters are kept as they are.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tailflow::ops::features {

struct WordPieceEncoding {
  std::vector<std::int32_t> ids;             // max_length ids
  std::vector<std::uint8_t> attention_mask;  // 1 = token, 0 = padding
};

class WordPieceTokenizer {
 public:
  // Throws Error naming the file if it cannot be read or lacks [CLS], [SEP], [PAD] or [UNK].
  static WordPieceTokenizer from_file(const std::filesystem::path& vocab_file, bool lower_case = true);
  // Tokens in id order (for tests and for vocabularies built in code).
  WordPieceTokenizer(std::vector<std::string> tokens, bool lower_case = true,
                     std::string source = "vocabulary");

  // Stage 1 only: the words and punctuation marks of `text`.
  std::vector<std::string> basic_tokens(std::string_view text) const;
  // Both stages: WordPiece tokens ("un", "##aff", "##able", "[UNK]").
  std::vector<std::string> tokenize(std::string_view text) const;
  // [CLS] tokens [SEP], truncated to max_length (>= 2) and padded.
  WordPieceEncoding encode(std::string_view text, std::size_t max_length) const;

  std::int32_t id_of(std::string_view token) const;  // the [UNK] id for unknown tokens
  std::size_t vocabulary_size() const { return tokens_.size(); }
  std::int32_t cls_id() const { return cls_; }
  std::int32_t sep_id() const { return sep_; }
  std::int32_t pad_id() const { return pad_; }
  std::int32_t unk_id() const { return unk_; }

 private:
  std::vector<std::string> word_pieces(const std::string& word) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int32_t> ids_;
  bool lower_case_ = true;
  std::int32_t cls_ = 0, sep_ = 0, pad_ = 0, unk_ = 0;
};

}  // namespace tailflow::ops::features
