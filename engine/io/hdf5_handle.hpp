// RAII ownership of HDF5 identifiers, and the lock that serialises every HDF5 call.
//
// An HDF5 identifier (hid_t) must be closed with the H5*close function of its kind: H5Fclose for a file,
// H5Dclose for a dataset, and so on. Handle<Close> owns one identifier and closes it with the right function
// when it goes out of scope; it is move-only, like std::unique_ptr.
//
// Why a process-wide lock: the Debian parallel HDF5 build is not thread-safe (H5_HAVE_THREADSAFE is off).
// Under MPI every rank is its own process and the lock is never contended, but on the threads backend all
// ranks are threads of one process and would otherwise call into HDF5 at the same time. Every function of
// engine/io that calls HDF5 takes Hdf5Lock first; the lock is recursive so those functions can call each
// other. Never hold it across a collective call: a rank waiting in a barrier while holding it would stop the
// other ranks from reaching that barrier.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <utility>

namespace tailflow::io::hdf5 {

// The single mutex for all HDF5 calls of this process (see above).
std::recursive_mutex& library_mutex();

// Holds the HDF5 lock for its lifetime. The first lock in the process also turns off HDF5's automatic
// printing of its error stack: engine/io reports errors itself, as tailflow::Error messages.
class Hdf5Lock {
 public:
  Hdf5Lock();
  Hdf5Lock(const Hdf5Lock&) = delete;
  Hdf5Lock& operator=(const Hdf5Lock&) = delete;

 private:
  std::lock_guard<std::recursive_mutex> guard_;
};

using CloseFunction = herr_t (*)(hid_t);

template <CloseFunction Close>
class Handle {
 public:
  Handle() = default;
  // Takes ownership of `id` (a negative id, HDF5's failure value, means "nothing owned").
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }

  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, -1);
    }
    return *this;
  }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing (the caller closes, e.g. to check the status of H5Fclose).
  hid_t release() { return std::exchange(id_, -1); }

  // Closes the identifier now (errors while closing are ignored: there is nobody to report them to).
  void reset() {
    if (id_ >= 0) {
      Hdf5Lock lock;
      Close(id_);
      id_ = -1;
    }
  }

 private:
  hid_t id_ = -1;
};

using FileHandle = Handle<H5Fclose>;
using GroupHandle = Handle<H5Gclose>;
using DatasetHandle = Handle<H5Dclose>;
using DataspaceHandle = Handle<H5Sclose>;
using DatatypeHandle = Handle<H5Tclose>;
using PropertyListHandle = Handle<H5Pclose>;
using AttributeHandle = Handle<H5Aclose>;
// Any object opened with H5Oopen (group, dataset or named datatype).
using ObjectHandle = Handle<H5Oclose>;

}  // namespace tailflow::io::hdf5
