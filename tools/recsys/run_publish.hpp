// tools/recsys/run_publish.hpp — how `recsys train` makes a run folder appear as one unit: a lock, a staging folder
// beside it, every file fsynced, manifest.json last, then a swap by rename; recovery and cleanup after a crash.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/interrupt.hpp"
#include "recsys/io/atomic_file.hpp"

#include "args.hpp"
#include "manifest.hpp"
#include "run_folder.hpp"
#include "stage.hpp"

// What a reader of DIR sees, at every instant of `recsys train --out DIR` (PARENT/NAME; siblings as in
// RunSiblings, PID the writer's):
//
//   1. lock      PARENT/.NAME.lock is flock()ed (a second train into DIR fails naming this pid). Under the
//                lock, leftovers of dead writers are handled: if DIR is missing and a .NAME.tmp.* or
//                .NAME.old.* folder verifies, it is renamed to DIR (recovery); every other .NAME.tmp.* /
//                .NAME.old.* is deleted (only the lock holder writes them, so under the lock all are stale).
//                Readers: DIR, the previous run, unchanged.
//   2. write     every file goes into PARENT/.NAME.tmp.PID; DIR is never written. Readers: the previous run.
//   3. seal      each file and folder of the staging folder is fsynced, then manifest.json is written
//                (atomically, fsynced) — from here the staging folder verifies. Readers: the previous run.
//   4. swap      renameat2(RENAME_EXCHANGE) swaps DIR and the staging folder in one step: readers see the
//                previous run, then the new one, never neither. Where the file system lacks RENAME_EXCHANGE
//                (or RECSYS_NO_RENAME_EXCHANGE is set), two renames: DIR -> .NAME.old.PID, then
//                .NAME.tmp.PID -> DIR. Between them DIR is missing: a reader (RunFolder::open) then reads
//                the verifying .NAME.tmp.PID (else .NAME.old.PID) and says so; if the writer dies there,
//                the next train restores it at step 1. With no previous run, one rename publishes DIR.
//   5. drop      the previous run (now at .NAME.tmp.PID or .NAME.old.PID) is deleted, manifest.json first,
//                and the lock file is removed. Readers: the new run.
//
// A reader verifies the whole folder against manifest.json before it reads (so a folder whose writer
// died, a cut file or a file from another run is refused, naming the file) and checks afterwards that
// DIR is still the folder it verified (RunFolder::check_unchanged). A folder written by the old
// file-by-file writer has no manifest and is refused with "retrain it".
//
// Fault injection, for the crash tests: RECSYS_FAULT_AFTER_WRITES=N kills the process (SIGKILL) right after
// its N-th file-system step of the above (lock, cleanup, each file written, each fsync, the manifest,
// each rename, each deletion); RECSYS_FAULT_STOP_AFTER_WRITES=N stops it (SIGSTOP) there instead, holding
// the lock; RECSYS_FAULT_LOG=1 prints every step to stderr as "fault point N: what".

namespace recsys::cli {

namespace publish_detail {

inline long env_number(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : 0;
}

/// One file-system step done: counted, logged, and where the fault variables say so, the process dies here.
inline void fault_point(const std::string& what) {
  static long count = 0;
  static const long kill_at = env_number("RECSYS_FAULT_AFTER_WRITES");
  static const long stop_at = env_number("RECSYS_FAULT_STOP_AFTER_WRITES");
  static const bool log = env_number("RECSYS_FAULT_LOG") != 0;
  ++count;
  if (log) std::fprintf(stderr, "fault point %ld: %s\n", count, what.c_str());
  if (count == kill_at || count == stop_at) {
    std::fprintf(stderr, "recsys: fault injection: %s after step %ld (%s)\n", count == kill_at ? "killed" : "stopped",
                 count, what.c_str());
    std::fflush(stderr);
    ::raise(count == kill_at ? SIGKILL : SIGSTOP);
  }
}

inline std::string errno_text() { return std::strerror(errno); }

inline void fsync_path(const std::filesystem::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  RECSYS_CHECK(fd >= 0, "cannot open '", p.string(), "' to fsync it: ", errno_text());
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  RECSYS_CHECK(rc == 0, "cannot fsync '", p.string(), "': ", std::strerror(err));
}

/// Deletes a folder tree, manifest.json first (so a half-deleted run never verifies), one fault point per entry.
inline void remove_tree(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) {
    fs::remove(dir, ec);
    return;
  }
  if (fs::remove(dir / Manifest::file_name, ec)) fault_point("remove " + (dir / Manifest::file_name).string());
  std::vector<fs::path> files, dirs;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    (it->is_directory(ec) && !it->is_symlink(ec) ? dirs : files).push_back(it->path());
  for (const fs::path& f : files) {
    fs::remove(f, ec);
    fault_point("remove " + f.string());
  }
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) { return a.string() > b.string(); });
  for (const fs::path& d : dirs) fs::remove(d, ec);
  fs::remove_all(dir, ec);
  fault_point("remove " + dir.string());
}

/// rename(2) with the error naming both paths.
inline void rename_path(const std::filesystem::path& from, const std::filesystem::path& to) {
  RECSYS_CHECK(::rename(from.c_str(), to.c_str()) == 0, "cannot rename '", from.string(), "' to '", to.string(),
               "': ", errno_text());
  fault_point("rename " + from.string() + " -> " + to.string());
}

/// Swaps two existing paths in one step; false where the system or file system cannot.
inline bool exchange_paths(const std::filesystem::path& a, const std::filesystem::path& b) {
#if defined(__linux__) && defined(RENAME_EXCHANGE)
  if (std::getenv("RECSYS_NO_RENAME_EXCHANGE") != nullptr) return false;
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) {
    fault_point("exchange " + a.string() + " <-> " + b.string());
    return true;
  }
  RECSYS_CHECK(errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP, "cannot swap '", a.string(), "' and '",
               b.string(), "': ", errno_text());
#else
  (void)a;
  (void)b;
#endif
  return false;
}

}  // namespace publish_detail

/// The exclusive right to write one run folder: PARENT/.NAME.lock, flock()ed and holding the pid. The
/// kernel drops a flock when its holder dies, so a lock file left by a killed train is simply taken over.
class RunLock {
 public:
  /// Takes the lock or throws: UsageError (exit 2) when the lock file cannot be made (the parent is not
  /// writable), Error (exit 1) naming the holder's pid when another process holds it.
  explicit RunLock(const RunSiblings& where) : path_(where.lock()) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ < 0)
        throw UsageError("--out: cannot create the lock file '" + path_.string() + "': " + publish_detail::errno_text() +
                         " (is the folder writable?)");
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        std::string holder = read_holder();
        ::close(fd_);
        fd_ = -1;
        RECSYS_CHECK(err == EWOULDBLOCK, "cannot lock '", path_.string(), "': ", std::strerror(err));
        RECSYS_FAIL("another recsys train (pid ", holder.empty() ? std::string("unknown") : holder, ") is writing '",
                    where.dir().string(), "' (lock file '", path_.string(), "'); wait for it or choose another --out");
      }
      // The file may have been unlinked by its previous holder between our open and flock: then the lock
      // protects nothing, so start again on the file now at the path.
      struct stat a{}, b{};
      if (::fstat(fd_, &a) == 0 && ::stat(path_.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        const std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
          RECSYS_FAIL("cannot write the lock file '", path_.string(), "': ", publish_detail::errno_text());
        publish_detail::fault_point("lock " + path_.string());
        return;
      }
      ::close(fd_);
      fd_ = -1;
    }
    RECSYS_FAIL("cannot lock '", path_.string(), "': it keeps being replaced");
  }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // while still holding it: a waiter that opened the old file notices and retries
    ::close(fd_);
  }

 private:
  std::string read_holder() const {
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s.find_first_not_of("0123456789") == std::string::npos ? s : "";
  }

  std::filesystem::path path_;
  int fd_ = -1;
};

/// Checks --out before any data is read: not a file, parent present or creatable and writable, and DIR
/// either absent, empty, or a run folder (train replaces DIR whole, so it must not hold anything else).
/// Throws UsageError (exit 2).
inline RunSiblings check_out_folder(const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (out.empty()) throw UsageError("--out needs a folder name");
  const RunSiblings where = RunSiblings::of(out);
  if (where.name.empty() || where.name == "." || where.name == "..")
    throw UsageError("--out '" + out + "' is not a folder train can replace; name a run folder such as runs/mf");
  const fs::path dir = where.dir();
  const fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) throw UsageError("--out '" + out + "' is a file, not a run folder");
    const bool empty = fs::is_empty(dir, ec);
    if (!empty && !fs::exists(dir / Manifest::file_name, ec) && !fs::exists(dir / "config.json", ec))
      throw UsageError("--out '" + out + "' is a folder that is not a run folder (no manifest.json or config.json); "
                       "train replaces its --out whole, so name a new folder or an earlier run");
  }
  for (fs::path p = where.parent; !p.empty(); p = p.parent_path()) {  // the first existing ancestor must be a folder
    const fs::file_status s = fs::status(p, ec);
    if (fs::exists(s)) {
      if (!fs::is_directory(s)) throw UsageError("--out '" + out + "': '" + p.string() + "' is a file, not a folder");
      break;
    }
    if (p == p.parent_path()) break;
  }
  fs::create_directories(where.parent, ec);
  if (ec) throw UsageError("--out '" + out + "': cannot create '" + where.parent.string() + "': " + ec.message());
  if (::access(where.parent.c_str(), W_OK | X_OK) != 0)
    throw UsageError("--out '" + out + "': the folder '" + where.parent.string() + "' is not writable (" +
                     publish_detail::errno_text() + ")");
  return where;
}

/// One run being written: construct it (lock, recovery, cleanup, a fresh staging folder), write every file
/// into staging(), then publish(). Destroyed without publish() (an error while writing), it deletes the
/// staging folder and leaves DIR as it was.
class RunPublisher {
 public:
  explicit RunPublisher(const RunSiblings& where) : where_(where), lock_(where) {
    namespace fs = std::filesystem;
    std::error_code ec;
    // Leftovers of dead writers (we hold the lock, so no live writer owns any).
    if (!fs::exists(fs::symlink_status(where_.dir(), ec))) {
      if (const auto found = where_.recoverable()) {
        std::fprintf(stderr, "note: restoring '%s' from '%s', left complete by a stopped recsys train\n",
                     where_.dir().string().c_str(), found->string().c_str());
        publish_detail::rename_path(*found, where_.dir());
        publish_detail::fsync_path(where_.parent, true);
      }
    }
    for (const RunSiblings::Temporary& t : where_.temporaries()) publish_detail::remove_tree(t.path);
    staging_ = where_.staging(::getpid());
    fs::create_directory(staging_, ec);
    RECSYS_CHECK(!ec, "cannot create '", staging_.string(), "': ", ec.message());
    publish_detail::fault_point("mkdir " + staging_.string());
  }
  RunPublisher(const RunPublisher&) = delete;
  RunPublisher& operator=(const RunPublisher&) = delete;
  ~RunPublisher() {
    if (published_) return;
    try {
      publish_detail::remove_tree(staging_);
    } catch (...) {  // best effort: the next train removes what is left
    }
  }

  /// Where this run's files are written.
  const std::filesystem::path& staging() const { return staging_; }

  /// After a file (or a group of files) is written into staging(): a fault point.
  void wrote(const std::string& what) const { publish_detail::fault_point("write " + what); }

  /// Seals the staging folder (fsync every file and folder, then manifest.json) and swaps it in as DIR.
  void publish(const json::Value& identity) {
    namespace fs = std::filesystem;
    using namespace publish_detail;
    // A stop asked for while the files were written: nothing is swapped in (the destructor removes the
    // staging folder and the lock). Past this point the swap is finished first; the caller reports it.
    if (interrupted())
      throw Interrupted("interrupted before '" + where_.dir().string() + "' was replaced", interrupt_signal());
    const Stage stage("writing the run folder '" + where_.dir().string() + "'");
    std::vector<fs::path> dirs{staging_};
    for (const std::string& rel : manifest_detail::files_under(staging_)) {
      fsync_path(staging_ / rel, false);
      fault_point("fsync " + rel);
    }
    for (auto it = fs::recursive_directory_iterator(staging_); it != fs::recursive_directory_iterator(); ++it)
      if (it->is_directory()) dirs.push_back(it->path());
    for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) {
      fsync_path(*d, true);
      fault_point("fsync folder " + d->string());
    }
    seal_run_folder(staging_, identity);
    fault_point("write manifest.json");

    const fs::path dir = where_.dir();
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(dir, ec))) {
      rename_path(staging_, dir);
      published_ = true;
      fsync_path(where_.parent, true);
      fault_point("fsync folder " + where_.parent.string());
      return;
    }
    fs::path previous;
    if (exchange_paths(staging_, dir)) {
      previous = staging_;  // the previous run now sits at the staging path
      published_ = true;
    } else {
      previous = where_.aside(::getpid());
      rename_path(dir, previous);
      try {
        rename_path(staging_, dir);
      } catch (...) {
        ::rename(previous.c_str(), dir.c_str());  // put the previous run back before reporting the error
        throw;
      }
      published_ = true;
    }
    fsync_path(where_.parent, true);
    fault_point("fsync folder " + where_.parent.string());
    remove_tree(previous);
  }

 private:
  RunSiblings where_;
  RunLock lock_;
  std::filesystem::path staging_;
  bool published_ = false;
};

}  // namespace recsys::cli
