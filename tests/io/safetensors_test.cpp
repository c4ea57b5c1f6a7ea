// tests/io/safetensors_test.cpp — safetensors round trips, interop fixtures from Python, and every loader error.
#include <recsys/io/safetensors.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

/// A safetensors file from a header text and a data section, with an honest 8-byte length.
std::string raw_file(const std::string& header, const std::string& data = {}) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xFF);
  return out + header + data;
}

std::span<const unsigned char> as_span(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::string fixture(const std::string& name) { return std::string(RECSYS_TEST_FIXTURES) + "/io/" + name; }

/// A destination the loader tests try to overwrite: "a" (2,) float32 and "b" (2, 2) float32.
NamedTensors destination() {
  return {{"a", tensor({-1.f, -2.f}, {2})}, {"b", tensor({-3.f, -4.f, -5.f, -6.f}, {2, 2})}};
}
/// A good file for destination(): a = [1, 2], b = [[3, 4], [5, 6]].
std::string good_file() {
  return io::safetensors_bytes({{"a", tensor({1.f, 2.f}, {2})}, {"b", tensor({3.f, 4.f, 5.f, 6.f}, {2, 2})}});
}
std::string f32_bytes(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(v.begin()), v.size() * sizeof(float));
}

/// The load must fail with `message` and leave destination() untouched.
void check_load_fails(const std::string& bytes, const std::string& message, io::LoadOptions options = {}) {
  const NamedTensors dst = destination();
  const NamedTensors before = {{"a", dst[0].second.clone()}, {"b", dst[1].second.clone()}};
  INFO("expected error: ", message);
  CHECK_THROWS_WITH_AS(io::load_into_bytes(as_span(bytes), dst, options, "t.st"), doctest::Contains(message.c_str()), Error);
  CHECK(bitwise_equal(dst[0].second, before[0].second));
  CHECK(bitwise_equal(dst[1].second, before[1].second));
}

}  // namespace

TEST_CASE("safetensors: round trip of every dtype, scalar, empty and strided tensors") {
  Generator gen(7);
  const Tensor strided = randn({3, 4}, gen).transpose(0, 1);  // not contiguous: written in logical order
  const NamedTensors tensors = {
      {"f32", randn({2, 3}, gen)},
      {"f64", randn({5}, gen, DType::float64)},
      {"i32", tensor({1, -2, 3}, {3})},
      {"i64", tensor({std::int64_t{1} << 40, std::int64_t{-9}}, {2})},
      {"scalar", full({}, 4.5)},
      {"empty", zeros({0, 3})},
      {"strided", strided},
  };
  const io::Metadata meta = {{"epoch", "3"}, {"json", R"({"lr": 0.001})"}};
  TempDir dir("io");
  const std::string path = dir.file("w.safetensors");
  io::save_safetensors(path, tensors, meta);
  const std::string bytes = read_bytes(path);
  CHECK(bytes == io::safetensors_bytes(tensors, meta));
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  CHECK(header_len % 8 == 0);  // data section 8-byte aligned

  const io::SafetensorsFile back = io::read_safetensors(path);
  CHECK(back.metadata == meta);
  REQUIRE(back.tensors.size() == tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].first);
    CHECK(back.tensors[i].first == tensors[i].first);
    CHECK(bitwise_equal(back.tensors[i].second, tensors[i].second));
    CHECK(back.tensors[i].second.is_contiguous());
  }
  CHECK(io::load_safetensors(path).size() == tensors.size());
  CHECK_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST_CASE("safetensors: a file written by Python's safetensors library loads with the expected values") {
  const std::string path = fixture("python_written.safetensors");
  if (!fs::exists(path)) {
    MESSAGE("skipped: ", path, " is missing (run tests/golden/io_fixtures.py)");
    return;
  }
  const io::SafetensorsFile f = io::read_safetensors(path);
  CHECK(f.metadata == io::Metadata{{"format", "np"}, {"producer", "io_fixtures.py"}});
  std::map<std::string, Tensor> by_name(f.tensors.begin(), f.tensors.end());
  REQUIRE(by_name.size() == 6);

  const Tensor& w = by_name.at("embedding.weight");
  CHECK(w.dtype() == DType::float32);
  CHECK(w.shape() == Shape{3, 4});
  std::vector<double> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(static_cast<float>(i) * 0.25f - 1.0f);
  recsys::testing::check_close(w, expected, 0, 0);

  CHECK(by_name.at("dense.bias").dtype() == DType::float64);
  CHECK(by_name.at("dense.bias").to_vector<double>() == std::vector<double>{0.1});
  CHECK(by_name.at("counts").dtype() == DType::int32);
  CHECK(by_name.at("counts").shape() == Shape{1, 3});
  CHECK(by_name.at("counts").to_vector<std::int32_t>() == std::vector<std::int32_t>{-3, 0, 7});
  CHECK(by_name.at("ids").dtype() == DType::int64);
  CHECK(by_name.at("ids").to_vector<std::int64_t>() == std::vector<std::int64_t>{(std::int64_t{1} << 40) + 1, -5});
  CHECK(by_name.at("scalar").shape() == Shape{});
  CHECK(by_name.at("scalar").item() == 2.5);
  CHECK(by_name.at("empty").shape() == Shape{0, 3});

  // The same file loads into a model-like destination.
  const NamedTensors dst = {{"embedding.weight", zeros({3, 4})}, {"dense.bias", zeros({1}, DType::float64)}};
  const io::LoadResult r = io::load_into(path, dst, {.allow_unexpected = true});
  CHECK(bitwise_equal(dst[0].second, w));
  CHECK(r.unexpected.size() == 4);
  CHECK(r.missing.empty());
}

TEST_CASE("safetensors: unsupported dtypes from other writers are named") {
  const std::string path = fixture("python_f16.safetensors");
  if (!fs::exists(path)) {
    MESSAGE("skipped: ", path, " is missing (run tests/golden/io_fixtures.py)");
    return;
  }
  CHECK_THROWS_WITH_AS(io::read_safetensors(path),
                       doctest::Contains("tensor 'half': dtype 'F16' is not supported"), Error);
}

TEST_CASE("safetensors: our writer's bytes are the committed fixture that Python loads") {
  // tests/golden/io_fixtures.py checks, in Python, that this exact file loads with these values.
  const NamedTensors tensors = {
      {"layer.weight", tensor({-0.25f, -0.125f, 0.f, 0.125f, 0.25f, 0.375f}, {2, 3})},
      {"layer.bias", tensor({1.5, -2.0}, {2})},
      {"step", full({}, 7, DType::int64)},
      {"tokens", tensor({1, 2, 3, 4, 5, 6}, {3, 2})},
  };
  const io::Metadata meta = {{"epoch", "3"}, {"note", "written by recsys"}};
  const std::string bytes = io::safetensors_bytes(tensors, meta);
  const std::string path = fixture("cpp_written.safetensors");
  const char* regenerate = std::getenv("RECSYS_WRITE_FIXTURES");
  if (regenerate && std::string(regenerate) == "1") io::save_safetensors(path, tensors, meta);
  REQUIRE_MESSAGE(fs::exists(path), "run the io tests once with RECSYS_WRITE_FIXTURES=1 to create ", path);
  CHECK(read_bytes(path) == bytes);
}

TEST_CASE("safetensors: load_into copies by name into existing tensors") {
  const NamedTensors dst = destination();
  dst[0].second.set_requires_grad();  // parameters are loaded under NoGradGuard
  const std::uint64_t version = dst[1].second.impl()->storage->version();
  const std::string bytes = good_file();
  const io::LoadResult r = io::load_into_bytes(as_span(bytes), dst);
  CHECK(r.missing.empty());
  CHECK(r.unexpected.empty());
  CHECK(dst[0].second.to_vector<float>() == std::vector<float>{1, 2});
  CHECK(dst[1].second.to_vector<float>() == std::vector<float>{3, 4, 5, 6});
  CHECK(dst[1].second.impl()->storage->version() > version);

  // A strided view as destination receives the values in logical order.
  const Tensor base = zeros({2, 2});
  const NamedTensors view_dst = {{"a", zeros({2})}, {"b", base.transpose(0, 1)}};
  io::load_into_bytes(as_span(bytes), view_dst);
  CHECK(base.to_vector<float>() == std::vector<float>{3, 5, 4, 6});
}

TEST_CASE("safetensors: allow_missing and allow_unexpected") {
  const std::string only_a = io::safetensors_bytes({{"a", tensor({7.f, 8.f}, {2})}});
  check_load_fails(only_a, "t.st: missing tensor 'b' (in the destination, not in the file");
  NamedTensors dst = destination();
  io::LoadResult r = io::load_into_bytes(as_span(only_a), dst, {.allow_missing = true});
  CHECK(r.missing == std::vector<std::string>{"b"});
  CHECK(dst[0].second.to_vector<float>() == std::vector<float>{7, 8});
  CHECK(dst[1].second.to_vector<float>() == std::vector<float>{-3, -4, -5, -6});

  const std::string extra = io::safetensors_bytes({{"a", tensor({1.f, 2.f}, {2})},
                                                   {"b", tensor({3.f, 4.f, 5.f, 6.f}, {2, 2})},
                                                   {"c", zeros({1})},
                                                   {"d", zeros({1})}});
  check_load_fails(extra, "t.st: unexpected tensors 'c', 'd' (in the file, not in the destination");
  r = io::load_into_bytes(as_span(extra), destination(), {.allow_unexpected = true});
  CHECK(r.unexpected == std::vector<std::string>{"c", "d"});
}

TEST_CASE("safetensors: dtype and shape must match the destination") {
  check_load_fails(io::safetensors_bytes({{"a", tensor({1.0, 2.0}, {2})}, {"b", zeros({2, 2})}}),
                   "t.st: tensor 'a': dtype F64 (float64) in the file but float32 in the destination");
  check_load_fails(io::safetensors_bytes({{"a", zeros({2})}, {"b", zeros({4})}}),
                   "t.st: tensor 'b': shape [4] in the file but [2, 2] in the destination");
  const NamedTensors twice = {{"a", zeros({2})}, {"a", zeros({2})}};
  const std::string bytes = good_file();
  CHECK_THROWS_WITH_AS(io::load_into_bytes(as_span(bytes), twice), doctest::Contains("the destination names 'a' twice"),
                       Error);
}

TEST_CASE("safetensors: truncated files and bad header lengths") {
  const std::string good = good_file();
  check_load_fails(good.substr(0, 5), "t.st: file is truncated (5 bytes");
  check_load_fails(std::string(), "file is truncated (0 bytes");
  // Cut inside the header: the length now points past the end.
  check_load_fails(good.substr(0, 20), "header length 112 extends past the end of the file (20 bytes)");
  // Cut inside the data: the offsets now point past the end.
  check_load_fails(good.substr(0, good.size() - 4),
                   "tensor 'b': data_offsets [8, 24] extend past the end of the data section (20 bytes)");
  std::string huge = good;
  huge[7] = '\x7f';
  check_load_fails(huge, "exceeds the limit of 104857600 bytes");
  std::string beyond = good;
  beyond[3] = '\x01';  // 16 MiB + 112: under the limit but beyond the file
  check_load_fails(beyond, "header length 16777328 extends past the end of the file (144 bytes)");
}

TEST_CASE("safetensors: malformed headers") {
  const std::string d = f32_bytes({1, 2, 3, 4, 5, 6});
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})", d),
                   "t.st: header is not valid JSON: json: line 1, column 61: unexpected end of input in an object");
  check_load_fails(raw_file("[1, 2]"), "t.st: header must be a JSON object, got an array");
  check_load_fails(raw_file("{\"a\": 1, \"a\": 2}"), "duplicate key \"a\"");
  check_load_fails(raw_file(R"({"a": 5})"), "tensor 'a': entry must be an object, got a number");
  check_load_fails(raw_file(R"({"a": {"shape": [2], "data_offsets": [0, 8]}})", d), "tensor 'a': entry has no \"dtype\"");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "data_offsets": [0, 8]}})", d), "tensor 'a': entry has no \"shape\"");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2]}})", d), "tensor 'a': entry has no \"data_offsets\"");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": 1}})", d),
                   "tensor 'a': unexpected key 'x' in its entry");
  check_load_fails(raw_file(R"({"a": {"dtype": 32, "shape": [2], "data_offsets": [0, 8]}})", d),
                   "tensor 'a': \"dtype\" must be a string, got a number");
  check_load_fails(raw_file(R"({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}})", d),
                   "tensor 'a': dtype 'BF16' is not supported");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})", d),
                   "tensor 'a': \"shape\" must be an array, got a number");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", d),
                   "tensor 'a': shape entries must be non-negative integers");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}})", d),
                   "tensor 'a': shape entries must be non-negative integers");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [1,1,1,1,1,1,1,1,1], "data_offsets": [0, 4]}})", d),
                   "tensor 'a': shape has 9 dimensions; at most 8 are supported");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", d),
                   "tensor 'a': shape is too large");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", d),
                   "tensor 'a': \"data_offsets\" must be an array of two integers");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, -8]}})", d),
                   "tensor 'a': \"data_offsets\" must be non-negative integers");
  check_load_fails(raw_file(R"({"": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", d),
                   "t.st: a tensor has an empty name");
  check_load_fails(raw_file(R"({"__metadata__": [1]})"), "t.st: __metadata__ must be an object, got an array");
  check_load_fails(raw_file(R"({"__metadata__": {"epoch": 3}})"),
                   "t.st: __metadata__ value for 'epoch' must be a string, got a number");
}

TEST_CASE("safetensors: offsets out of bounds, overlapping, with gaps or the wrong size") {
  const std::string d = f32_bytes({1, 2, 3, 4, 5, 6});  // 24 bytes
  const auto two = [&](const std::string& a_offsets, const std::string& b_offsets) {
    return raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": )" + a_offsets +
                        R"(}, "b": {"dtype": "F32", "shape": [2, 2], "data_offsets": )" + b_offsets + "}}",
                    d);
  };
  CHECK(io::load_into_bytes(as_span(two("[0, 8]", "[8, 24]")), destination()).missing.empty());  // the good layout
  CHECK(io::load_into_bytes(as_span(two("[16, 24]", "[0, 16]")), destination()).missing.empty());  // any order
  check_load_fails(two("[0, 8]", "[8, 40]"),
                   "t.st: tensor 'b': data_offsets [8, 40] extend past the end of the data section (24 bytes)");
  check_load_fails(two("[0, 8]", "[18446744073709551600, 18446744073709551615]"),
                   "tensor 'b': data_offsets [18446744073709551600, 18446744073709551615] extend past the end");
  check_load_fails(two("[8, 0]", "[8, 24]"), "tensor 'a': data_offsets [8, 0] end before they begin");
  check_load_fails(two("[0, 8]", "[0, 16]"), "tensor 'b': data_offsets [0, 16] overlap tensor 'a' [0, 8]");
  check_load_fails(two("[0, 8]", "[4, 20]"), "tensor 'b': data_offsets [4, 20] overlap tensor 'a' [0, 8]");
  check_load_fails(two("[0, 4]", "[8, 24]"), "tensor 'a': data_offsets [0, 4] hold 4 bytes but F32 shape [2] needs 8");
  check_load_fails(two("[4, 12]", "[12, 28]"), "extend past the end");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}, "b": {"dtype": "F32", "shape": [2, 2], "data_offsets": [12, 28]}})",
                            d + "0000"),
                   "tensor 'a': data_offsets [4, 12] leave a gap of 4 bytes before it");
  check_load_fails(raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]}})",
                            d + "xx"),
                   "the data section has 2 bytes after the last tensor that no tensor uses (26 bytes in all)");
}

TEST_CASE("safetensors: files that fail to read never leave the destination half-loaded") {
  // 'a' is fine and comes first; 'b' fails: 'a' must not have been written.
  const std::string bytes = io::safetensors_bytes({{"a", tensor({1.f, 2.f}, {2})}, {"b", zeros({3})}});
  check_load_fails(bytes, "tensor 'b': shape [3] in the file but [2, 2] in the destination");
  TempDir dir("io");
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, bytes);
  const NamedTensors dst = destination();
  CHECK_THROWS_WITH_AS(io::load_into(path, dst), doctest::Contains("bad.safetensors': tensor 'b': shape [3]"), Error);
  CHECK(dst[0].second.to_vector<float>() == std::vector<float>{-1, -2});
  CHECK_THROWS_WITH_AS(io::read_safetensors(dir.file("absent.safetensors")),
                       doctest::Contains(("cannot open '" + dir.file("absent.safetensors") + "'").c_str()), Error);
  CHECK_THROWS_WITH_AS(io::read_safetensors(dir.path.string()), doctest::Contains("is not a regular file"), Error);
}

TEST_CASE("safetensors: the writer refuses bad names and keeps the old file") {
  TempDir dir("io");
  const std::string path = dir.file("w.safetensors");
  io::save_safetensors(path, {{"x", ones({2})}});
  const std::string old_bytes = read_bytes(path);
  const NamedTensors twice = {{"x", ones({2})}, {"x", ones({1})}};
  CHECK_THROWS_WITH_AS(io::save_safetensors(path, twice),
                       doctest::Contains("two tensors are named 'x'"), Error);
  CHECK_THROWS_WITH_AS(io::save_safetensors(path, {{"", ones({2})}}), doctest::Contains("a tensor has an empty name"),
                       Error);
  CHECK_THROWS_WITH_AS(io::save_safetensors(path, {{"__metadata__", ones({2})}}),
                       doctest::Contains("'__metadata__' is reserved"), Error);
  CHECK_THROWS_WITH_AS(io::save_safetensors(path, {{"u", Tensor()}}), doctest::Contains("tensor 'u' is undefined"),
                       Error);
  CHECK(read_bytes(path) == old_bytes);
  CHECK_THROWS_WITH_AS(io::save_safetensors(dir.file("no/such/dir/w.safetensors"), {{"x", ones({2})}}),
                       doctest::Contains(("cannot create '" + dir.file("no/such/dir/w.safetensors.tmp.")).c_str()), Error);
  // Overwriting replaces the whole file.
  io::save_safetensors(path, {{"y", ones({3})}});
  CHECK(io::load_safetensors(path)[0].first == "y");
}

TEST_CASE("atomic file: nothing replaces the target until commit") {
  TempDir dir("io");
  const std::string path = dir.file("f.txt");
  io::write_file_atomic(path, "old");
  {
    io::AtomicFile f(path);
    f.write("half-writ");
    CHECK(fs::exists(f.temporary_path()));
    CHECK(read_bytes(path) == "old");
    // destroyed without commit(): as if an exception interrupted the write
  }
  CHECK(read_bytes(path) == "old");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);  // no temp file left
  io::write_file_atomic(path, "new");
  CHECK(read_bytes(path) == "new");
}
