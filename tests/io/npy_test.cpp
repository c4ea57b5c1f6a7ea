// tests/io/npy_test.cpp — .npy score matrices: a round trip, a float32 file written byte by byte as NumPy writes it, and errors that name the file and the problem.
#include <doctest/doctest.h>

#include <string>

#include <recsys/io/npy.hpp>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::TempDir;

namespace {

/// An .npy file as numpy.save writes it (format 1.0), with the given header dict and raw data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

}  // namespace

TEST_CASE("npy: float64 round trip and a float32 file as NumPy writes it") {
  TempDir dir("npy");
  const io::NpyMatrix m{2, 3, {1.5, -2, 0, 1e-300, 7, 8}};
  io::write_npy(dir.file("m.npy"), m);
  const io::NpyMatrix back = io::read_npy(dir.file("m.npy"));
  CHECK(back.rows == 2);
  CHECK(back.cols == 3);
  CHECK(back.values == m.values);
  const float f[4] = {0.25f, -1.0f, 3.0f, 0.5f};
  io::write_file_atomic(dir.file("f.npy"), npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                                                     std::string(reinterpret_cast<const char*>(f), sizeof f)));
  const io::NpyMatrix g = io::read_npy(dir.file("f.npy"));
  CHECK(g.rows == 2);
  CHECK(g.cols == 2);
  CHECK(g.values == std::vector<double>{0.25, -1.0, 3.0, 0.5});
}

TEST_CASE("npy: errors name the file and what is wrong") {
  TempDir dir("npy_bad");
  const auto bad = [&](const std::string& name, const std::string& bytes) {
    io::write_file_atomic(dir.file(name), bytes);
    return dir.file(name);
  };
  CHECK_THROWS_WITH_AS(io::read_npy(dir.file("none.npy")), doctest::Contains("cannot open"), Error);
  CHECK_THROWS_WITH_AS(io::read_npy(bad("text.npy", "user,item\n1,2\n")), doctest::Contains("is not an .npy file"), Error);
  CHECK_THROWS_WITH_AS(
      io::read_npy(bad("i8.npy", npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", "12345678"))),
      doctest::Contains("holds dtype '<i8'; expected float32"), Error);
  CHECK_THROWS_WITH_AS(
      io::read_npy(bad("f.npy", npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), }", "12345678"))),
      doctest::Contains("Fortran order"), Error);
  CHECK_THROWS_WITH_AS(
      io::read_npy(bad("3d.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }", "12345678"))),
      doctest::Contains("expected a 2-D matrix"), Error);
  CHECK_THROWS_WITH_AS(
      io::read_npy(bad("short.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", "1234"))),
      doctest::Contains("is truncated: (3, 2) float32 needs 24 data bytes"), Error);
  CHECK_THROWS_WITH_AS(io::write_npy(dir.file("x.npy"), io::NpyMatrix{2, 2, {1.0}}),
                       doctest::Contains("1 values for a 2×2 matrix"), Error);
}
