// Text of catalog files in the encoding the features expect: UTF-8.
//
// Older public datasets are not UTF-8: MovieLens 1M's movies.dat is ISO-8859-1 (Latin-1), so "Misérables"
// arrives as the single byte 0xE9 for "é". Such bytes would hash as stray letters, decode as U+FFFD in the
// WordPiece tokenizer and leave invalid UTF-8 in the HDF5 vocabularies. A field that is not valid UTF-8 is
// therefore read as Latin-1, whose 256 code points map one-to-one onto U+0000 .. U+00FF, and converted. Valid
// UTF-8 (which includes plain ASCII) is left as it is, so UTF-8 files are never touched.
#pragma once

#include <string>
#include <string_view>

namespace tailflow::ops::features {

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Each byte as the Latin-1 code point of the same number, encoded as UTF-8.
std::string latin1_to_utf8(std::string_view text);

// Converts `text` from Latin-1 when it is not valid UTF-8; returns whether it did.
bool ensure_utf8(std::string& text);

}  // namespace tailflow::ops::features
