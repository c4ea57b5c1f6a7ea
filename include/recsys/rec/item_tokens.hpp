// recsys/rec/item_tokens.hpp — ItemTokens: each catalogue item as a fixed number of feature-token ids (its id, genres, director, actors, title words) over a vocabulary of the most frequent tokens; what the sequence models read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "recsys/data/text.hpp"
#include "recsys/io/json.hpp"
#include "recsys/rec/dataset.hpp"

namespace recsys::rec {

/// Item i is `per_item` token ids, in this order: its own id ("i:<id>"), genres ("g:"), director
/// ("d:"), actors ("a:"), title words ("w:"), cut to per_item and zero-padded at the end. The
/// vocabulary keeps the vocab_size - 2 tokens most frequent over the training interactions (id 0
/// pads, 1 stands for any rarer token), so ids of popular items and common features get their own
/// embeddings and the long tail shares one. Saved as its word list (to_json) and rebuilt from it.
class ItemTokens {
 public:
  ItemTokens() = default;

  /// Learns the vocabulary from `train`'s interactions (a token counts once per interaction of its item).
  static ItemTokens fit(const Dataset& train, std::int64_t per_item, std::int64_t vocab_size) {
    RECSYS_CHECK(per_item > 0, "ItemTokens: per_item must be positive, got ", per_item);
    RECSYS_CHECK(vocab_size >= 3, "ItemTokens: vocab_size must be at least 3 (padding, rare, one token), got ",
                 vocab_size);
    std::vector<std::string> item_text(static_cast<std::size_t>(train.num_items()));
    for (std::int64_t i = 0; i < train.num_items(); ++i) {
      std::string s;
      for (const std::string& t : features(train.item(i), per_item)) s += (s.empty() ? "" : " ") + t;
      item_text[static_cast<std::size_t>(i)] = std::move(s);
    }
    std::vector<std::string> docs;
    docs.reserve(static_cast<std::size_t>(train.size()));
    for (const Interaction& r : train.interactions()) docs.push_back(item_text[static_cast<std::size_t>(r.item)]);
    ItemTokens t;
    t.vocab_ = data::Vocabulary::fit(docs, splitter(), {.max_features = vocab_size - 2, .oov = true});
    t.assign(train, per_item);
    return t;
  }

  /// Rebuilds the tokens of a saved model: the word list of to_json(), the same catalogue.
  static ItemTokens from_json(const json::Value& words, const Dataset& train, std::int64_t per_item, const char* op) {
    std::vector<std::string> list;
    for (const json::Value& w : words.as_array()) list.push_back(w.as_string());
    ItemTokens t;
    t.vocab_ = data::Vocabulary::fit(list, splitter(), {.oov = true});  // each word once: ids in list order
    RECSYS_CHECK(t.vocab_.size() == static_cast<std::int64_t>(list.size()) + 2, op,
                 ": the saved vocabulary has repeated or empty tokens");
    t.assign(train, per_item);
    return t;
  }

  /// The vocabulary's words in id order (without padding and rare), for model.json.
  json::Value to_json() const {
    json::Value words = json::Value::array();
    for (std::int64_t i = 2; i < vocab_.size(); ++i) words.push_back(vocab_.word(i));
    return words;
  }

  const data::Vocabulary& vocabulary() const { return vocab_; }
  std::int64_t vocab_size() const { return vocab_.size(); }
  std::int64_t per_item() const { return per_item_; }
  /// Item i's token ids (per_item of them, 0-padded).
  std::span<const std::int32_t> of(std::int64_t i) const {
    const auto k = static_cast<std::size_t>(per_item_);
    return std::span<const std::int32_t>(ids_).subspan(static_cast<std::size_t>(i) * k, k);
  }

  /// Tokens are whole words separated by spaces ("g:Sci-Fi", "a:Ana_Silva"), case kept.
  static data::Tokenizer splitter() {
    data::TokenizerOptions t;
    t.filters = "";
    t.lowercase = false;
    return data::Tokenizer(t);
  }
  /// Item `it`'s feature tokens as text, in the documented order, at most k of them.
  static std::vector<std::string> features(const Item& it, std::int64_t k) {
    const auto no_spaces = [](std::string s) {
      std::replace(s.begin(), s.end(), ' ', '_');
      return s;
    };
    std::vector<std::string> t{"i:" + no_spaces(it.id)};
    for (const std::string& g : it.genres) t.push_back("g:" + no_spaces(g));
    if (!it.director.empty()) t.push_back("d:" + no_spaces(it.director));
    for (const std::string& a : it.actors) t.push_back("a:" + no_spaces(a));
    for (const std::string& w : data::Tokenizer().tokenize(it.title)) t.push_back("w:" + w);
    if (static_cast<std::int64_t>(t.size()) > k) t.resize(static_cast<std::size_t>(k));
    return t;
  }

 private:
  void assign(const Dataset& train, std::int64_t per_item) {
    per_item_ = per_item;
    const auto k = static_cast<std::size_t>(per_item);
    ids_.assign(static_cast<std::size_t>(train.num_items()) * k, 0);
    for (std::int64_t i = 0; i < train.num_items(); ++i) {
      const std::vector<std::string> t = features(train.item(i), per_item);
      for (std::size_t n = 0; n < t.size(); ++n)
        ids_[static_cast<std::size_t>(i) * k + n] = static_cast<std::int32_t>(vocab_.index(t[n]));
    }
  }

  data::Vocabulary vocab_;
  std::vector<std::int32_t> ids_;
  std::int64_t per_item_ = 0;
};

}  // namespace recsys::rec
