// tests/tools/run_folder_test.cpp — run folders as one unit, in-process: the manifest (made, verified, refused with the
// file named), the sibling names and their recovery, the writer's lock, publishing over a previous run.
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "run_publish.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace recsys::cli;

namespace {

struct RunScratch {
  fs::path dir;
  explicit RunScratch(const std::string& name)
      : dir(fs::temp_directory_path() / ("recsys_run_folder_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~RunScratch() { fs::remove_all(dir); }
};

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

/// The files a run folder must have, with `model` as its kind.
void fill_run(const fs::path& dir, const std::string& model, const std::string& weights = "weights") {
  put(dir / "config.json", "{\"model\": \"" + model + "\"}\n");
  put(dir / "model.json", "{\"format\": \"recsys-recommender\", \"model\": \"" + model + "\"}\n");
  put(dir / "model.safetensors", weights);
  put(dir / "validation" / "held_out.csv", "user_id,item_id\n1,2\n");
}

recsys::json::Value identity(const std::string& model) {
  recsys::json::Value v = recsys::json::Value::object();
  v["model"] = model;
  return v;
}

void seal(const fs::path& dir, const std::string& model) {
  const Manifest m = make_manifest(dir, identity(model));
  put(dir / Manifest::file_name, recsys::json::dump(m.to_json(), 2));
}

}  // namespace

TEST_CASE("tools run folder: a sealed folder verifies, and each kind of damage is refused naming the file") {
  RunScratch s("manifest");
  const fs::path run = s.dir / "run";
  fill_run(run, "mf");
  seal(run, "mf");
  const Manifest m = verify_manifest(run);
  CHECK(m.model() == "mf");
  REQUIRE(m.files.size() == 4);
  CHECK(m.files[0].path == "config.json");
  CHECK(m.files[3].path == "validation/held_out.csv");
  CHECK(m.find("model.safetensors")->size == 7);
  CHECK(m.find("model.safetensors")->sha256 == recsys::io::sha256_hex("weights"));
  CHECK(manifest_verifies(run));

  // the user's own files are ignored; unlisted files recsys reads are a mixed folder
  put(run / "notes.txt", "mine");
  CHECK(manifest_verifies(run));
  put(run / "held_out.csv", "user_id,item_id\n");
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("held_out.csv' is not listed in manifest.json"), recsys::Error);
  fs::remove(run / "held_out.csv");
  put(run / "validation" / "extra.csv", "x");
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("extra.csv' is not listed"), recsys::Error);
  fs::remove(run / "validation" / "extra.csv");

  put(run / "model.safetensors", "weight");  // cut
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("model.safetensors' is 6 bytes, manifest.json lists 7"),
                       recsys::Error);
  put(run / "model.safetensors", "WEIGHTS");  // same size, other bytes
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("model.safetensors' does not match its sha256"),
                       recsys::Error);
  fs::remove(run / "model.safetensors");
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("model.safetensors' is missing (listed in manifest.json)"),
                       recsys::Error);
  put(run / "model.safetensors", "weights");
  CHECK(manifest_verifies(run));

  // an identity that disagrees with config.json: a mixed folder
  seal(run, "popularity");
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("names model 'mf', manifest.json 'popularity'"),
                       recsys::Error);
  // no manifest: an old or interrupted folder; no config.json either: not a run folder
  fs::remove(run / Manifest::file_name);
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("has no manifest.json"), recsys::Error);
  fs::remove(run / "config.json");
  CHECK_THROWS_WITH_AS(verify_manifest(run), doctest::Contains("is not a run folder: it has no config.json"),
                       recsys::Error);
}

TEST_CASE("tools run folder: manifest.json itself is checked field by field") {
  const auto refused = [](const std::string& text) {
    try {
      Manifest::parse(text, "m.json");
    } catch (const recsys::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string head = R"({"format": "recsys-run-manifest", "version": 1, "identity": {"model": "mf"}, "files": )";
  const std::string sha(64, 'a');
  CHECK(refused(head + "[]}") == "accepted");
  CHECK(refused(head + R"([{"path": "a/b.csv", "size": 3, "sha256": ")" + sha + "\"}]}") == "accepted");
  CHECK(refused("{") .find("'m.json' is damaged") != std::string::npos);
  CHECK(refused("[]").find("not a JSON object") != std::string::npos);
  CHECK(refused(R"({"format": "x"})").find("no \"format\"") != std::string::npos);
  CHECK(refused(R"({"format": "recsys-run-manifest", "version": 2})").find("\"version\" is not 1") != std::string::npos);
  for (const char* path : {"../x", "/etc/passwd", "a//b", "a/./b", "", "a/", "a\\\\b", "a\\bc", "."})
    CHECK_MESSAGE(refused(head + "[{\"path\": \"" + path + "\", \"size\": 1, \"sha256\": \"" + sha + "\"}]}")
                          .find("no safe relative") != std::string::npos,
                  path);
  CHECK(refused(head + R"([{"path": "manifest.json", "size": 1, "sha256": ")" + sha + "\"}]}").find("lists itself") !=
        std::string::npos);
  CHECK(refused(head + R"([{"path": "a", "size": 1, "sha256": ")" + sha + R"("}, {"path": "a", "size": 1, "sha256": ")" +
                sha + "\"}]}")
            .find("lists 'a' twice") != std::string::npos);
  CHECK(refused(head + R"([{"path": "a", "size": -1, "sha256": ")" + sha + "\"}]}").find("non-negative integer") !=
        std::string::npos);
  CHECK(refused(head + R"([{"path": "a", "size": 1.5, "sha256": ")" + sha + "\"}]}").find("non-negative integer") !=
        std::string::npos);
  CHECK(refused(head + R"([{"path": "a", "size": 1, "sha256": "ABC"}]})").find("64 lowercase hex") != std::string::npos);
  CHECK(refused(head + R"([{"path": "a", "size": 1, "sha256": ")" + std::string(64, 'A') + "\"}]}")
            .find("64 lowercase hex") != std::string::npos);
}

TEST_CASE("tools run folder: sibling names and which leftover a reader may use") {
  const RunSiblings a = RunSiblings::of("runs/mf/");
  CHECK(a.parent == fs::path("runs"));
  CHECK(a.name == "mf");
  CHECK(a.staging(12) == fs::path("runs/.mf.tmp.12"));
  CHECK(a.aside(12) == fs::path("runs/.mf.old.12"));
  CHECK(a.lock() == fs::path("runs/.mf.lock"));
  CHECK(RunSiblings::of("mf").parent == fs::path("."));

  RunScratch s("siblings");
  const RunSiblings w = RunSiblings::of(s.dir / "r");
  for (const char* n : {".r.tmp.7", ".r.old.9", ".r.tmp.12", ".r.tmp.x1", ".rr.tmp.3", ".r.tmp.tmp.4", "r"})
    fs::create_directories(s.dir / n);
  const auto t = w.temporaries();
  REQUIRE(t.size() == 3);
  CHECK(t[0].path.filename() == ".r.tmp.12");  // staging folders first, newest pid first
  CHECK(t[1].path.filename() == ".r.tmp.7");
  CHECK(t[2].path.filename() == ".r.old.9");
  CHECK(t[2].staging == false);
  CHECK(t[2].pid == 9);
  CHECK_FALSE(w.recoverable());  // none verifies
  fill_run(s.dir / ".r.old.9", "mf");
  seal(s.dir / ".r.old.9", "mf");
  CHECK(w.recoverable() == s.dir / ".r.old.9");
  fill_run(s.dir / ".r.tmp.7", "ease");
  seal(s.dir / ".r.tmp.7", "ease");
  CHECK(w.recoverable() == s.dir / ".r.tmp.7");  // a sealed staging folder is the newer complete run

  // a reader finding no folder reads the recoverable one; a present folder is read as it is
  fs::remove_all(s.dir / "r");
  const RunFolder opened = RunFolder::open((s.dir / "r").string());
  CHECK(opened.dir == s.dir / ".r.tmp.7");
  CHECK(opened.manifest.model() == "ease");
  opened.check_unchanged();
  fs::rename(s.dir / ".r.tmp.7", s.dir / "r");
  CHECK_THROWS_WITH_AS(opened.check_unchanged(), doctest::Contains("was replaced by another recsys train"), recsys::Error);
  CHECK(verify_run_folder((s.dir / "r").string()).dir == s.dir / "r");
}

TEST_CASE("tools run folder: one writer at a time, and publishing replaces the previous run whole") {
  RunScratch s("publish");
  const RunSiblings where = check_out_folder((s.dir / "runs" / "r").string());
  CHECK(fs::is_directory(s.dir / "runs"));  // the parent is made
  for (const std::string how : {"first", "exchange", "fallback"}) {
    if (how == "fallback") ::setenv("RECSYS_NO_RENAME_EXCHANGE", "1", 1);
    {
      RunPublisher p(where);
      CHECK(fs::exists(where.lock()));
      // a second writer (another open file, so another flock) is refused naming this pid
      const std::string holder = "another recsys train (pid " + std::to_string(::getpid()) + ")";
      CHECK_THROWS_WITH_AS(RunLock{where}, doctest::Contains(holder.c_str()), recsys::Error);
      fill_run(p.staging(), how, how);
      if (how == "exchange") put(p.staging() / "per_user.csv", "user_id,hr@10\n1,1\n");
      p.publish(identity(how));
    }
    CAPTURE(how);
    CHECK_FALSE(fs::exists(where.lock()));
    const Manifest m = verify_manifest(where.dir());
    CHECK(m.model() == how);
    CHECK(recsys::io::sha256_file((where.dir() / "model.safetensors").string()).sha256 == recsys::io::sha256_hex(how));
    CHECK(static_cast<bool>(m.find("per_user.csv")) == (how == "exchange"));
    CHECK(fs::exists(where.dir() / "per_user.csv") == (how == "exchange"));  // no file survives from the run before
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(s.dir / "runs")) entries += e.path().filename() == "r" ? 1 : 100;
    CHECK(entries == 1);  // nothing left beside the run
  }
  ::unsetenv("RECSYS_NO_RENAME_EXCHANGE");
  {
    RunPublisher p(where);  // an error while writing: the staging folder goes, the run stays
    put(p.staging() / "config.json", "{}");
  }
  CHECK(verify_manifest(where.dir()).model() == "fallback");
  CHECK(fs::exists(where.staging(::getpid())) == false);

  put(s.dir / "file", "x");
  CHECK_THROWS_WITH_AS(check_out_folder((s.dir / "file").string()), doctest::Contains("is a file, not a run folder"),
                       UsageError);
  CHECK_THROWS_WITH_AS(check_out_folder((s.dir / "file" / "r").string()), doctest::Contains("is a file, not a folder"),
                       UsageError);
  put(s.dir / "mine" / "thesis.tex", "x");
  CHECK_THROWS_WITH_AS(check_out_folder((s.dir / "mine").string()), doctest::Contains("is not a run folder"), UsageError);
  CHECK_THROWS_WITH_AS(check_out_folder("."), doctest::Contains("not a folder train can replace"), UsageError);
  CHECK_THROWS_WITH_AS(check_out_folder("runs/.."), doctest::Contains("not a folder train can replace"), UsageError);
}
