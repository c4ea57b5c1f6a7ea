// recsys/data/vectorizer.hpp — bag of words and TF-IDF as sparse CSR matrices (scikit-learn's Count/TfidfVectorizer).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/data/text.hpp"

namespace recsys::data {

/// A sparse matrix in compressed sparse row form: row r's entries are indices/data in
/// [indptr[r], indptr[r+1]), column indices ascending (scipy.sparse.csr_matrix's layout).
struct CsrMatrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int64_t> indices;
  std::vector<double> data;

  std::int64_t nnz() const { return static_cast<std::int64_t>(data.size()); }
  /// Entry (r, c), 0 where none is stored.
  double at(std::int64_t r, std::int64_t c) const {
    RECSYS_CHECK(r >= 0 && r < rows && c >= 0 && c < cols, "CsrMatrix: (", r, ", ", c, ") is outside ", rows, "x",
                 cols);
    const auto b = indices.begin() + indptr[static_cast<std::size_t>(r)];
    const auto e = indices.begin() + indptr[static_cast<std::size_t>(r) + 1];
    const auto it = std::lower_bound(b, e, c);
    return it != e && *it == c ? data[static_cast<std::size_t>(it - indices.begin())] : 0.0;
  }
  /// out[r] = Σ_c (r, c) · x[c]: the matrix times a dense vector of `cols` entries.
  void multiply(std::span<const double> x, std::span<double> out) const {
    RECSYS_CHECK(static_cast<std::int64_t>(x.size()) == cols && static_cast<std::int64_t>(out.size()) == rows,
                 "CsrMatrix::multiply: a ", rows, "x", cols, " matrix times ", x.size(), " entries into ", out.size());
    for (std::int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (std::int64_t k = indptr[static_cast<std::size_t>(r)]; k < indptr[static_cast<std::size_t>(r) + 1]; ++k)
        s += data[static_cast<std::size_t>(k)] * x[static_cast<std::size_t>(indices[static_cast<std::size_t>(k)])];
      out[static_cast<std::size_t>(r)] = s;
    }
  }
  /// out[c] += Σ_r (r, c) · y[r]: the transpose times a dense vector of `rows` entries, accumulated.
  void multiply_transposed_add(std::span<const double> y, std::span<double> out) const {
    RECSYS_CHECK(static_cast<std::int64_t>(y.size()) == rows && static_cast<std::int64_t>(out.size()) == cols,
                 "CsrMatrix::multiply_transposed_add: the transpose of a ", rows, "x", cols, " matrix times ", y.size(),
                 " entries into ", out.size());
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t k = indptr[static_cast<std::size_t>(r)]; k < indptr[static_cast<std::size_t>(r) + 1]; ++k)
        out[static_cast<std::size_t>(indices[static_cast<std::size_t>(k)])] +=
            data[static_cast<std::size_t>(k)] * y[static_cast<std::size_t>(r)];
  }

  /// The dense (rows, cols) tensor.
  Tensor to_dense(DType dtype = DType::float32) const {
    Tensor t = Tensor::empty({rows, cols}, dtype);
    visit_floating(dtype, "CsrMatrix::to_dense", [&]<class T>() {
      T* o = t.data<T>();
      std::fill(o, o + rows * cols, T(0));
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t k = indptr[static_cast<std::size_t>(r)]; k < indptr[static_cast<std::size_t>(r) + 1]; ++k)
          o[r * cols + indices[static_cast<std::size_t>(k)]] = static_cast<T>(data[static_cast<std::size_t>(k)]);
    });
    return t;
  }
};

/// CountVectorizer's options (the defaults are scikit-learn's).
struct CountVectorizerOptions {
  TokenizerOptions tokenizer = TokenizerOptions::sklearn();
  std::int64_t min_df = 1;        ///< keep terms in at least this many documents (sklearn min_df=<int>)
  double max_df = 1.0;            ///< keep terms in at most this fraction of documents (sklearn max_df=<float>)
  std::int64_t max_features = 0;  ///< keep the most frequent terms by total count (0: all); ties alphabetical
  bool binary = false;            ///< 1 for present terms instead of counts
  /// Word n-grams from ngram_min to ngram_max tokens, joined by one space (sklearn ngram_range):
  /// (1, 2) gives "not" and "not good" as well as "good".
  std::int64_t ngram_min = 1, ngram_max = 1;
};

/// Bag of words: the vocabulary is every term of the training documents (after min_df, max_df,
/// max_features), in alphabetical (code point) order; entry (d, t) counts term t in document d.
/// Same vocabulary and numbers as sklearn.feature_extraction.text.CountVectorizer with the same
/// options, given the same tokens (see TokenizerOptions::sklearn for the token rule).
class CountVectorizer {
 public:
  explicit CountVectorizer(CountVectorizerOptions options = {})
      : options_(std::move(options)), tokenizer_(options_.tokenizer) {
    RECSYS_CHECK(options_.min_df >= 1, "CountVectorizer: min_df must be >= 1, got ", options_.min_df);
    RECSYS_CHECK(options_.max_df > 0.0 && options_.max_df <= 1.0, "CountVectorizer: max_df must be in (0, 1], got ",
                 options_.max_df);
    RECSYS_CHECK(options_.max_features >= 0, "CountVectorizer: max_features must be >= 0, got ", options_.max_features);
    RECSYS_CHECK(options_.ngram_min >= 1 && options_.ngram_max >= options_.ngram_min,
                 "CountVectorizer: ngram range must satisfy 1 <= min <= max, got (", options_.ngram_min, ", ",
                 options_.ngram_max, ")");
  }

  /// Learns the vocabulary from `docs`.
  CountVectorizer& fit(const std::vector<std::string>& docs) {
    std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> stats;  // term -> (count, df)
    std::unordered_map<std::string, std::int64_t> seen_in_doc;
    for (std::size_t d = 0; d < docs.size(); ++d) {
      for_each_term(docs[d], [&](std::string_view tok) {
        auto& [count, df] = stats[std::string(tok)];
        auto [it, fresh] = seen_in_doc.try_emplace(std::string(tok), static_cast<std::int64_t>(d));
        if (fresh || it->second != static_cast<std::int64_t>(d)) {
          ++df;
          it->second = static_cast<std::int64_t>(d);
        }
        ++count;
      });
    }
    RECSYS_CHECK(!stats.empty(), "CountVectorizer: empty vocabulary; the documents hold no tokens");
    const double max_docs = options_.max_df * static_cast<double>(docs.size());
    RECSYS_CHECK(max_docs >= static_cast<double>(options_.min_df), "CountVectorizer: max_df (", options_.max_df, " of ",
                 docs.size(), " documents) allows fewer documents than min_df (", options_.min_df, ")");
    std::vector<std::string> terms;
    for (const auto& [term, s] : stats)
      if (s.second >= options_.min_df && static_cast<double>(s.second) <= max_docs) terms.push_back(term);
    std::sort(terms.begin(), terms.end());
    if (options_.max_features > 0 && static_cast<std::int64_t>(terms.size()) > options_.max_features) {
      // binary counts each term once per document, so its "frequency" is the document frequency.
      auto freq = [&](const std::string& t) { return options_.binary ? stats.at(t).second : stats.at(t).first; };
      std::stable_sort(terms.begin(), terms.end(), [&](const auto& a, const auto& b) { return freq(a) > freq(b); });
      terms.resize(static_cast<std::size_t>(options_.max_features));
      std::sort(terms.begin(), terms.end());
    }
    RECSYS_CHECK(!terms.empty(), "CountVectorizer: after pruning, no terms remain; lower min_df or raise max_df");
    features_ = std::move(terms);
    index_.clear();
    for (std::size_t i = 0; i < features_.size(); ++i) index_.emplace(features_[i], static_cast<std::int64_t>(i));
    return *this;
  }

  /// Term counts of `docs` over the fitted vocabulary (unknown terms are ignored).
  CsrMatrix transform(const std::vector<std::string>& docs) const {
    RECSYS_CHECK(!features_.empty(), "CountVectorizer: transform() before fit()");
    CsrMatrix m;
    m.rows = static_cast<std::int64_t>(docs.size());
    m.cols = static_cast<std::int64_t>(features_.size());
    std::vector<std::int64_t> cols;
    for (const std::string& doc : docs) {
      cols.clear();
      for_each_term(doc, [&](std::string_view tok) {
        const auto it = index_.find(std::string(tok));
        if (it != index_.end()) cols.push_back(it->second);
      });
      std::sort(cols.begin(), cols.end());
      for (std::size_t k = 0; k < cols.size();) {
        std::size_t e = k;
        while (e < cols.size() && cols[e] == cols[k]) ++e;
        m.indices.push_back(cols[k]);
        m.data.push_back(options_.binary ? 1.0 : static_cast<double>(e - k));
        k = e;
      }
      m.indptr.push_back(static_cast<std::int64_t>(m.indices.size()));
    }
    return m;
  }
  CsrMatrix fit_transform(const std::vector<std::string>& docs) { return fit(docs).transform(docs); }

  /// A vectorizer fitted earlier, from its vocabulary (feature_names(): distinct, ascending), as a
  /// saved model rebuilds it without the documents.
  CountVectorizer& set_vocabulary(std::vector<std::string> features) {
    RECSYS_CHECK(!features.empty(), "CountVectorizer: set_vocabulary needs at least one term");
    for (std::size_t i = 1; i < features.size(); ++i)
      RECSYS_CHECK(features[i - 1] < features[i], "CountVectorizer: set_vocabulary needs distinct terms in ascending ",
                   "order; term ", i, " '", features[i], "' follows '", features[i - 1], "'");
    features_ = std::move(features);
    index_.clear();
    for (std::size_t i = 0; i < features_.size(); ++i) index_.emplace(features_[i], static_cast<std::int64_t>(i));
    return *this;
  }

  /// The vocabulary in column order (sklearn get_feature_names_out()).
  const std::vector<std::string>& feature_names() const { return features_; }
  /// Column of `term`, or -1.
  std::int64_t index(std::string_view term) const {
    const auto it = index_.find(std::string(term));
    return it == index_.end() ? -1 : it->second;
  }
  const CountVectorizerOptions& options() const { return options_; }

 private:
  /// Calls f(term) for each term of `doc`: its tokens, or its word n-grams (sklearn's order: all
  /// n-grams of the shortest length first; the order does not change any count).
  template <class F>
  void for_each_term(std::string_view doc, F&& f) const {
    if (options_.ngram_max == 1) {
      tokenizer_.for_each_token(doc, f);
      return;
    }
    const std::vector<std::string> tokens = tokenizer_.tokenize(doc);
    std::string gram;
    for (std::int64_t n = options_.ngram_min; n <= options_.ngram_max; ++n)
      for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= tokens.size(); ++i) {
        gram = tokens[i];
        for (std::size_t k = 1; k < static_cast<std::size_t>(n); ++k) (gram += ' ') += tokens[i + k];
        f(std::string_view(gram));
      }
  }

  CountVectorizerOptions options_;
  Tokenizer tokenizer_;
  std::vector<std::string> features_;
  std::unordered_map<std::string, std::int64_t> index_;
};

/// Row normalization of TF-IDF vectors.
enum class TfidfNorm : std::uint8_t { l2, l1, none };

/// TfidfVectorizer's options (the defaults are scikit-learn's).
struct TfidfVectorizerOptions {
  CountVectorizerOptions counts;
  TfidfNorm norm = TfidfNorm::l2;
  bool use_idf = true;
  bool smooth_idf = true;     ///< idf = ln((1 + n) / (1 + df)) + 1; false: ln(n / df) + 1
  bool sublinear_tf = false;  ///< tf = 1 + ln(count)
};

/// TF-IDF: counts (CountVectorizer) scaled by idf and normalized per row; the same numbers as
/// sklearn.feature_extraction.text.TfidfVectorizer with the same options.
class TfidfVectorizer {
 public:
  explicit TfidfVectorizer(TfidfVectorizerOptions options = {}) : options_(options), counts_(options.counts) {}

  /// Learns the vocabulary and the idf weights from `docs`.
  TfidfVectorizer& fit(const std::vector<std::string>& docs) {
    const CsrMatrix c = counts_.fit(docs).transform(docs);
    std::vector<double> df(static_cast<std::size_t>(c.cols), 0.0);
    for (std::int64_t col : c.indices) df[static_cast<std::size_t>(col)] += 1;
    const double smooth = options_.smooth_idf ? 1.0 : 0.0;
    const double n = static_cast<double>(c.rows) + smooth;
    idf_.assign(df.size(), 1.0);
    if (options_.use_idf)
      for (std::size_t t = 0; t < df.size(); ++t) idf_[t] = std::log(n / (df[t] + smooth)) + 1.0;
    return *this;
  }

  /// TF-IDF rows of `docs` over the fitted vocabulary.
  CsrMatrix transform(const std::vector<std::string>& docs) const {
    RECSYS_CHECK(!idf_.empty(), "TfidfVectorizer: transform() before fit()");
    CsrMatrix m = counts_.transform(docs);
    for (std::int64_t r = 0; r < m.rows; ++r) {
      const auto b = static_cast<std::size_t>(m.indptr[static_cast<std::size_t>(r)]);
      const auto e = static_cast<std::size_t>(m.indptr[static_cast<std::size_t>(r) + 1]);
      double norm = 0;
      for (std::size_t k = b; k < e; ++k) {
        double& v = m.data[k];
        if (options_.sublinear_tf) v = 1.0 + std::log(v);
        v *= idf_[static_cast<std::size_t>(m.indices[k])];
        norm += options_.norm == TfidfNorm::l2 ? v * v : std::fabs(v);
      }
      if (options_.norm == TfidfNorm::l2) norm = std::sqrt(norm);
      if (options_.norm != TfidfNorm::none && norm > 0)
        for (std::size_t k = b; k < e; ++k) m.data[k] /= norm;
    }
    return m;
  }
  CsrMatrix fit_transform(const std::vector<std::string>& docs) { return fit(docs).transform(docs); }

  /// A vectorizer fitted earlier, from its vocabulary and idf weights (one per term, positive).
  TfidfVectorizer& set_vocabulary(std::vector<std::string> features, std::vector<double> idf) {
    RECSYS_CHECK(features.size() == idf.size(), "TfidfVectorizer: set_vocabulary got ", features.size(), " terms and ",
                 idf.size(), " idf weights");
    for (std::size_t t = 0; t < idf.size(); ++t)
      RECSYS_CHECK(std::isfinite(idf[t]) && idf[t] > 0, "TfidfVectorizer: idf weight ", t, " is ", idf[t],
                   "; expected a positive number");
    counts_.set_vocabulary(std::move(features));
    idf_ = std::move(idf);
    return *this;
  }

  const std::vector<std::string>& feature_names() const { return counts_.feature_names(); }
  std::int64_t index(std::string_view term) const { return counts_.index(term); }
  /// The idf weight of each column (all 1 without use_idf).
  const std::vector<double>& idf() const { return idf_; }

 private:
  TfidfVectorizerOptions options_;
  CountVectorizer counts_;
  std::vector<double> idf_;
};

}  // namespace recsys::data
