// Atomic output files: write under a temporary name, rename to the final name only when complete.
//
// A job that fails half-way must not leave a truncated file where a reader expects a complete one, and must
// not destroy the previous complete version. So every output (CSV or HDF5) is written to a temporary file
// in the same directory (rename is atomic only within one file system) and renamed over the final name by
// commit(), after its bytes are on disk (fsync). If commit() is never reached, for example because an
// exception unwinds the stack, the destructor removes the temporary and the old file stays untouched.
//
//   io::AtomicOutput output("out/items.csv");
//   {
//     std::ofstream csv(output.temporary_path());
//     csv << ...;
//   }                 // close the file before committing
//   output.commit();  // out/items.csv now holds the complete new file
//
// Temporary names are "<final name>.tmp-<pid>-<n>": next to the final file, unique per process and object,
// and never ending in the final extension (so "*.h5" globs do not pick them up).
#pragma once

#include <filesystem>
#include <span>

#include "engine/context.hpp"

namespace tailflow::io {

class AtomicOutput {
 public:
  // The parent directory of `final_path` must exist (Error otherwise). Nothing is created yet.
  explicit AtomicOutput(std::filesystem::path final_path);
  // Removes the temporary file if commit() did not happen.
  ~AtomicOutput();

  AtomicOutput(AtomicOutput&& other) noexcept;
  AtomicOutput& operator=(AtomicOutput&& other) noexcept;
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Where to write. Close the file before commit().
  const std::filesystem::path& temporary_path() const { return temporary_path_; }
  const std::filesystem::path& final_path() const { return final_path_; }
  bool committed() const { return committed_; }

  // Flushes the temporary to disk (fsync), renames it over the final path and syncs the directory. Throws
  // Error if the temporary was never written or a system call fails.
  void commit();
  // Removes the temporary now; the object is then done (commit() would throw).
  void discard();

  // The two halves of commit(), for commit_collectively().
  void sync_to_disk() const;
  void rename_into_place();

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temporary_path_;
  bool committed_ = false;
};

// Commits outputs written by several ranks, all or nothing. Collective: every rank passes its own outputs
// (possibly none); `root_output` (may be null, read on rank 0 only) is renamed last, after every rank has
// renamed its files, so a master file never appears before the files it refers to.
// If any rank's outputs cannot be synced (e.g. a disk is full), nothing is renamed and every rank throws a
// CollectiveError with the first failing rank's message; the destructors then remove the temporaries.
void commit_collectively(Context& ctx, std::span<AtomicOutput* const> rank_outputs,
                         AtomicOutput* root_output = nullptr);

// One file that all ranks write together (e.g. with MPI-IO, each rank its own byte range). Rank 0 picks the
// temporary name and shares it; commit() waits until every rank has finished writing, then rank 0 renames.
class SharedAtomicOutput {
 public:
  // Collective.
  SharedAtomicOutput(Context& ctx, std::filesystem::path final_path);
  // Rank 0 removes the temporary if commit() did not happen (no communication here).
  ~SharedAtomicOutput();
  SharedAtomicOutput(const SharedAtomicOutput&) = delete;
  SharedAtomicOutput& operator=(const SharedAtomicOutput&) = delete;

  const std::filesystem::path& temporary_path() const { return temporary_path_; }
  const std::filesystem::path& final_path() const { return final_path_; }

  // Collective: barrier, then rank 0 syncs and renames; every rank throws if rank 0 failed.
  void commit();

 private:
  Context& ctx_;
  std::filesystem::path final_path_;
  std::filesystem::path temporary_path_;
  bool committed_ = false;
};

}  // namespace tailflow::io
