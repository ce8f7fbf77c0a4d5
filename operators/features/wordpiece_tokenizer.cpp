#include "operators/features/wordpiece_tokenizer.hpp"

#include <fmt/format.h>

#include <fstream>

#include "engine/error.hpp"

namespace tailflow::ops::features {

namespace {

using namespace std::literals;

constexpr std::size_t kMaxCharsPerWord = 100;

// Decodes one UTF-8 code point at `at`, advancing it; invalid bytes decode as U+FFFD, one byte at a time.
char32_t next_code_point(std::string_view text, std::size_t& at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  std::size_t length = lead < 0x80           ? 1
                       : (lead >> 5) == 0x6  ? 2
                       : (lead >> 4) == 0xE  ? 3
                       : (lead >> 3) == 0x1E ? 4
                                             : 0;
  if (length == 0 || at + length > text.size()) {
    ++at;
    return 0xFFFD;
  }
  char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) {
      ++at;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(at + i) & 0x3F);
  }
  at += length;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_whitespace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 || cp == 0x3000 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F;
}

bool is_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0xFFFD || cp == 0x200B || cp == 0xFEFF;
}

// BERT treats all non-letter/number ASCII as punctuation (so "$" and "^" split too), plus Unicode's P*
// classes; the ranges below hold the P* characters that occur in practice.
bool is_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  return cp == 0xA1 || cp == 0xA7 || cp == 0xAB || cp == 0xB6 || cp == 0xB7 || cp == 0xBB || cp == 0xBF ||
         (cp >= 0x2010 && cp <= 0x2027) || (cp >= 0x2030 && cp <= 0x205E) || (cp >= 0x3001 && cp <= 0x3003) ||
         (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0xFF01 && cp <= 0xFF0F);
}

bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Base letters of U+00C0..U+017F after NFD decomposition and removal of the combining marks; '\0' where the
// character has no decomposition (Æ, Ð, Ø, Þ, ß, Đ, Ħ, ı, Ł, ŉ, Ŋ, Œ, ſ ... stay as they are).
constexpr std::string_view kLatinBase =
    "AAAAAA\0CEEEEIIII\0NOOOOO\0\0UUUUY\0\0"    // U+00C0..U+00DF
    "aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y"     // U+00E0..U+00FF
    "AaAaAaCcCcCcCcDd\0\0EeEeEeEeEeGgGg"        // U+0100..U+011F
    "GgGgHh\0\0IiIiIiIiI\0\0\0JjKk\0LlLlLl\0"   // U+0120..U+013F
    "\0\0\0NnNnNn\0\0\0OoOoOo\0\0RrRrRrSsSsSs"  // U+0140..U+015F
    "SsTtTt\0\0UuUuUuUuUuUuWwYyYZzZzZz\0"sv;    // U+0160..U+017F
static_assert(kLatinBase.size() == 0x180 - 0xC0);

char32_t strip_accent(char32_t cp) {
  if (cp >= 0x300 && cp <= 0x36F) return 0;  // a combining mark on its own: dropped
  if (cp < 0xC0 || cp > 0x17F) return cp;
  char base = kLatinBase[cp - 0xC0];
  return base ? static_cast<char32_t>(base) : cp;
}

char32_t to_lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 32;
  if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x17F) {
    // Latin Extended-A alternates upper/lower case, but the pairs shift parity after U+0138.
    if (cp == 0x178) return 0xFF;
    bool upper = cp < 0x138 ? cp % 2 == 0 : cp < 0x149 ? cp % 2 == 1 : cp < 0x178 ? cp % 2 == 0 : cp % 2 == 1;
    return upper ? cp + 1 : cp;
  }
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;  // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                 // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_file(const std::filesystem::path& vocab_file, bool lower_case) {
  std::ifstream in(vocab_file);
  if (!in) throw Error(fmt::format("cannot read the WordPiece vocabulary '{}'", vocab_file.string()));
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  return WordPieceTokenizer(std::move(tokens), lower_case, vocab_file.string());
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> tokens, bool lower_case, std::string source)
    : tokens_(std::move(tokens)), lower_case_(lower_case) {
  for (std::size_t id = 0; id < tokens_.size(); ++id)
    ids_.emplace(tokens_[id], static_cast<std::int32_t>(id));  // the first of duplicate lines wins
  auto special = [&](const char* token) {
    auto found = ids_.find(token);
    if (found == ids_.end())
      throw Error(fmt::format("the WordPiece vocabulary '{}' has no {} token (is it a BERT vocab.txt?)",
                              source, token));
    return found->second;
  };
  cls_ = special("[CLS]");
  sep_ = special("[SEP]");
  pad_ = special("[PAD]");
  unk_ = special("[UNK]");
}

std::vector<std::string> WordPieceTokenizer::basic_tokens(std::string_view text) const {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (std::size_t at = 0; at < text.size();) {
    char32_t cp = next_code_point(text, at);
    if (cp == 0 || is_control(cp)) continue;
    if (is_whitespace(cp)) {
      flush();
      continue;
    }
    if (lower_case_) {
      cp = to_lower(strip_accent(to_lower(cp)));
      if (cp == 0) continue;
    }
    if (is_punctuation(cp) || is_cjk(cp)) {
      flush();
      append_utf8(word, cp);
      flush();
      continue;
    }
    append_utf8(word, cp);
  }
  flush();
  return words;
}

std::vector<std::string> WordPieceTokenizer::word_pieces(const std::string& word) const {
  std::size_t characters = 0;
  for (std::size_t at = 0; at < word.size(); ++characters) next_code_point(word, at);
  if (characters > kMaxCharsPerWord) return {"[UNK]"};
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < word.size()) {
    // Longest vocabulary piece starting at `start`; cuts only at UTF-8 character boundaries.
    std::size_t end = word.size();
    std::string found;
    while (end > start) {
      std::string candidate = (start > 0 ? "##" : "") + word.substr(start, end - start);
      if (ids_.count(candidate)) {
        found = std::move(candidate);
        break;
      }
      do --end;
      while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (found.empty()) return {"[UNK]"};
    pieces.push_back(std::move(found));
    start = end;
  }
  return pieces;
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  for (const auto& word : basic_tokens(text))
    for (auto& piece : word_pieces(word)) tokens.push_back(std::move(piece));
  return tokens;
}

WordPieceEncoding WordPieceTokenizer::encode(std::string_view text, std::size_t max_length) const {
  if (max_length < 2) throw Error(fmt::format("WordPiece max length must be at least 2, not {}", max_length));
  WordPieceEncoding encoding;
  encoding.ids.reserve(max_length);
  encoding.ids.push_back(cls_);
  for (const auto& token : tokenize(text)) {
    if (encoding.ids.size() + 1 >= max_length) break;
    encoding.ids.push_back(id_of(token));
  }
  encoding.ids.push_back(sep_);
  encoding.attention_mask.assign(encoding.ids.size(), 1);
  encoding.ids.resize(max_length, pad_);
  encoding.attention_mask.resize(max_length, 0);
  return encoding;
}

std::int32_t WordPieceTokenizer::id_of(std::string_view token) const {
  auto found = ids_.find(std::string(token));
  return found == ids_.end() ? unk_ : found->second;
}

}  // namespace tailflow::ops::features
