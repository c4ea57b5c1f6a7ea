// recsys/io/atomic_file.hpp — crash-safe file replacement: write a temporary file, fsync it, rename it over the target.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "recsys/core/error.hpp"

namespace recsys::io {

/// A file that appears at `path` only when commit() succeeds. Until then the data goes to
/// `path.tmp.<pid>`; commit() fsyncs it, renames it over `path` (atomic on POSIX file systems) and
/// fsyncs the directory so the rename itself survives a power cut. A reader therefore sees either
/// the old complete file or the new complete file, never a half-written one. If the object is
/// destroyed without commit() (an exception while writing), the temporary file is removed.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path)
      : path_(std::move(path)), tmp_path_(path_ + ".tmp." + std::to_string(::getpid())) {
    fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    RECSYS_CHECK(fd_ >= 0, "cannot create '", tmp_path_, "' to write '", path_, "': ", std::strerror(errno));
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_path_.c_str());
  }

  /// Appends bytes (retries short writes and EINTR).
  void write(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      RECSYS_CHECK(w > 0, "cannot write '", tmp_path_, "': ", w < 0 ? std::strerror(errno) : "no progress");
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }
  void write(std::string_view s) { write(s.data(), s.size()); }

  /// Makes the new contents durable and visible at path().
  void commit() {
    RECSYS_CHECK(::fsync(fd_) == 0, "cannot fsync '", tmp_path_, "': ", std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    RECSYS_CHECK(::close(fd) == 0, "cannot close '", tmp_path_, "': ", std::strerror(errno));
    RECSYS_CHECK(::rename(tmp_path_.c_str(), path_.c_str()) == 0, "cannot rename '", tmp_path_, "' to '", path_,
                 "': ", std::strerror(errno));
    committed_ = true;
    sync_directory();
  }

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return tmp_path_; }

 private:
  void sync_directory() const {
    std::string dir = std::filesystem::path(path_).parent_path().string();
    if (dir.empty()) dir = ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    RECSYS_CHECK(dfd >= 0, "cannot open directory '", dir, "' to fsync it: ", std::strerror(errno));
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    RECSYS_CHECK(rc == 0, "cannot fsync directory '", dir, "': ", std::strerror(err));
  }

  std::string path_;
  std::string tmp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Replaces `path` with `contents` atomically (see AtomicFile): for config.json, metrics.json and the like.
inline void write_file_atomic(const std::string& path, std::string_view contents) {
  AtomicFile file(path);
  file.write(contents);
  file.commit();
}

}  // namespace recsys::io
