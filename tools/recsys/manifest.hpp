// tools/recsys/manifest.hpp — manifest.json, the seal of a run folder: every file's path, size and sha256 plus the
// run's identity (model kind, creation time, command, data fingerprint), written last; and its verification.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"
#include "recsys/io/sha256.hpp"

namespace recsys::cli {

/// One sealed file of a run folder.
struct ManifestEntry {
  std::string path;  ///< relative to the folder, '/'-separated ("config.json", "validation/held_out.csv")
  std::uint64_t size = 0;
  std::string sha256;
};

/// manifest.json: {"format": "recsys-run-manifest", "version": 1, "identity": {...}, "files": [...]}.
struct Manifest {
  static constexpr const char* file_name = "manifest.json";
  static constexpr const char* format = "recsys-run-manifest";

  json::Value identity = json::Value::object();  ///< "model", "created", "command", "data_fingerprint"
  std::vector<ManifestEntry> files;              ///< sorted by path, manifest.json itself excluded

  json::Value to_json() const {
    json::Value v = json::Value::object();
    v["format"] = format;
    v["version"] = 1;
    v["identity"] = identity;
    json::Value list = json::Value::array();
    for (const ManifestEntry& e : files) {
      json::Value f = json::Value::object();
      f["path"] = e.path;
      f["size"] = static_cast<unsigned long long>(e.size);
      f["sha256"] = e.sha256;
      list.push_back(std::move(f));
    }
    v["files"] = std::move(list);
    return v;
  }

  /// The identity's model kind ("" when absent).
  std::string model() const {
    const json::Value* m = identity.is_object() ? identity.find("model") : nullptr;
    return m && m->is_string() ? m->as_string() : "";
  }

  /// A path a manifest may list: relative, '/'-separated, no empty, "." or ".." parts, no control character or backslash.
  static bool safe_path(std::string_view p) {
    if (p.empty() || p.size() > 4096 || p.front() == '/' || p.back() == '/') return false;
    std::size_t start = 0;
    while (start <= p.size()) {
      const std::size_t end = std::min(p.find('/', start), p.size());
      const std::string_view part = p.substr(start, end - start);
      if (part.empty() || part == "." || part == "..") return false;
      start = end + 1;
    }
    for (const char c : p)
      if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return false;
    return true;
  }

  /// Parses manifest.json's text; `source` names the file in errors.
  static Manifest parse(std::string_view text, const std::string& source) {
    json::Value v;
    try {
      v = json::parse(text);
    } catch (const Error& e) {
      RECSYS_FAIL("'", source, "' is damaged: ", e.what());
    }
    const auto bad = [&](const std::string& why) -> Error {
      return Error("'" + source + "' is not a valid run manifest: " + why);
    };
    if (!v.is_object()) throw bad("not a JSON object");
    const json::Value* f = v.find("format");
    if (!f || !f->is_string() || f->as_string() != format) throw bad("no \"format\": \"recsys-run-manifest\"");
    const json::Value* ver = v.find("version");
    if (!ver || !ver->is_integer() || ver->as_int64() != 1) throw bad("\"version\" is not 1");
    Manifest m;
    const json::Value* id = v.find("identity");
    if (!id || !id->is_object()) throw bad("no \"identity\" object");
    m.identity = *id;
    const json::Value* list = v.find("files");
    if (!list || !list->is_array()) throw bad("no \"files\" array");
    std::set<std::string> seen;
    for (const json::Value& e : list->as_array()) {
      if (!e.is_object()) throw bad("a \"files\" entry is not an object");
      const json::Value* p = e.find("path");
      const json::Value* s = e.find("size");
      const json::Value* h = e.find("sha256");
      if (!p || !p->is_string() || !safe_path(p->as_string()))
        throw bad("a \"files\" entry has no safe relative \"path\"");
      const std::string& path = p->as_string();
      if (path == file_name) throw bad("it lists itself");
      if (!seen.insert(path).second) throw bad("it lists '" + path + "' twice");
      if (!s || !s->is_integer() || s->as_int64() < 0) throw bad("'" + path + "' has no non-negative integer \"size\"");
      if (!h || !h->is_string() || h->as_string().size() != 64 ||
          h->as_string().find_first_not_of("0123456789abcdef") != std::string::npos)
        throw bad("'" + path + "' has no \"sha256\" of 64 lowercase hex digits");
      m.files.push_back({path, static_cast<std::uint64_t>(s->as_int64()), h->as_string()});
    }
    return m;
  }

  const ManifestEntry* find(std::string_view path) const {
    for (const ManifestEntry& e : files)
      if (e.path == path) return &e;
    return nullptr;
  }
};

namespace manifest_detail {

/// Every regular file under `dir` (relative '/'-separated paths, sorted), manifest.json excluded.
/// Anything else (a symlink, a FIFO) is an error: a run folder holds plain files and folders only.
inline std::vector<std::string> files_under(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const fs::file_status st = it->symlink_status();
    const std::string rel = fs::relative(it->path(), dir).generic_string();
    if (fs::is_directory(st)) continue;
    RECSYS_CHECK(fs::is_regular_file(st), "'", it->path().string(), "' is not a plain file (a run folder holds only files)");
    if (rel != Manifest::file_name) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace manifest_detail

/// The manifest of the folder as it is now: every file hashed.
inline Manifest make_manifest(const std::filesystem::path& dir, json::Value identity) {
  Manifest m;
  m.identity = std::move(identity);
  for (const std::string& rel : manifest_detail::files_under(dir)) {
    const io::FileDigest d = io::sha256_file((dir / rel).string());
    m.files.push_back({rel, d.size, d.sha256});
  }
  return m;
}

/// Seals a folder: writes manifest.json (atomically) for its files as they are now. `recsys train` does it
/// last, in its staging folder; tests that assemble a run folder by hand call it too.
inline Manifest seal_run_folder(const std::filesystem::path& dir, json::Value identity) {
  Manifest m = make_manifest(dir, std::move(identity));
  io::write_file_atomic((dir / Manifest::file_name).string(), json::dump(m.to_json(), 2) + "\n");
  return m;
}

/// Files a reader of run folders opens by name: one of them present but not listed means the folder
/// mixes runs (a file left from another run), so it is refused. Other files are the user's and ignored.
inline bool read_by_recsys(const std::string& rel) {
  static const std::set<std::string> names = {
      "config.json",  "metrics.json",   "history.csv",     "curves.svg",   "model.safetensors", "model.json",
      "per_user.csv", "per_row.csv",    "held_out.csv",    "candidates.csv", "tuning.json",     "users.csv",
      "items.csv",    "interactions.csv", "dataset.json",  "profile.txt",  "profile.svg",       "profile.trace.json"};
  return names.count(rel) > 0 || rel.rfind("validation/", 0) == 0;
}

/// Checks `dir` against its manifest.json: every listed file present with its size and sha256, no
/// unlisted file that recsys reads, the identity's model kind that of config.json. Throws an Error that
/// names the offending file. Returns the manifest.
inline Manifest verify_manifest(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const std::string shown = dir.string();
  const fs::path mpath = dir / Manifest::file_name;
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(mpath, ec))) {
    RECSYS_CHECK(fs::exists(dir / "config.json", ec), "'", shown,
                 "' is not a run folder: it has no config.json (make one with recsys train --out DIR)");
    RECSYS_FAIL("'", shown, "' has no manifest.json: it was written by a recsys older than run manifests, or its ",
                "writing was interrupted; retrain it (recsys train ... --out ", shown, ")");
  }
  std::string text;
  {
    const std::uintmax_t size = fs::file_size(mpath, ec);
    RECSYS_CHECK(!ec && size <= (64u << 20), "'", mpath.string(), "' is ", ec ? std::string("unreadable") :
                 std::to_string(size) + " bytes: too large for a manifest");
    std::ifstream in(mpath, std::ios::binary);
    RECSYS_CHECK(in.good(), "cannot read '", mpath.string(), "'");
    std::ostringstream os;
    os << in.rdbuf();
    text = os.str();
  }
  const Manifest m = Manifest::parse(text, mpath.string());
  for (const char* required : {"config.json", "model.json", "model.safetensors"})
    RECSYS_CHECK(m.find(required), "'", mpath.string(), "' does not list ", required, " (not a complete run)");
  for (const ManifestEntry& e : m.files) {
    const fs::path p = dir / e.path;
    const fs::file_status st = fs::symlink_status(p, ec);
    RECSYS_CHECK(fs::exists(st), "'", p.string(), "' is missing (listed in ", Manifest::file_name,
                 "): the run folder is incomplete; retrain it");
    RECSYS_CHECK(fs::is_regular_file(st), "'", p.string(), "' is not a plain file (listed in ", Manifest::file_name, ")");
    const io::FileDigest d = io::sha256_file(p.string());
    RECSYS_CHECK(d.size == e.size, "'", p.string(), "' is ", d.size, " bytes, ", Manifest::file_name, " lists ", e.size,
                 ": the file is cut or from another run; retrain");
    RECSYS_CHECK(d.sha256 == e.sha256, "'", p.string(), "' does not match its sha256 in ", Manifest::file_name,
                 ": the file was changed or is from another run; retrain");
  }
  for (const std::string& rel : manifest_detail::files_under(dir))
    RECSYS_CHECK(m.find(rel) || !read_by_recsys(rel), "'", (dir / rel).string(), "' is not listed in ",
                 Manifest::file_name, ": the folder mixes files of two runs; retrain it");
  // The identity agrees with what the sealed config.json says was run.
  {
    json::Value config;
    try {
      std::ifstream in(dir / "config.json", std::ios::binary);
      std::ostringstream os;
      os << in.rdbuf();
      config = json::parse(os.str());
    } catch (const Error& e) {
      RECSYS_FAIL("'", (dir / "config.json").string(), "' is damaged: ", e.what());
    }
    const json::Value* model = config.is_object() ? config.find("model") : nullptr;
    RECSYS_CHECK(model && model->is_string() && model->as_string() == m.model(), "'", (dir / "config.json").string(),
                 "' names model '", model && model->is_string() ? model->as_string() : std::string("?"), "', ",
                 Manifest::file_name, " '", m.model(), "': a mixed folder; retrain it");
  }
  return m;
}

/// verify_manifest without the exception: whether `dir` is a complete, sealed run folder.
inline bool manifest_verifies(const std::filesystem::path& dir) {
  try {
    verify_manifest(dir);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace recsys::cli
