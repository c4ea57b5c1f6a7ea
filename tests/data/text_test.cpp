// tests/data/text_test.cpp — Tokenizer (UTF-8 safety), Vocabulary (Keras order, OOV), pad_sequences (Keras).
#include <doctest/doctest.h>

#include <recsys/data/text.hpp>
#include <string>
#include <vector>

using namespace recsys;
using namespace recsys::data;

using Words = std::vector<std::string>;
using Ids = std::vector<std::int64_t>;

TEST_CASE("Tokenizer (Keras filters): lowercase, whitespace and punctuation, apostrophes kept") {
  const Tokenizer tok;
  CHECK(tok.tokenize("Hello, World! Don't stop.") == Words{"hello", "world", "don't", "stop"});
  CHECK(tok.tokenize("a must-see (10/10)\tfilm\r\nnext") == Words{"a", "must", "see", "10", "10", "film", "next"});
  CHECK(tok.tokenize("snake_case") == Words{"snake", "case"});  // '_' is among Keras' filters
  CHECK(tok.tokenize("   ").empty());
  CHECK(tok.tokenize("").empty());
  TokenizerOptions keep_case;
  keep_case.lowercase = false;
  CHECK(Tokenizer(keep_case).tokenize("Hi THERE") == Words{"Hi", "THERE"});
}

TEST_CASE("Tokenizer is UTF-8 safe") {
  const Tokenizer tok;
  CHECK(tok.tokenize("Café CRÈME naïve ÉLAN") == Words{"café", "crème", "naïve", "élan"});
  CHECK(tok.tokenize("日本語のテキスト") == Words{"日本語のテキスト"});  // multi-byte characters are never cut
  CHECK(tok.tokenize("ΑΒΓ Жук") == Words{"αβγ", "жук"});
  // Non-ASCII punctuation and spaces separate: em dash, curly quotes, ellipsis, NEL (U+0085), NBSP.
  CHECK(tok.tokenize("em\u2014dash \u201Cquoted\u201D wait\u2026 script\u0085was a\u00A0b") ==
        Words{"em", "dash", "quoted", "wait", "script", "was", "a", "b"});
  CHECK(tok.tokenize("x\xF0\x9F\x98\x80y") == Words{"x", "y"});  // an emoji separates
  // Invalid bytes separate, so every token is valid UTF-8.
  CHECK(tok.tokenize("ab\xFF"
                     "cd") == Words{"ab", "cd"});
  CHECK(tok.tokenize("ab\xC3") == Words{"ab"});  // truncated sequence at the end
  CHECK(tok.tokenize("\xC3(x") == Words{"x"});   // bad continuation byte
  CHECK(tok.tokenize("\xC0\xAF"
                     "z") == Words{"z"});              // overlong encoding of '/'
  CHECK(tok.tokenize("\xED\xA0\x80q") == Words{"q"});  // a UTF-16 surrogate is not UTF-8
  CHECK(tok.tokenize("İSTANBUL Ÿ") == Words{"istanbul", "ÿ"});
}

TEST_CASE("Tokenizer sklearn preset: runs of two or more word characters") {
  const Tokenizer tok(TokenizerOptions::sklearn());
  CHECK(tok.tokenize("I didn't like it, a 3.14 snake_case É éé") ==
        Words{"didn", "like", "it", "14", "snake_case", "éé"});
  CHECK(tok.options().min_length == 2);
}

TEST_CASE("Tokenizer rejects non-ASCII filters") {
  TokenizerOptions o;
  o.filters = "\xC3\xA9";
  CHECK_THROWS_WITH_AS(Tokenizer{o}, doctest::Contains("Tokenizer: filters must be ASCII characters, got byte 195"),
                       Error);
}

TEST_CASE("Vocabulary: frequency order, ties by first appearance, OOV and padding ids") {
  const std::vector<std::string> texts = {"the cat sat", "the dog sat", "a cat"};
  const Vocabulary v = Vocabulary::fit(texts);
  // counts: the 2, cat 2, sat 2, dog 1, a 1 — equal counts keep first-appearance order.
  CHECK(v.size() == 7);
  CHECK(v.word(Vocabulary::kPad) == "<pad>");
  CHECK(v.word(Vocabulary::kOov) == "<oov>");
  CHECK(Words{v.word(2), v.word(3), v.word(4), v.word(5), v.word(6)} == Words{"the", "cat", "sat", "dog", "a"});
  CHECK(v.count(2) == 2);
  CHECK(v.count(6) == 1);
  CHECK(v.index("dog") == 5);
  CHECK(v.index("bird") == Vocabulary::kOov);
  CHECK(v.encode("The bird sat!") == Ids{2, 1, 4});
  CHECK(v.texts_to_sequences({"a cat", ""}) == std::vector<Ids>{{6, 3}, {}});

  const Vocabulary top2 = Vocabulary::fit(texts, Tokenizer(), {.max_features = 2});
  CHECK(top2.size() == 4);
  CHECK(top2.encode("the sat cat") == Ids{2, 1, 3});
  const Vocabulary common = Vocabulary::fit(texts, Tokenizer(), {.min_df = 2});
  CHECK(common.size() == 5);
  CHECK(common.encode("dog sat") == Ids{1, 4});
}

TEST_CASE("Vocabulary reproduces Keras' Tokenizer(num_words) sequences") {
  // Keras: Tokenizer(num_words=3).fit_on_texts(texts) gives word_index the=1, cat=2, sat=3, dog=4,
  // a=5 and keeps ids below 3, dropping the rest.
  const std::vector<std::string> texts = {"the cat sat", "the dog sat", "a cat"};
  const Vocabulary keras =
      Vocabulary::fit(texts, Tokenizer(TokenizerOptions::keras()), {.max_features = 2, .oov = false});
  CHECK_FALSE(keras.has_oov());
  CHECK(keras.index("the") == 1);
  CHECK(keras.index("sat") == -1);
  CHECK(keras.encode("the bird sat cat") == Ids{1, 2});
  // Keras with oov_token="<u>", num_words=4: the=2, cat=3; everything else becomes 1.
  const Vocabulary with_oov = Vocabulary::fit(texts, Tokenizer(), {.max_features = 2, .oov = true});
  CHECK(with_oov.encode("the bird sat cat") == Ids{2, 1, 1, 3});
}

TEST_CASE("the seed's Keras pipeline: Tokenizer(num_words) + pad_sequences(maxlen)") {
  const std::vector<std::string> texts = {"Great movie, great cast!", "Boring movie.", "great"};
  const Vocabulary vocab = Vocabulary::fit(texts, Tokenizer(), {.max_features = 3, .oov = false});  // num_words=4
  const Tensor x = pad_sequences(vocab.texts_to_sequences(texts), {.maxlen = 4});
  // word_index: great=1, movie=2, cast=3, boring=4 (dropped: not below num_words).
  CHECK(x.shape() == Shape{3, 4});
  CHECK(x.to_vector<std::int64_t>() == Ids{1, 2, 1, 3, 0, 0, 0, 2, 0, 0, 0, 1});
}

TEST_CASE("Vocabulary errors") {
  CHECK_THROWS_WITH_AS(Vocabulary::fit({"a"}, Tokenizer(), {.max_features = -1}),
                       doctest::Contains("Vocabulary: max_features must be >= 0, got -1"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary::fit({"a"}, Tokenizer(), {.min_df = 0}),
                       doctest::Contains("Vocabulary: min_df must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary::fit({"a"}).word(5), doctest::Contains("Vocabulary: id 5 out of range for 3 ids"),
                       Error);
}

TEST_CASE("pad_sequences follows Keras") {
  const std::vector<Ids> seqs = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9, 10}, {}};
  const Tensor d = pad_sequences(seqs);  // maxlen = longest, pre padding
  CHECK(d.shape() == Shape{4, 5});
  CHECK(d.dtype() == DType::int32);  // Keras' default dtype
  CHECK(d.to_vector<std::int64_t>() == Ids{0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0});

  PadOptions o;
  o.maxlen = 3;
  CHECK(pad_sequences(seqs, o).to_vector<std::int64_t>() == Ids{1, 2, 3, 0, 4, 5, 8, 9, 10, 0, 0, 0});
  o.truncating = PadSide::post;
  CHECK(pad_sequences(seqs, o).to_vector<std::int64_t>() == Ids{1, 2, 3, 0, 4, 5, 6, 7, 8, 0, 0, 0});
  o.padding = PadSide::post;
  o.value = -1;
  o.dtype = DType::int64;
  const Tensor p = pad_sequences(seqs, o);
  CHECK(p.dtype() == DType::int64);
  CHECK(p.to_vector<std::int64_t>() == Ids{1, 2, 3, 4, 5, -1, 6, 7, 8, -1, -1, -1});
  o.maxlen = 0;
  CHECK(pad_sequences(seqs, o).shape() == Shape{4, 0});
  CHECK(pad_sequences({}).shape() == Shape{0, 0});
  PadOptions f;
  f.dtype = DType::float32;
  f.maxlen = 2;
  CHECK(pad_sequences({{7}}, f).to_vector<float>() == std::vector<float>{0, 7});
}

TEST_CASE("pad_sequences errors") {
  PadOptions o;
  o.maxlen = -2;
  CHECK_THROWS_WITH_AS(pad_sequences({{1}}, o), doctest::Contains("pad_sequences: maxlen must be non-negative, got -2"),
                       Error);
  PadOptions big;
  big.value = std::int64_t{1} << 40;
  CHECK_THROWS_WITH_AS(pad_sequences({{1}}, big),
                       doctest::Contains("pad_sequences: value 1099511627776 does not fit int32"), Error);
  CHECK_THROWS_WITH_AS(pad_sequences({{1}, {std::int64_t{1} << 33}}),
                       doctest::Contains("pad_sequences: id 8589934592 in sequence 1 does not fit int32"), Error);
}
