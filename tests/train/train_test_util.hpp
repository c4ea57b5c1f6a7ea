// tests/train/train_test_util.hpp — what the train tests share: the reference model, small Dense nets, temporary files.
#pragma once

#include <recsys/nn/conv1d.hpp>
#include <recsys/nn/dense.hpp>
#include <recsys/nn/embedding.hpp>
#include <recsys/nn/lstm.hpp>
#include <recsys/nn/maxpool1d.hpp>
#include <recsys/nn/sequential.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_util.hpp"  // TempDir

namespace recsys::testing {

/// The seed document's network (DESIGN.md section 2).
inline auto reference_model(std::int64_t vocab = 1000, std::int64_t width = 128) {
  return nn::Sequential(nn::Embedding(vocab, width), nn::Conv1D(width, width, 3, {.activation = nn::Activation::relu}),
                        nn::MaxPool1D(2), nn::LSTM(width, width), nn::Dense(width, 1, nn::Activation::sigmoid));
}

/// A two-layer perceptron for quick, hand-checkable training runs.
inline auto small_mlp(std::int64_t in = 4, std::int64_t hidden = 3, nn::Activation out = nn::Activation::sigmoid) {
  return nn::Sequential(nn::Dense(in, hidden, nn::Activation::tanh), nn::Dense(hidden, 1, out));
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// Everything written to a FILE* (a tmpfile), as text.
inline std::string file_text(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

}  // namespace recsys::testing
