// recsys/io/safetensors.hpp — weights in the safetensors format: a validated reader, an atomic writer, all-or-nothing load_into.
#pragma once

// File layout (https://github.com/huggingface/safetensors):
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   JSON object: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//             "__metadata__": {"key": "value", ...}}; may be padded with trailing spaces
//   the rest  the data section; offsets are relative to its start, and the tensors tile it exactly
//             (sorted by offset, each starts where the previous ended, the last ends at the end of the file)

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "recsys/core/tensor.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"

namespace recsys::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swapping");

/// Free-form string pairs stored under "__metadata__" (ordered, so files are written deterministically).
using Metadata = std::map<std::string, std::string>;

/// Everything a safetensors file holds.
struct SafetensorsFile {
  NamedTensors tensors;  // in the order the header lists them
  Metadata metadata;
};

/// What load_into tolerates. By default the file and the destination must hold exactly the same names.
struct LoadOptions {
  bool allow_missing = false;     // destination tensors absent from the file keep their values
  bool allow_unexpected = false;  // file tensors absent from the destination are ignored
};

/// What load_into did: the names it skipped (only non-empty when the options allowed it) and the file's metadata.
struct LoadResult {
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  Metadata metadata;
};

/// Headers above this size are refused before anything is allocated (the reference implementation's limit).
inline constexpr std::uint64_t kMaxSafetensorsHeader = 100ull << 20;

/// One tensor described by a validated header; offsets are relative to the data section.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::float32;
  Shape shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

/// A validated header: entries in header order, metadata, and where the data section starts in the file.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;
  Metadata metadata;
  std::uint64_t data_start = 0;
};

/// The file's dtype code for a recsys dtype.
inline const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::float32: return "F32";
    case DType::float64: return "F64";
    case DType::int32: return "I32";
    case DType::int64: return "I64";
  }
  return "?";
}

namespace detail {

/// Random access to the bytes of a file or of a memory buffer, with errors that name the source.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  /// Copies n bytes at `offset` (the caller has checked the range).
  virtual void read(std::uint64_t offset, void* dst, std::size_t n) const = 0;
  virtual const std::string& name() const = 0;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(std::span<const unsigned char> bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}
  std::uint64_t size() const override { return bytes_.size(); }
  void read(std::uint64_t offset, void* dst, std::size_t n) const override {
    if (n) std::memcpy(dst, bytes_.data() + offset, n);
  }
  const std::string& name() const override { return name_; }

 private:
  std::span<const unsigned char> bytes_;
  std::string name_;
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : name_("'" + path + "'") {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    RECSYS_CHECK(fd_ >= 0, "safetensors: cannot open ", name_, ": ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      RECSYS_FAIL("safetensors: ", name_, " is not a regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override { ::close(fd_); }

  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, void* dst, std::size_t n) const override {
    char* p = static_cast<char*>(dst);
    while (n > 0) {
      const ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      RECSYS_CHECK(r > 0, "safetensors: cannot read ", name_, " at byte ", offset, ": ",
                   r < 0 ? std::strerror(errno) : "the file shrank while being read");
      p += r;
      offset += static_cast<std::uint64_t>(r);
      n -= static_cast<std::size_t>(r);
    }
  }
  const std::string& name() const override { return name_; }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string name_;
};

inline std::optional<DType> dtype_from_code(std::string_view code) {
  if (code == "F32") return DType::float32;
  if (code == "F64") return DType::float64;
  if (code == "I32") return DType::int32;
  if (code == "I64") return DType::int64;
  return std::nullopt;
}

/// Validates one tensor's header entry against the data section size.
inline SafetensorsEntry parse_entry(const std::string& src, const std::string& name, const json::Value& v,
                                    std::uint64_t data_size) {
  const auto fail = [&](const auto&... what) { RECSYS_FAIL("safetensors: ", src, ": tensor '", name, "': ", what...); };
  if (name.empty()) RECSYS_FAIL("safetensors: ", src, ": a tensor has an empty name");
  if (!v.is_object()) fail("entry must be an object, got ", json::type_name(v.type()));
  for (const auto& [key, _] : v.as_object())
    if (key != "dtype" && key != "shape" && key != "data_offsets") fail("unexpected key '", key, "' in its entry");
  const json::Value* dtype = v.find("dtype");
  const json::Value* shape = v.find("shape");
  const json::Value* offsets = v.find("data_offsets");
  if (!dtype) fail("entry has no \"dtype\"");
  if (!shape) fail("entry has no \"shape\"");
  if (!offsets) fail("entry has no \"data_offsets\"");

  SafetensorsEntry e;
  e.name = name;
  if (!dtype->is_string()) fail("\"dtype\" must be a string, got ", json::type_name(dtype->type()));
  const std::optional<DType> dt = dtype_from_code(dtype->as_string());
  if (!dt) fail("dtype '", dtype->as_string(), "' is not supported (recsys reads F32, F64, I32 and I64)");
  e.dtype = *dt;

  if (!shape->is_array()) fail("\"shape\" must be an array, got ", json::type_name(shape->type()));
  if (shape->size() > static_cast<std::size_t>(Shape::kMaxDims))
    fail("shape has ", shape->size(), " dimensions; at most ", Shape::kMaxDims, " are supported");
  // The element count must be computed without overflow: track the product of the non-zero sizes.
  constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 60;
  std::uint64_t nonzero_product = 1;
  bool has_zero = false;
  for (const json::Value& d : shape->as_array()) {
    if (!d.is_integer() || d.as_double() < 0) fail("shape entries must be non-negative integers");
    const std::uint64_t s = d.as_uint64();
    if (s > kMaxElements) fail("shape is too large");
    e.shape.push_back(static_cast<std::int64_t>(s));
    if (s == 0) {
      has_zero = true;
    } else {
      if (nonzero_product > kMaxElements / s) fail("shape is too large");
      nonzero_product *= s;
    }
  }

  if (!offsets->is_array() || offsets->size() != 2)
    fail("\"data_offsets\" must be an array of two integers [begin, end]");
  const json::Value& b = offsets->at(std::size_t{0});
  const json::Value& en = offsets->at(std::size_t{1});
  if (!b.is_integer() || !en.is_integer() || b.as_double() < 0 || en.as_double() < 0)
    fail("\"data_offsets\" must be non-negative integers");
  e.begin = b.as_uint64();
  e.end = en.as_uint64();
  if (e.begin > e.end) fail("data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  if (e.end > data_size)
    fail("data_offsets [", e.begin, ", ", e.end, "] extend past the end of the data section (", data_size,
         " bytes)");
  const std::uint64_t expected = has_zero ? 0 : nonzero_product * itemsize(e.dtype);
  if (e.end - e.begin != expected)
    fail("data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin, " bytes but ", dtype->as_string(),
         " shape ", e.shape, " needs ", expected);
  return e;
}

/// Checks that the entries tile [0, data_size) exactly: no overlap, no gap, nothing left over.
inline void check_tiling(const std::string& src, const std::vector<SafetensorsEntry>& entries,
                         std::uint64_t data_size) {
  std::vector<const SafetensorsEntry*> order;
  order.reserve(entries.size());
  for (const auto& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t at = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry* e : order) {
    if (e->begin < at)
      RECSYS_FAIL("safetensors: ", src, ": tensor '", e->name, "': data_offsets [", e->begin, ", ", e->end,
                  "] overlap tensor '", previous->name, "' [", previous->begin, ", ", previous->end, "]");
    if (e->begin > at)
      RECSYS_FAIL("safetensors: ", src, ": tensor '", e->name, "': data_offsets [", e->begin, ", ", e->end,
                  "] leave a gap of ", e->begin - at, " bytes before it");
    at = e->end;
    previous = e;
  }
  if (at != data_size)
    RECSYS_FAIL("safetensors: ", src, ": the data section has ", data_size - at,
                " bytes after the last tensor that no tensor uses (", data_size, " bytes in all)");
}

/// Reads and validates the header: length bounds, JSON, every entry, metadata, and the tiling of the data.
inline SafetensorsHeader read_header(const ByteSource& in) {
  const std::string& src = in.name();
  const std::uint64_t file_size = in.size();
  RECSYS_CHECK(file_size >= 8, "safetensors: ", src, ": file is truncated (", file_size,
               " bytes; the 8-byte header length alone needs 8)");
  unsigned char len_bytes[8];
  in.read(0, len_bytes, 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  RECSYS_CHECK(n <= kMaxSafetensorsHeader, "safetensors: ", src, ": header length ", n, " exceeds the limit of ",
               kMaxSafetensorsHeader, " bytes");
  RECSYS_CHECK(n <= file_size - 8, "safetensors: ", src, ": header length ", n,
               " extends past the end of the file (", file_size, " bytes): the file is truncated or not safetensors");
  std::string text(static_cast<std::size_t>(n), '\0');
  in.read(8, text.data(), text.size());

  json::Value header;
  try {
    header = json::parse(text);
  } catch (const Error& e) {
    RECSYS_FAIL("safetensors: ", src, ": header is not valid JSON: ", e.what());
  }
  RECSYS_CHECK(header.is_object(), "safetensors: ", src, ": header must be a JSON object, got ",
               json::type_name(header.type()));

  SafetensorsHeader out;
  out.data_start = 8 + n;
  const std::uint64_t data_size = file_size - out.data_start;
  for (const auto& [key, value] : header.as_object()) {
    if (key == "__metadata__") {
      RECSYS_CHECK(value.is_object(), "safetensors: ", src, ": __metadata__ must be an object, got ",
                   json::type_name(value.type()));
      for (const auto& [mk, mv] : value.as_object()) {
        RECSYS_CHECK(mv.is_string(), "safetensors: ", src, ": __metadata__ value for '", mk,
                     "' must be a string, got ", json::type_name(mv.type()));
        out.metadata.emplace(mk, mv.as_string());
      }
      continue;
    }
    out.entries.push_back(parse_entry(src, key, value, data_size));
  }
  check_tiling(src, out.entries, data_size);
  return out;
}

/// A fresh CPU tensor holding entry `e`'s bytes.
inline Tensor read_entry(const ByteSource& in, const SafetensorsHeader& h, const SafetensorsEntry& e) {
  Tensor t = Tensor::empty(e.shape, {e.dtype, Device::cpu()});
  in.read(h.data_start + e.begin, t.raw_data(), static_cast<std::size_t>(e.end - e.begin));
  return t;
}

inline SafetensorsFile read_all(const ByteSource& in) {
  const SafetensorsHeader h = read_header(in);
  SafetensorsFile out;
  out.metadata = h.metadata;
  out.tensors.reserve(h.entries.size());
  for (const SafetensorsEntry& e : h.entries) out.tensors.emplace_back(e.name, read_entry(in, h, e));
  return out;
}

/// A validated load: the file's data for each destination tensor, read into fresh tensors, not yet copied.
struct LoadPlan {
  LoadResult result;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, staged data)

  /// Copies the staged data into the destination tensors.
  void commit() const {
    NoGradGuard no_grad;
    for (const auto& [dst, staged] : copies) dst.copy_(staged);
  }
};

/// Matches `destination` against the header by name, checks dtypes, shapes, missing and unexpected
/// names, and reads the data — everything that can fail — without writing to any destination tensor.
inline LoadPlan prepare_load(const ByteSource& in, const SafetensorsHeader& h, const NamedTensors& destination,
                             const LoadOptions& options) {
  const std::string& src = in.name();
  std::unordered_map<std::string_view, const SafetensorsEntry*> in_file;
  for (const auto& e : h.entries) in_file.emplace(e.name, &e);

  LoadPlan plan;
  LoadResult& result = plan.result;
  result.metadata = h.metadata;
  std::unordered_map<std::string_view, const Tensor*> wanted;
  std::vector<std::pair<const SafetensorsEntry*, const Tensor*>> matches;
  for (const auto& [name, t] : destination) {
    RECSYS_CHECK(t.defined(), "safetensors: load into ", src, ": destination tensor '", name, "' is undefined");
    RECSYS_CHECK(wanted.emplace(name, &t).second, "safetensors: load into ", src, ": the destination names '", name,
                 "' twice");
    const auto it = in_file.find(name);
    if (it == in_file.end()) {
      result.missing.push_back(name);
      continue;
    }
    const SafetensorsEntry& e = *it->second;
    RECSYS_CHECK(e.dtype == t.dtype(), "safetensors: ", src, ": tensor '", name, "': dtype ",
                 safetensors_dtype(e.dtype), " (", e.dtype, ") in the file but ", t.dtype(), " in the destination");
    RECSYS_CHECK(e.shape == t.shape(), "safetensors: ", src, ": tensor '", name, "': shape ", e.shape,
                 " in the file but ", t.shape(), " in the destination");
    matches.emplace_back(&e, &t);
  }
  for (const auto& e : h.entries)
    if (!wanted.count(e.name)) result.unexpected.push_back(e.name);
  const auto list = [](const std::vector<std::string>& names) {
    std::string s;
    for (std::size_t i = 0; i < names.size() && i < 10; ++i) s += (i ? ", '" : "'") + names[i] + "'";
    if (names.size() > 10) s += ", ... (" + std::to_string(names.size()) + " in all)";
    return s;
  };
  RECSYS_CHECK(options.allow_missing || result.missing.empty(), "safetensors: ", src, ": missing tensor",
               result.missing.size() > 1 ? "s " : " ", list(result.missing),
               " (in the destination, not in the file; LoadOptions::allow_missing skips them)");
  RECSYS_CHECK(options.allow_unexpected || result.unexpected.empty(), "safetensors: ", src, ": unexpected tensor",
               result.unexpected.size() > 1 ? "s " : " ", list(result.unexpected),
               " (in the file, not in the destination; LoadOptions::allow_unexpected ignores them)");

  // Read everything into fresh tensors first: a read error must not leave the destination half-loaded.
  plan.copies.reserve(matches.size());
  for (const auto& [e, t] : matches) plan.copies.emplace_back(*t, read_entry(in, h, *e));
  return plan;
}

inline LoadResult load_into(const ByteSource& in, const NamedTensors& destination, const LoadOptions& options) {
  const LoadPlan plan = prepare_load(in, read_header(in), destination, options);
  plan.commit();
  return plan.result;
}

/// Builds the header text (padded with spaces to a multiple of 8, so the data section is 8-byte aligned).
inline std::string build_header(const NamedTensors& tensors, const Metadata& metadata, const std::string& dst) {
  json::Value header = json::Value::object();
  if (!metadata.empty()) {
    json::Value m = json::Value::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::uint64_t offset = 0;
  std::unordered_map<std::string_view, int> seen;
  for (const auto& [name, t] : tensors) {
    RECSYS_CHECK(!name.empty(), "safetensors: writing ", dst, ": a tensor has an empty name");
    RECSYS_CHECK(name != "__metadata__", "safetensors: writing ", dst, ": '__metadata__' is reserved, not a tensor name");
    RECSYS_CHECK(seen.emplace(name, 0).second, "safetensors: writing ", dst, ": two tensors are named '", name, "'");
    RECSYS_CHECK(t.defined(), "safetensors: writing ", dst, ": tensor '", name, "' is undefined");
    json::Value entry = json::Value::object();
    entry["dtype"] = safetensors_dtype(t.dtype());
    json::Value shape = json::Value::array();
    for (std::int64_t d : t.shape()) shape.push_back(d);
    entry["shape"] = std::move(shape);
    entry["data_offsets"] = json::Array{offset, offset + t.nbytes()};
    offset += t.nbytes();
    header.as_object().emplace_back(name, std::move(entry));  // names are known unique: skip operator[]'s search
  }
  std::string text = json::dump(header);
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

/// Calls sink(bytes, n) for the whole file: length, header, then each tensor's data (contiguous, on the host).
template <class Sink>
void write_safetensors(const NamedTensors& tensors, const std::string& header, Sink&& sink) {
  unsigned char len[8];
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) len[i] = static_cast<unsigned char>(n & 0xFF);
  sink(len, 8);
  sink(header.data(), header.size());
  NoGradGuard no_grad;
  for (const auto& [name, t] : tensors) {
    const Tensor host = t.to(Device::cpu()).contiguous();
    sink(host.raw_data(), host.nbytes());
  }
}

}  // namespace detail

/// Reads every tensor and the metadata of a safetensors file, after validating the whole header
/// (length bounds, JSON, dtypes, shapes, offsets inside the file, no overlaps or gaps). Throws
/// recsys::Error naming the file and the tensor on any problem.
inline SafetensorsFile read_safetensors(const std::string& path) { return detail::read_all(detail::FileSource(path)); }

/// The tensors of a safetensors file as fresh CPU tensors, in header order (see read_safetensors).
inline NamedTensors load_safetensors(const std::string& path) { return read_safetensors(path).tensors; }

/// The same as read_safetensors, from bytes in memory; `name` stands for the file in error messages.
inline SafetensorsFile read_safetensors_bytes(std::span<const unsigned char> bytes, std::string name = "<memory>") {
  return detail::read_all(detail::MemorySource(bytes, std::move(name)));
}

/// Copies the file's tensors into `destination` (matched by name; dtype and shape must be equal).
/// All or nothing: the header, every match and every byte are checked and read before the first
/// destination tensor is written, so a failed load leaves the destination unchanged.
inline LoadResult load_into(const std::string& path, const NamedTensors& destination, const LoadOptions& options = {}) {
  return detail::load_into(detail::FileSource(path), destination, options);
}

/// load_into from bytes in memory.
inline LoadResult load_into_bytes(std::span<const unsigned char> bytes, const NamedTensors& destination,
                                  const LoadOptions& options = {}, std::string name = "<memory>") {
  return detail::load_into(detail::MemorySource(bytes, std::move(name)), destination, options);
}

/// Writes `tensors` (any device, any layout) and `metadata` to `path` atomically: the old file, if
/// any, stays in place until the new one is complete and synced (see AtomicFile).
inline void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {}) {
  const std::string header = detail::build_header(tensors, metadata, "'" + path + "'");  // validates before creating a file
  AtomicFile file(path);
  detail::write_safetensors(tensors, header, [&](const void* p, std::size_t n) { file.write(p, n); });
  file.commit();
}

/// The bytes of a safetensors file holding `tensors` and `metadata`.
inline std::string safetensors_bytes(const NamedTensors& tensors, const Metadata& metadata = {}) {
  std::string out;
  detail::write_safetensors(tensors, detail::build_header(tensors, metadata, "<memory>"),
                            [&](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); });
  return out;
}

}  // namespace recsys::io
