// tests/rec/rec_test_util.hpp — small data sets shared by the recommender tests: a hand-made catalogue, a generated synthetic site, temporary folders.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <recsys/recsys.hpp>

#include "test_util.hpp"  // TempDir

namespace recsys::testing {

/// Writes `text` to `path`.
inline void write_text(const std::string& path, const std::string& text) { io::write_file_atomic(path, text); }

/// 3 users, 5 items, 8 ratings by hand:
///   u0: i0=5 (t1), i1=4 (t2), i2=1 (t3)     u1: i0=4 (t1), i3=5 (t2)     u2: i0=2 (t5), i1=5 (t4), i4=3 (t6)
inline rec::Dataset tiny_dataset() {
  std::vector<rec::Item> items(5);
  const char* titles[] = {"Alpha Quest (1990)", "Beta Love (1995)", "Gamma Fury (2001)", "Delta Quest (2010)",
                          "Epsilon Love (2015)"};
  const char* genres[] = {"Adventure", "Romance", "Action", "Adventure", "Romance"};
  for (int i = 0; i < 5; ++i) {
    items[static_cast<std::size_t>(i)].id = "m" + std::to_string(i);
    items[static_cast<std::size_t>(i)].title = titles[i];
    items[static_cast<std::size_t>(i)].year = rec::detail::title_year(titles[i]);
    items[static_cast<std::size_t>(i)].genres = {genres[i]};
  }
  std::vector<rec::Interaction> rows{
      {0, 0, 5, 1, "great fun"}, {0, 1, 4, 2, "lovely"}, {0, 2, 1, 3, "awful"},     {1, 0, 4, 1, "good"},
      {1, 3, 5, 2, "superb"},    {2, 0, 2, 5, "dull"},   {2, 1, 5, 4, "wonderful"}, {2, 4, 3, 6, "okay"}};
  return rec::Dataset({"ann", "bob", "cat"}, std::move(items), std::move(rows));
}

/// The synthetic site at a small size, written once per process and loaded.
inline const rec::Dataset& small_site() {
  static const rec::Dataset data = [] {
    const std::string dir = (std::filesystem::temp_directory_path() / ("recsys_rec_site_" + std::to_string(::getpid()))).string();
    data::write_synthetic(dir, {.users = 200, .items = 300, .ratings = 8000, .seed = 7});
    rec::Dataset d = rec::load_synthetic(dir);
    std::filesystem::remove_all(dir);
    return d;
  }();
  return data;
}

/// ../shared/data/<leaf>, or "" (with a message) when the shared data is absent.
inline std::string shared_data(const std::string& leaf) {
  const std::filesystem::path p = std::filesystem::path(RECSYS_SHARED_DATA) / leaf;
  if (!std::filesystem::exists(p)) {
    MESSAGE("skipped: ", p.string(), " is absent (the shared data sets live in ../shared/data)");
    return "";
  }
  return p.string();
}

}  // namespace recsys::testing
