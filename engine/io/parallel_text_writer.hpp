// Writing one file from all ranks at once: every rank writes its own rows at its own offset.
//
// Each rank formats its rows into one buffer; an exclusive prefix sum of the buffer sizes gives every rank
// its byte offset; all ranks pwrite() into one shared temporary file next to the target, rank 0 writes the
// header, every rank fsyncs; after a barrier, rank 0 renames the temporary file to the final name. Readers
// therefore see either the old file or the complete new one, never a half-written one, and the file's
// contents are the same for any number of ranks as long as the concatenation of the buffers in rank order is.
//
// Works for any bytes, not only text (the fashion shop writes its IDX image file this way too). A failure on
// any rank (no such directory, disk full) becomes a CollectiveError on every rank, and the temporary file is
// removed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "engine/context.hpp"

namespace tailflow::io {

// Collective. Writes `header` (taken from rank 0) followed by every rank's `local_bytes` in rank order to
// `path`, replacing any existing file atomically. Returns the file's size. The directory must exist.
std::uint64_t write_file_collectively(Context& ctx, const std::filesystem::path& path,
                                      std::string_view header, std::string_view local_bytes);

}  // namespace tailflow::io
