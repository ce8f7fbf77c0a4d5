// Fingerprints of `tailflow pipeline` stages and the record a finished stage leaves behind.
//
// A stage's fingerprint is a stable hash of its name, its effective options in a canonical order, the
// fingerprints its upstream stages recorded, and the path, size and modification time of the raw input files
// it reads. Because upstream fingerprints are part of it, a change anywhere reruns everything downstream.
//
// DIR/stage.json is written last (atomically) once the stage has succeeded: a stage whose record carries
// the fingerprint the pipeline computes now, and whose outputs exist, is up to date. The record also names
// the run that made the outputs (a fresh id per run): downstream stages chain that id, so a stage that
// reran for any reason (forced, outputs deleted) makes everything after it rerun too.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "engine/json_writer.hpp"

namespace tailflow::jobs {

class FingerprintBuilder {
 public:
  // Adds a labelled piece of text ("stage", "options", "upstream als", …).
  void add(std::string_view label, std::string_view text);
  // Adds a raw input file by path, size and modification time (not its bytes: inputs may be large). A
  // missing file adds "missing".
  void add_file(const std::filesystem::path& path);
  // 32 hex digits.
  std::string hex() const;

 private:
  std::string text_;
};

// The file a finished stage leaves in its directory.
std::filesystem::path stage_record_path(const std::filesystem::path& stage_dir);

struct StageRecord {
  std::string fingerprint;  // of the settings and inputs the outputs were made with
  std::string run;          // the id of the run that made them
};

// What DIR/stage.json says, or nothing when there is no readable record.
std::optional<StageRecord> read_stage_record(const std::filesystem::path& stage_dir);

// A new run id for a run with this fingerprint (unique per run).
std::string new_run_id(const std::string& fingerprint);

// Writes DIR/stage.json atomically (fsync, then rename); `record` must carry "fingerprint" and "run".
void write_stage_record(const std::filesystem::path& stage_dir, const JsonObject& record);

}  // namespace tailflow::jobs
