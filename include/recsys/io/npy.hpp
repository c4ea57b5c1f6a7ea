// recsys/io/npy.hpp — NumPy .npy files (format 1.0–3.0) of float32/float64 matrices: how score matrices travel between the Python peers and our metric code.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/io/atomic_file.hpp"

namespace recsys::io {

/// A row-major matrix of doubles read from (or written to) an .npy file.
struct NpyMatrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> values;  ///< rows × cols, row-major
};

namespace npy_detail {

/// The value of `key` in the header's Python dict literal ("'descr': '<f4', ..."), as raw text.
inline std::string header_field(const std::string& header, const std::string& key, const std::string& path) {
  const std::string quoted = "'" + key + "'";
  const std::size_t at = header.find(quoted);
  RECSYS_CHECK(at != std::string::npos, "read_npy: '", path, "': the header has no ", quoted, " entry: ", header);
  std::size_t p = header.find(':', at + quoted.size());
  RECSYS_CHECK(p != std::string::npos, "read_npy: '", path, "': malformed header: ", header);
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  std::size_t end = p;
  if (header[p] == '(') end = header.find(')', p) + 1;
  else if (header[p] == '\'') end = header.find('\'', p + 1) + 1;
  else
    while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  return header.substr(p, end - p);
}

}  // namespace npy_detail

/// Reads a 2-D little-endian float32 ('<f4') or float64 ('<f8') .npy file in C order. Errors name
/// the file and what is wrong (dtype, order, rank, size).
inline NpyMatrix read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  RECSYS_CHECK(in.good(), "read_npy: cannot open '", path, "'");
  char magic[8] = {};
  in.read(magic, 8);
  RECSYS_CHECK(in.gcount() == 8 && std::memcmp(magic, "\x93NUMPY", 6) == 0, "read_npy: '", path,
               "' is not an .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  RECSYS_CHECK(major >= 1 && major <= 3, "read_npy: '", path, "': unsupported format version ", major);
  std::uint32_t header_len = 0;
  unsigned char len[4] = {};
  in.read(reinterpret_cast<char*>(len), major == 1 ? 2 : 4);
  header_len = major == 1 ? static_cast<std::uint32_t>(len[0] | (len[1] << 8))
                          : static_cast<std::uint32_t>(len[0] | (len[1] << 8) | (len[2] << 16) | (len[3] << 24));
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  RECSYS_CHECK(static_cast<std::uint32_t>(in.gcount()) == header_len, "read_npy: '", path, "': truncated header");
  const std::string descr = npy_detail::header_field(header, "descr", path);
  const std::string order = npy_detail::header_field(header, "fortran_order", path);
  const std::string shape = npy_detail::header_field(header, "shape", path);
  RECSYS_CHECK(descr == "'<f4'" || descr == "'<f8'", "read_npy: '", path, "' holds dtype ", descr,
               "; expected float32 ('<f4') or float64 ('<f8')");
  RECSYS_CHECK(order == "False", "read_npy: '", path, "' is in Fortran order; save a C-order array (np.ascontiguousarray)");
  std::vector<std::int64_t> dims;
  for (std::size_t p = 1; p < shape.size();) {
    while (p < shape.size() && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p >= shape.size() || shape[p] == ')') break;
    std::size_t used = 0;
    dims.push_back(std::stoll(shape.substr(p), &used));
    p += used;
  }
  RECSYS_CHECK(dims.size() == 2, "read_npy: '", path, "' has shape ", shape, "; expected a 2-D matrix (users, items)");
  NpyMatrix m;
  m.rows = dims[0];
  m.cols = dims[1];
  const auto n = static_cast<std::size_t>(m.rows * m.cols);
  m.values.resize(n);
  if (descr == "'<f8'") {
    in.read(reinterpret_cast<char*>(m.values.data()), static_cast<std::streamsize>(n * sizeof(double)));
    RECSYS_CHECK(static_cast<std::size_t>(in.gcount()) == n * sizeof(double), "read_npy: '", path, "' is truncated: ",
                 shape, " float64 needs ", n * sizeof(double), " data bytes");
  } else {
    std::vector<float> f(n);
    in.read(reinterpret_cast<char*>(f.data()), static_cast<std::streamsize>(n * sizeof(float)));
    RECSYS_CHECK(static_cast<std::size_t>(in.gcount()) == n * sizeof(float), "read_npy: '", path, "' is truncated: ",
                 shape, " float32 needs ", n * sizeof(float), " data bytes");
    for (std::size_t k = 0; k < n; ++k) m.values[k] = f[k];
  }
  return m;
}

/// Writes a float64 matrix as .npy (format 1.0, C order), atomically.
inline void write_npy(const std::string& path, const NpyMatrix& m) {
  RECSYS_CHECK(static_cast<std::int64_t>(m.values.size()) == m.rows * m.cols, "write_npy: ", m.values.size(),
               " values for a ", m.rows, "×", m.cols, " matrix");
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::to_string(m.rows) + ", " +
                       std::to_string(m.cols) + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64 bytes.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(m.values.data()), m.values.size() * sizeof(double));
  write_file_atomic(path, out);
}

}  // namespace recsys::io
