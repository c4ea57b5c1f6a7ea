// fuzz/run_folder_fuzz.cpp — libFuzzer harness for loading a run folder: manifest.json (parsed alone, and verified
// against a real folder), model.json and dataset.json (loaded as load_recommender / load_dataset read them), and a
// model.json resealed into the manifest so it passes verification and reaches the full reader path. No crash, errors
// only as recsys::Error, and the folder is put back after each input.
//
// The first byte picks what the rest replaces: 0 manifest.json, 1 model.json, 2 dataset.json, 3 model.json resealed.
#include <recsys/rec/recommender.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "run_folder.hpp"

namespace {

namespace fs = std::filesystem;
using namespace recsys;

/// A small trained run, made once: popularity on six interactions, saved, with config.json, sealed.
const fs::path& run_dir() {
  static const fs::path dir = [] {
    // In memory where there is a /dev/shm: each input rewrites files and the resealing fsyncs.
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    const fs::path d = base / ("recsys_run_folder_fuzz." + std::to_string(::getpid()));
    fs::remove_all(d);
    std::vector<rec::Item> items(3);
    for (int i = 0; i < 3; ++i) items[static_cast<std::size_t>(i)].id = "m" + std::to_string(i), items[static_cast<std::size_t>(i)].title = "Film " + std::to_string(i);
    std::vector<rec::Interaction> rows;
    for (std::int64_t u = 0; u < 2; ++u)
      for (std::int64_t i = 0; i < 3; ++i) rows.push_back({u, i, 1.0 + static_cast<double>(u + i), u * 10 + i, ""});
    const rec::Dataset data({"u0", "u1"}, items, rows, 3.0);
    auto model = rec::make_recommender("popularity");
    model->fit(data);
    model->save(d.string());
    std::ofstream(d / "config.json") << "{\"format\": \"recsys-run\", \"model\": \"popularity\"}\n";
    json::Value identity = json::Value::object();
    identity["model"] = "popularity";
    cli::seal_run_folder(d, identity);
    static const fs::path to_remove = d;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(to_remove, ec);
    });
    return d;
  }();
  return dir;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_all(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary | std::ios::trunc) << s; }

/// Replaces one file of the run for the length of a scope, then puts the original back.
struct Swap {
  fs::path path;
  std::string original;
  Swap(const fs::path& p, const std::string& text) : path(p), original(read_all(p)) { write_all(p, text); }
  ~Swap() { write_all(path, original); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fs::path& dir = run_dir();
  const int mode = data[0] % 4;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {  // the manifest parser on its own, whatever the mode
    const cli::Manifest m = cli::Manifest::parse(text, "manifest.json");
    for (const cli::ManifestEntry& e : m.files)
      if (!cli::Manifest::safe_path(e.path) || e.sha256.size() != 64) std::abort();  // parse only accepts these
  } catch (const Error&) {
  }
  try {
    if (mode == 0) {
      const Swap s(dir / "manifest.json", text);
      cli::RunFolder::open(dir.string());
    } else if (mode == 1) {
      const Swap s(dir / "model.json", text);
      rec::load_recommender(dir.string());
    } else if (mode == 2) {
      const Swap s(dir / "dataset.json", text);
      rec::load_dataset(dir.string());
    } else {
      const Swap s(dir / "model.json", text);
      const Swap m(dir / "manifest.json", read_all(dir / "manifest.json"));
      json::Value identity = json::Value::object();
      identity["model"] = "popularity";
      cli::seal_run_folder(dir, identity);
      const cli::RunFolder run = cli::RunFolder::open(dir.string());
      const auto model = rec::load_recommender(run.model_dir().string());
      if (model->data().num_items() > 0) (void)model->score_all(0);
      run.check_unchanged();
    }
  } catch (const Error&) {
  }
  // Put back, the folder verifies again (a harness that damaged its own fixture would test nothing).
  if (!cli::manifest_verifies(dir)) std::abort();
  return 0;
}
