#include "jobs/stage_fingerprint.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include <unistd.h>

#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/json_reader.hpp"
#include "engine/stable_hash.hpp"

namespace tailflow::jobs {

namespace fs = std::filesystem;

void FingerprintBuilder::add(std::string_view label, std::string_view text) {
  // Length-prefixed, so that no two different sequences of pieces give the same text.
  text_ += fmt::format("{}:{}:{}:{}\n", label.size(), label, text.size(), text);
}

void FingerprintBuilder::add_file(const fs::path& path) {
  std::error_code error;
  const fs::path absolute = fs::weakly_canonical(path, error);
  const std::string name = error ? path.string() : absolute.string();
  const auto size = fs::file_size(path, error);
  if (error) {
    add("file " + name, "missing");
    return;
  }
  const auto modified = fs::last_write_time(path, error);
  const auto nanoseconds =
      error ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
  add("file " + name, fmt::format("{} bytes, modified {}", size, nanoseconds));
}

std::string FingerprintBuilder::hex() const {
  // Two differently seeded 64-bit hashes: 128 bits, so that unrelated settings never collide in practice.
  return fmt::format("{:016x}{:016x}", stable_hash(text_), stable_hash("tailflow fingerprint\n" + text_));
}

fs::path stage_record_path(const fs::path& stage_dir) {
  return stage_dir / "stage.json";
}

std::optional<StageRecord> read_stage_record(const fs::path& stage_dir) {
  const fs::path path = stage_record_path(stage_dir);
  if (!fs::exists(path)) return std::nullopt;
  try {
    const JsonValue record = read_json_file(path);
    return StageRecord{record.at("fingerprint").as_string(), record.at("run").as_string()};
  } catch (const Error&) {
    return std::nullopt;  // a damaged record counts as none: the stage runs again
  }
}

std::string new_run_id(const std::string& fingerprint) {
  FingerprintBuilder builder;
  builder.add("fingerprint", fingerprint);
  builder.add("time", fmt::format("{}", std::chrono::system_clock::now().time_since_epoch().count()));
  builder.add("process", fmt::format("{}", ::getpid()));
  return builder.hex();
}

void write_stage_record(const fs::path& stage_dir, const JsonObject& record) {
  io::AtomicOutput output(stage_record_path(stage_dir));
  {
    std::ofstream out(output.temporary_path());
    out << record.dump() << "\n";
    if (!out) throw Error(fmt::format("cannot write '{}'", output.temporary_path().string()));
  }
  output.commit();
}

}  // namespace tailflow::jobs
