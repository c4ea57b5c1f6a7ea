// recsys/data/text.hpp — text to ids: Tokenizer, Vocabulary (Keras' Tokenizer), texts_to_sequences, pad_sequences.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/data/utf8.hpp"

namespace recsys::data {

/// How text is cut into tokens.
struct TokenizerOptions {
  bool lowercase = true;
  /// ASCII characters that separate tokens, besides whitespace. The default is Keras' Tokenizer
  /// filters (all ASCII punctuation except the apostrophe, so "don't" stays one token).
  std::string filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
  /// Tokens shorter than this many characters (not bytes) are dropped.
  std::size_t min_length = 1;

  /// Keras' tf.keras.preprocessing.text.Tokenizer defaults (the same as TokenizerOptions{}).
  static TokenizerOptions keras() { return {}; }
  /// scikit-learn's CountVectorizer default, token_pattern r"(?u)\b\w\w+\b": runs of two or more
  /// word characters (letters, digits, '_'); every other character separates.
  static TokenizerOptions sklearn() {
    TokenizerOptions o;
    o.filters = "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~";
    o.min_length = 2;
    return o;
  }
};

/// Splits text into lowercase tokens on whitespace and punctuation. UTF-8 safe: it walks whole
/// characters, so a multi-byte character is never split, and invalid bytes act as separators, so
/// every token is valid UTF-8. Non-ASCII punctuation, symbols and spaces (utf8::is_separator)
/// separate too; lowercasing covers ASCII, Latin-1/Extended-A, Greek and Cyrillic.
class Tokenizer {
 public:
  explicit Tokenizer(TokenizerOptions options = {}) : options_(std::move(options)) {
    for (unsigned char c : std::string_view(" \t\n\r\v\f")) sep_[c] = true;
    for (unsigned char c : options_.filters) {
      RECSYS_CHECK(c < 0x80, "Tokenizer: filters must be ASCII characters, got byte ", static_cast<int>(c));
      sep_[c] = true;
    }
  }

  /// Calls f(std::string_view token) for each token of `text` (the view lives until f returns).
  template <class F>
  void for_each_token(std::string_view text, F&& f) const {
    std::string token;
    std::size_t chars = 0;
    auto flush = [&] {
      if (!token.empty() && chars >= options_.min_length) f(std::string_view(token));
      token.clear();
      chars = 0;
    };
    for (std::size_t i = 0; i < text.size();) {
      const auto b = static_cast<unsigned char>(text[i]);
      if (b < 0x80) {  // ASCII fast path
        ++i;
        if (sep_[b]) {
          flush();
        } else {
          token.push_back(options_.lowercase && b >= 'A' && b <= 'Z' ? static_cast<char>(b + 32)
                                                                     : static_cast<char>(b));
          ++chars;
        }
        continue;
      }
      char32_t cp;
      const std::size_t n = utf8::decode(text, i, cp);
      if (utf8::is_separator(cp)) {
        flush();
      } else if (options_.lowercase) {
        utf8::append(token, utf8::to_lower(cp));
        ++chars;
      } else {
        token.append(text.substr(i, n));
        ++chars;
      }
      i += n;
    }
    flush();
  }

  /// The tokens of `text`.
  std::vector<std::string> tokenize(std::string_view text) const {
    std::vector<std::string> out;
    for_each_token(text, [&](std::string_view t) { out.emplace_back(t); });
    return out;
  }

  const TokenizerOptions& options() const { return options_; }

 private:
  TokenizerOptions options_;
  bool sep_[128] = {};
};

/// How a Vocabulary is fitted.
struct VocabularyOptions {
  std::int64_t max_features = 0;  ///< keep only the most frequent words (0: all)
  std::int64_t min_df = 1;        ///< drop words that occur in fewer documents
  /// true: index 1 is the out-of-vocabulary id and unknown words map to it. false: words start
  /// at 1 and unknown words are dropped (Keras' Tokenizer without oov_token).
  bool oov = true;
};

/// Word ↔ id map fitted on a corpus. Id 0 is padding and, with options.oov, id 1 is
/// out-of-vocabulary; words follow by total count, most frequent first, ties broken by first
/// appearance in the corpus (the order Keras builds word_index in).
///
/// Keras correspondence (same sequences for the same texts):
///   Tokenizer(num_words=N)                  ≡ VocabularyOptions{.max_features = N - 1, .oov = false}
///   Tokenizer(num_words=N, oov_token="<u>") ≡ VocabularyOptions{.max_features = N - 2, .oov = true}
/// (Keras keeps ids below num_words; its index 0 is never a word, and the OOV token takes index 1.)
///
/// The seed's pipeline, Keras then recsys:
///   tok = Tokenizer(num_words=1000); tok.fit_on_texts(texts)
///   x = pad_sequences(tok.texts_to_sequences(texts), maxlen=100)
///
///   const Vocabulary vocab = Vocabulary::fit(texts, Tokenizer(), {.max_features = 999, .oov = false});
///   const Tensor x = pad_sequences(vocab.texts_to_sequences(texts), {.maxlen = 100});  // (n, 100) int32
class Vocabulary {
 public:
  static constexpr std::int64_t kPad = 0;
  static constexpr std::int64_t kOov = 1;

  Vocabulary() = default;

  /// Fits on `texts`, tokenized by `tokenizer`.
  static Vocabulary fit(const std::vector<std::string>& texts, const Tokenizer& tokenizer = Tokenizer(),
                        VocabularyOptions options = {}) {
    RECSYS_CHECK(options.max_features >= 0, "Vocabulary: max_features must be >= 0, got ", options.max_features);
    RECSYS_CHECK(options.min_df >= 1, "Vocabulary: min_df must be >= 1, got ", options.min_df);
    struct Stats {
      std::int64_t count = 0, df = 0, first = 0, last_doc = -1;
    };
    std::unordered_map<std::string, Stats> stats;
    std::vector<const std::string*> order;  // words by first appearance
    for (std::size_t d = 0; d < texts.size(); ++d) {
      tokenizer.for_each_token(texts[d], [&](std::string_view tok) {
        auto [it, fresh] = stats.try_emplace(std::string(tok));
        Stats& s = it->second;
        if (fresh) {
          s.first = static_cast<std::int64_t>(order.size());
          order.push_back(&it->first);
        }
        ++s.count;
        if (s.last_doc != static_cast<std::int64_t>(d)) {
          ++s.df;
          s.last_doc = static_cast<std::int64_t>(d);
        }
      });
    }
    std::vector<const std::string*> kept;
    for (const std::string* w : order)
      if (stats.at(*w).df >= options.min_df) kept.push_back(w);
    std::stable_sort(kept.begin(), kept.end(), [&](const std::string* a, const std::string* b) {
      return stats.at(*a).count > stats.at(*b).count;
    });
    if (options.max_features > 0 && static_cast<std::int64_t>(kept.size()) > options.max_features)
      kept.resize(static_cast<std::size_t>(options.max_features));

    Vocabulary v;
    v.tokenizer_ = tokenizer;
    v.oov_ = options.oov;
    v.words_.push_back("<pad>");
    v.counts_.push_back(0);
    if (v.oov_) {
      v.words_.push_back("<oov>");
      v.counts_.push_back(0);
    }
    for (const std::string* w : kept) {
      v.index_.emplace(*w, static_cast<std::int64_t>(v.words_.size()));
      v.words_.push_back(*w);
      v.counts_.push_back(stats.at(*w).count);
    }
    return v;
  }

  /// Number of ids, the reserved ones included (the Embedding's input_dim).
  std::int64_t size() const { return static_cast<std::int64_t>(words_.size()); }
  bool has_oov() const { return oov_; }
  /// Id of `word`: kOov (or -1 without oov) when unknown.
  std::int64_t index(std::string_view word) const {
    const auto it = index_.find(std::string(word));
    return it != index_.end() ? it->second : (oov_ ? kOov : -1);
  }
  /// The word with id `i` ("<pad>", "<oov>" for the reserved ids).
  const std::string& word(std::int64_t i) const {
    RECSYS_CHECK(i >= 0 && i < size(), "Vocabulary: id ", i, " out of range for ", size(), " ids");
    return words_[static_cast<std::size_t>(i)];
  }
  /// Corpus count of the word with id `i` (0 for the reserved ids).
  std::int64_t count(std::int64_t i) const { return (void)word(i), counts_[static_cast<std::size_t>(i)]; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

  /// Ids of the tokens of `text` (unknown words → kOov, or dropped without oov).
  std::vector<std::int64_t> encode(std::string_view text) const {
    std::vector<std::int64_t> ids;
    tokenizer_.for_each_token(text, [&](std::string_view tok) {
      const std::int64_t id = index(tok);
      if (id >= 0) ids.push_back(id);
    });
    return ids;
  }
  /// encode() of each text (Keras texts_to_sequences).
  std::vector<std::vector<std::int64_t>> texts_to_sequences(const std::vector<std::string>& texts) const {
    std::vector<std::vector<std::int64_t>> out;
    out.reserve(texts.size());
    for (const std::string& t : texts) out.push_back(encode(t));
    return out;
  }

 private:
  Tokenizer tokenizer_;
  bool oov_ = true;
  std::vector<std::string> words_;
  std::vector<std::int64_t> counts_;
  std::unordered_map<std::string, std::int64_t> index_;
};

/// Where pad_sequences adds or removes ids.
enum class PadSide : std::uint8_t { pre, post };

/// pad_sequences' options; the defaults are Keras' (maxlen=None, padding='pre', truncating='pre',
/// value=0, dtype='int32').
struct PadOptions {
  std::optional<std::int64_t> maxlen;  ///< none: the longest sequence
  PadSide padding = PadSide::pre;      ///< pre: zeros before the ids (the ids end the row)
  PadSide truncating = PadSide::pre;   ///< pre: drop ids from the start (keep the last maxlen)
  std::int64_t value = 0;
  DType dtype = DType::int32;
};

/// Sequences as a (n, maxlen) tensor with Keras' pad_sequences semantics.
inline Tensor pad_sequences(const std::vector<std::vector<std::int64_t>>& sequences, const PadOptions& options = {}) {
  std::int64_t maxlen = 0;
  if (options.maxlen) {
    maxlen = *options.maxlen;
    RECSYS_CHECK(maxlen >= 0, "pad_sequences: maxlen must be non-negative, got ", maxlen);
  } else {
    for (const auto& s : sequences) maxlen = std::max(maxlen, static_cast<std::int64_t>(s.size()));
  }
  const auto n = static_cast<std::int64_t>(sequences.size());
  Tensor out = Tensor::empty({n, maxlen}, options.dtype);
  visit_dtype(options.dtype, [&]<class T>() {
    if constexpr (std::is_integral_v<T>) {
      RECSYS_CHECK(options.value >= std::numeric_limits<T>::min() && options.value <= std::numeric_limits<T>::max(),
                   "pad_sequences: value ", options.value, " does not fit ", options.dtype);
    }
    T* o = out.data<T>();
    for (std::int64_t r = 0; r < n; ++r) {
      const auto& s = sequences[static_cast<std::size_t>(r)];
      const auto len = static_cast<std::int64_t>(s.size());
      const std::int64_t keep = std::min(len, maxlen);
      const std::int64_t from = options.truncating == PadSide::pre ? len - keep : 0;  // first kept id
      const std::int64_t at = options.padding == PadSide::pre ? maxlen - keep : 0;    // where it lands
      T* row = o + r * maxlen;
      std::fill(row, row + maxlen, static_cast<T>(options.value));
      for (std::int64_t k = 0; k < keep; ++k) {
        const std::int64_t id = s[static_cast<std::size_t>(from + k)];
        if constexpr (std::is_integral_v<T>) {
          RECSYS_CHECK(id >= std::numeric_limits<T>::min() && id <= std::numeric_limits<T>::max(), "pad_sequences: id ",
                       id, " in sequence ", r, " does not fit ", options.dtype);
        }
        row[at + k] = static_cast<T>(id);
      }
    }
  });
  return out;
}

}  // namespace recsys::data
