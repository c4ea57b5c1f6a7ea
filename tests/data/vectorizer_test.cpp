// tests/data/vectorizer_test.cpp — Count/TfidfVectorizer by hand, against scikit-learn fixtures, and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <recsys/data/vectorizer.hpp>
#include <sstream>

#include "data_test_util.hpp"

using namespace recsys;
using namespace recsys::data;
using recsys::data::testing::fixture;
using recsys::data::testing::read_lines;

namespace {

/// The fixture corpus, one document per line.
std::vector<std::string> corpus() { return read_lines(fixture("text_corpus.txt")); }

/// `m` equals the sklearn matrix in <stem>_matrix.csv / _shape.txt within 1e-9.
void check_matrix(const CsrMatrix& m, const std::string& stem) {
  std::istringstream shape(read_lines(fixture(stem + "_shape.txt")).at(0));
  std::int64_t rows, cols, nnz;
  shape >> rows >> cols >> nnz;
  REQUIRE(m.rows == rows);
  REQUIRE(m.cols == cols);
  REQUIRE(m.nnz() == nnz);
  const Table want = read_csv(fixture(stem + "_matrix.csv"));
  REQUIRE(want.num_rows() == nnz);
  for (std::int64_t k = 0; k < nnz; ++k) {
    const std::int64_t r = want.column("row").int_at(k), c = want.column("col").int_at(k);
    INFO(stem, ": entry (", r, ", ", c, ")");
    CHECK(m.indices[static_cast<std::size_t>(k)] == c);  // same order: rows, then ascending columns
    CHECK(std::fabs(m.at(r, c) - want.column("value").number_at(k)) <= 1e-9);
  }
}

void check_idf(const std::vector<double>& idf, const std::string& stem) {
  const std::vector<std::string> want = read_lines(fixture(stem + "_idf.txt"));
  REQUIRE(idf.size() == want.size());
  for (std::size_t t = 0; t < idf.size(); ++t) CHECK(std::fabs(idf[t] - std::stod(want[t])) <= 1e-12);
}

}  // namespace

TEST_CASE("CountVectorizer and TfidfVectorizer by hand") {
  const std::vector<std::string> docs = {"the cat sat", "the cat the hat", "dog"};
  CountVectorizer cv;
  const CsrMatrix c = cv.fit_transform(docs);
  CHECK(cv.feature_names() == std::vector<std::string>{"cat", "dog", "hat", "sat", "the"});
  CHECK(c.rows == 3);
  CHECK(c.cols == 5);
  CHECK(c.indptr == std::vector<std::int64_t>{0, 3, 6, 7});
  CHECK(c.indices == std::vector<std::int64_t>{0, 3, 4, 0, 2, 4, 1});
  CHECK(c.data == std::vector<double>{1, 1, 1, 1, 1, 2, 1});
  CHECK(c.at(1, 4) == 2);
  CHECK(c.at(2, 0) == 0);
  CHECK(cv.index("hat") == 2);
  CHECK(cv.index("zebra") == -1);
  CHECK(cv.transform({"zebra cat cat"}).data == std::vector<double>{2});  // unknown words are ignored

  TfidfVectorizerOptions o;
  o.norm = TfidfNorm::none;
  TfidfVectorizer tv(o);
  const CsrMatrix t = tv.fit_transform(docs);
  // idf = ln(4 / (1 + df)) + 1: df(cat) = 2, df(dog) = 1.
  CHECK(tv.idf()[0] == doctest::Approx(std::log(4.0 / 3.0) + 1));
  CHECK(tv.idf()[1] == doctest::Approx(std::log(2.0) + 1));
  CHECK(t.at(1, 4) == doctest::Approx(2 * (std::log(4.0 / 3.0) + 1)));
  const Tensor dense = TfidfVectorizer().fit_transform(docs).to_dense(DType::float64);
  CHECK(dense.shape() == Shape{3, 5});
  const std::vector<double> v = dense.to_vector<double>();
  double sq = 0;
  for (int j = 0; j < 5; ++j) sq += v[static_cast<std::size_t>(5 + j)] * v[static_cast<std::size_t>(5 + j)];
  CHECK(sq == doctest::Approx(1.0));  // l2-normalized rows
  CHECK(v[10 + 1] == doctest::Approx(1.0));

  // Word n-grams join adjacent tokens with one space; (1, 2) keeps the single words too.
  CountVectorizerOptions grams;
  grams.ngram_max = 2;
  CountVectorizer bi(grams);
  const CsrMatrix b = bi.fit_transform({"not good", "good good"});
  CHECK(bi.feature_names() == std::vector<std::string>{"good", "good good", "not", "not good"});
  CHECK(b.indices == std::vector<std::int64_t>{0, 2, 3, 0, 1});
  CHECK(b.data == std::vector<double>{1, 1, 1, 2, 1});
  grams.ngram_min = 2;  // bigrams only: a one-word document has none
  CHECK(CountVectorizer(grams).fit({"not good", "dog"}).transform({"dog", "not good"}).indptr ==
        std::vector<std::int64_t>{0, 0, 1});
}

TEST_CASE("golden: CountVectorizer matches scikit-learn") {
  const std::vector<std::string> docs = corpus();
  REQUIRE(docs.size() == 12);
  struct Case {
    const char* stem;
    CountVectorizerOptions options;
  };
  CountVectorizerOptions binary_min_df2, max_features, max_df;
  binary_min_df2.binary = true;
  binary_min_df2.min_df = 2;
  max_features.max_features = 7;
  max_df.max_df = 0.2;
  CountVectorizerOptions bigrams;
  bigrams.ngram_max = 2;
  for (const Case& c : {Case{"count_default", {}}, Case{"count_binary_min_df2", binary_min_df2},
                        Case{"count_max_features", max_features}, Case{"count_max_df", max_df},
                        Case{"count_ngram_1_2", bigrams}}) {
    INFO(c.stem);
    CountVectorizer cv(c.options);
    const CsrMatrix m = cv.fit_transform(docs);
    CHECK(cv.feature_names() == read_lines(fixture(std::string(c.stem) + "_vocab.txt")));
    check_matrix(m, c.stem);
  }
}

TEST_CASE("golden: TfidfVectorizer matches scikit-learn") {
  const std::vector<std::string> docs = corpus();
  struct Case {
    const char* stem;
    TfidfVectorizerOptions options;
  };
  TfidfVectorizerOptions sublinear, noidf, binary;
  sublinear.sublinear_tf = true;
  sublinear.norm = TfidfNorm::l1;
  sublinear.smooth_idf = false;
  noidf.use_idf = false;
  noidf.norm = TfidfNorm::none;
  binary.counts.binary = true;
  binary.counts.min_df = 2;
  TfidfVectorizerOptions grams;
  grams.counts.ngram_min = 2;
  grams.counts.ngram_max = 3;
  grams.counts.min_df = 2;
  grams.sublinear_tf = true;
  for (const Case& c : {Case{"tfidf_default", {}}, Case{"tfidf_sublinear_l1_nosmooth", sublinear},
                        Case{"tfidf_noidf_nonorm", noidf}, Case{"tfidf_binary_min_df2", binary},
                        Case{"tfidf_ngram_2_3_min_df2", grams}}) {
    INFO(c.stem);
    TfidfVectorizer tv(c.options);
    const CsrMatrix m = tv.fit_transform(docs);
    CHECK(tv.feature_names() == read_lines(fixture(std::string(c.stem) + "_vocab.txt")));
    check_matrix(m, c.stem);
    if (c.options.use_idf) check_idf(tv.idf(), c.stem);
  }
}

TEST_CASE("golden: TF-IDF of the real imdb_labelled.txt matches scikit-learn") {
  const std::string path = std::string(RECSYS_SHARED_DATA) + "/uci-sentiment-labelled-sentences/imdb_labelled.txt";
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: ", path, " is absent (the shared data sets live in ../shared/data)");
    return;
  }
  CsvOptions o;
  o.delimiter = '\t';
  o.quoting = false;
  o.header = false;
  o.names = {"sentence", "label"};
  o.na_values = {};
  const Table t = read_csv(path, o);
  std::vector<std::string> docs;
  for (std::int64_t i = 0; i < t.num_rows(); ++i) docs.emplace_back(t.column("sentence").string_at(i));
  TfidfVectorizer tv;
  const CsrMatrix m = tv.fit_transform(docs);
  CHECK(tv.feature_names() == read_lines(fixture("imdb_tfidf_vocab.txt")));
  check_idf(tv.idf(), "imdb_tfidf");
  const Table rows = read_csv(fixture("imdb_tfidf_rows.csv"));
  REQUIRE(rows.num_rows() == m.rows);
  for (std::int64_t r = 0; r < m.rows; ++r) {
    INFO("row ", r);
    const auto b = m.indptr[static_cast<std::size_t>(r)], e = m.indptr[static_cast<std::size_t>(r) + 1];
    double sum = 0, top = 0, weighted = 0;
    for (auto k = b; k < e; ++k) {
      const double v = m.data[static_cast<std::size_t>(k)];
      sum += v;
      top = std::max(top, v);
      weighted += static_cast<double>(m.indices[static_cast<std::size_t>(k)]) * v;
    }
    CHECK(e - b == rows.column("nnz").int_at(r));
    CHECK(std::fabs(sum - rows.column("sum").number_at(r)) <= 1e-9);
    CHECK(std::fabs(top - rows.column("max").number_at(r)) <= 1e-9);
    CHECK(std::fabs(weighted - rows.column("col_weighted_sum").number_at(r)) <= 1e-9 * std::max(1.0, weighted));
  }
}

TEST_CASE("vectorizer errors") {
  CountVectorizerOptions o;
  o.min_df = 0;
  CHECK_THROWS_WITH_AS(CountVectorizer{o}, doctest::Contains("CountVectorizer: min_df must be >= 1, got 0"), Error);
  o = {};
  o.max_df = 1.5;
  CHECK_THROWS_WITH_AS(CountVectorizer{o}, doctest::Contains("CountVectorizer: max_df must be in (0, 1], got 1.5"),
                       Error);
  o = {};
  o.max_features = -3;
  CHECK_THROWS_WITH_AS(CountVectorizer{o}, doctest::Contains("max_features must be >= 0, got -3"), Error);
  o = {};
  o.ngram_min = 2;
  CHECK_THROWS_WITH_AS(CountVectorizer{o}, doctest::Contains("ngram range must satisfy 1 <= min <= max, got (2, 1)"),
                       Error);
  CHECK_THROWS_WITH_AS(CountVectorizer().fit({"", "a !"}),
                       doctest::Contains("CountVectorizer: empty vocabulary; the documents hold no tokens"), Error);
  o = {};
  o.min_df = 2;
  CHECK_THROWS_WITH_AS(CountVectorizer(o).fit({"aa bb", "cc"}),
                       doctest::Contains("after pruning, no terms remain; lower min_df or raise max_df"), Error);
  o.min_df = 3;
  o.max_df = 0.5;
  CHECK_THROWS_WITH_AS(CountVectorizer(o).fit({"aa bb", "aa"}),
                       doctest::Contains("max_df (0.5 of 2 documents) allows fewer documents than min_df (3)"), Error);
  CHECK_THROWS_WITH_AS(CountVectorizer().transform({"x"}),
                       doctest::Contains("CountVectorizer: transform() before fit()"), Error);
  CHECK_THROWS_WITH_AS(TfidfVectorizer().transform({"x"}),
                       doctest::Contains("TfidfVectorizer: transform() before fit()"), Error);
  CsrMatrix m;
  m.rows = 1;
  m.cols = 1;
  m.indptr = {0, 0};
  CHECK_THROWS_WITH_AS(m.at(1, 0), doctest::Contains("CsrMatrix: (1, 0) is outside 1x1"), Error);
}
