// tests/io/json_test.cpp — the strict JSON parser and writer: values, RFC 8259 corner cases, errors with positions.
#include <recsys/io/json.hpp>

#include <limits>
#include <string>

#include "test_util.hpp"

using recsys::Error;
namespace json = recsys::json;

TEST_CASE("json: parses every value type") {
  const json::Value v = json::parse(R"( {"a": [1, -2, 3.5, true, false, null], "b": {"c": "d"}, "e": ""} )");
  REQUIRE(v.is_object());
  CHECK(v.size() == 3);
  const json::Value& a = v.at("a");
  REQUIRE(a.size() == 6);
  CHECK(a.at(std::size_t{0}).as_int64() == 1);
  CHECK(a.at(std::size_t{1}).as_int64() == -2);
  CHECK(a.at(std::size_t{2}).as_double() == 3.5);
  CHECK_FALSE(a.at(std::size_t{2}).is_integer());
  CHECK(a.at(std::size_t{3}).as_bool());
  CHECK_FALSE(a.at(std::size_t{4}).as_bool());
  CHECK(a.at(std::size_t{5}).is_null());
  CHECK(v.at("b").at("c").as_string() == "d");
  CHECK(v.at("e").as_string().empty());
  CHECK(v.find("missing") == nullptr);
  // Members keep their order.
  CHECK(v.as_object()[0].first == "a");
  CHECK(v.as_object()[2].first == "e");
}

TEST_CASE("json: integers are exact to 64 bits") {
  CHECK(json::parse("18446744073709551615").as_uint64() == std::numeric_limits<std::uint64_t>::max());
  CHECK(json::parse("9007199254740993").as_uint64() == 9007199254740993ull);  // 2^53 + 1: not a double
  CHECK(json::parse("-9223372036854775808").as_int64() == std::numeric_limits<std::int64_t>::min());
  CHECK(json::parse("-0").as_int64() == 0);
  // Beyond 64 bits an integer literal becomes a double.
  const json::Value big = json::parse("18446744073709551616");
  CHECK_FALSE(big.is_integer());
  CHECK(big.as_double() == 18446744073709551616.0);
  CHECK_THROWS_WITH_AS(json::parse("-1").as_uint64(), doctest::Contains("expected a non-negative integer"), Error);
  CHECK_THROWS_WITH_AS(json::parse("1.0").as_uint64(), doctest::Contains("expected an integer"), Error);
  CHECK_THROWS_WITH_AS(json::parse("9223372036854775808").as_int64(), doctest::Contains("does not fit in int64"),
                       Error);
}

TEST_CASE("json: numbers follow the RFC grammar") {
  CHECK(json::parse("0.5e1").as_double() == 5.0);
  CHECK(json::parse("1E+2").as_double() == 100.0);
  CHECK(json::parse("-2.5e-3").as_double() == -2.5e-3);
  CHECK(json::parse("1e-400").as_double() == 0.0);  // underflow rounds to zero
  CHECK(json::parse("1e-310").as_double() == 1e-310);
  CHECK_THROWS_WITH_AS(json::parse("1e400"), doctest::Contains("too large for a double"), Error);
  CHECK_THROWS_WITH_AS(json::parse("01"), doctest::Contains("leading zeros"), Error);
  CHECK_THROWS_WITH_AS(json::parse("1."), doctest::Contains("digit after the decimal point"), Error);
  CHECK_THROWS_WITH_AS(json::parse(".5"), doctest::Contains("unexpected character '.'"), Error);
  CHECK_THROWS_WITH_AS(json::parse("+1"), doctest::Contains("unexpected character '+'"), Error);
  CHECK_THROWS_WITH_AS(json::parse("1e"), doctest::Contains("digit in the exponent"), Error);
  CHECK_THROWS_WITH_AS(json::parse("-"), doctest::Contains("expected a digit"), Error);
  CHECK_THROWS_WITH_AS(json::parse("NaN"), doctest::Contains("unexpected character 'N'"), Error);
  CHECK_THROWS_WITH_AS(json::parse("Infinity"), doctest::Contains("unexpected character 'I'"), Error);
}

TEST_CASE("json: strings decode escapes and validate UTF-8") {
  CHECK(json::parse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
  CHECK(json::parse(R"("\u00e9\u4e2d")").as_string() == "\xc3\xa9\xe4\xb8\xad");
  CHECK(json::parse(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");  // surrogate pair
  CHECK(json::parse("\"\xe4\xb8\xad\"").as_string() == "\xe4\xb8\xad");       // raw UTF-8 passes
  CHECK_THROWS_WITH_AS(json::parse(R"("\ud83d")"), doctest::Contains("high surrogate not followed"), Error);
  CHECK_THROWS_WITH_AS(json::parse(R"("\ude00")"), doctest::Contains("lone low surrogate"), Error);
  CHECK_THROWS_WITH_AS(json::parse(R"("\x")"), doctest::Contains("invalid escape '\\x'"), Error);
  CHECK_THROWS_WITH_AS(json::parse(R"("\u12g4")"), doctest::Contains("invalid hex digit"), Error);
  CHECK_THROWS_WITH_AS(json::parse("\"a\nb\""), doctest::Contains("control character"), Error);
  CHECK_THROWS_WITH_AS(json::parse("\"\xff\""), doctest::Contains("invalid UTF-8"), Error);
  CHECK_THROWS_WITH_AS(json::parse("\"\xc0\xaf\""), doctest::Contains("invalid UTF-8"), Error);      // overlong
  CHECK_THROWS_WITH_AS(json::parse("\"\xed\xa0\x80\""), doctest::Contains("invalid UTF-8"), Error);  // surrogate
  CHECK_THROWS_WITH_AS(json::parse("\"abc"), doctest::Contains("unterminated string"), Error);
}

TEST_CASE("json: errors name line and column") {
  CHECK_THROWS_WITH_AS(json::parse("{\n  \"a\": 1,\n  \"b\" 2\n}"),
                       doctest::Contains("json: line 3, column 7: expected ':' after an object key"), Error);
  CHECK_THROWS_WITH_AS(json::parse("[1, 2"), doctest::Contains("line 1, column 6: unexpected end of input in an array"),
                       Error);
  CHECK_THROWS_WITH_AS(json::parse("[1 2]"), doctest::Contains("expected ',' or ']'"), Error);
  CHECK_THROWS_WITH_AS(json::parse("{\"a\":1 \"b\":2}"), doctest::Contains("expected ',' or '}'"), Error);
  CHECK_THROWS_WITH_AS(json::parse("{1: 2}"), doctest::Contains("expected a string key"), Error);
  CHECK_THROWS_WITH_AS(json::parse("[1,]"), doctest::Contains("unexpected character ']'"), Error);
  CHECK_THROWS_WITH_AS(json::parse("{\"a\": 1, \"a\": 2}"), doctest::Contains("column 10: duplicate key \"a\""),
                       Error);
  CHECK_THROWS_WITH_AS(json::parse("1 2"), doctest::Contains("unexpected text after the JSON value"), Error);
  CHECK_THROWS_WITH_AS(json::parse(""), doctest::Contains("unexpected end of input"), Error);
  CHECK_THROWS_WITH_AS(json::parse("tru"), doctest::Contains("invalid literal"), Error);
  CHECK_THROWS_WITH_AS(json::parse("\x01"), doctest::Contains("unexpected character '\\x01'"), Error);
}

TEST_CASE("json: nesting is limited") {
  const std::string ok = std::string(256, '[') + std::string(256, ']');
  CHECK(json::parse(ok).is_array());
  const std::string deep = std::string(257, '[') + std::string(257, ']');
  CHECK_THROWS_WITH_AS(json::parse(deep), doctest::Contains("nested deeper than 256 levels"), Error);
  // Far deeper input must fail cleanly, not exhaust the stack.
  const std::string very_deep(1'000'000, '[');
  CHECK_THROWS_WITH_AS(json::parse(very_deep), doctest::Contains("nested deeper"), Error);
  CHECK_THROWS_WITH_AS(json::parse("[[1]]", {.max_depth = 1}), doctest::Contains("deeper than 1 levels"), Error);
}

TEST_CASE("json: accessors name the type they expected") {
  const json::Value v = json::parse(R"({"s": "x"})");
  CHECK_THROWS_WITH_AS(v.at("s").as_double(), doctest::Contains("expected a number, got a string"), Error);
  CHECK_THROWS_WITH_AS(v.at("nope"), doctest::Contains("no member 'nope'"), Error);
  CHECK_THROWS_WITH_AS(v.as_array(), doctest::Contains("expected an array, got an object"), Error);
  CHECK_THROWS_WITH_AS(json::parse("[1]").at(std::size_t{3}), doctest::Contains("index 3 is out of range"), Error);
}

TEST_CASE("json: writer output parses back to the same value") {
  json::Value v = json::Value::object();
  v["int"] = 42;
  v["neg"] = -7;
  v["big"] = std::uint64_t{18446744073709551615ull};
  v["min"] = std::numeric_limits<std::int64_t>::min();
  v["pi"] = 3.141592653589793;
  v["third"] = 1.0 / 3.0;
  v["three"] = 3.0;
  v["tiny"] = 5e-324;
  v["text"] = "quote\" backslash\\ tab\t nl\n ctl\x01 utf8 \xe4\xb8\xad";
  v["list"] = json::Array{1, 2.5, "x", nullptr, true};
  v["empty_list"] = json::Value::array();
  v["empty_obj"] = json::Value::object();
  for (int indent : {-1, 0, 2}) {
    const json::Value back = json::parse(json::dump(v, indent));
    CHECK(back == v);
    CHECK(back.at("three").is_number());
    CHECK_FALSE(back.at("three").is_integer());  // 3.0 stays a double
    CHECK(back.at("third").as_double() == 1.0 / 3.0);
    CHECK(back.at("big").as_uint64() == 18446744073709551615ull);
  }
  CHECK(json::dump(json::parse(R"({"a":[1,2],"b":"c"})")) == R"({"a":[1,2],"b":"c"})");
  CHECK(json::dump(json::parse(R"({"a":[1]})"), 2) == "{\n  \"a\": [\n    1\n  ]\n}");
  CHECK(json::dump(json::Value("\x01")) == "\"\\u0001\"");
}

TEST_CASE("json: writer refuses what JSON cannot hold") {
  CHECK_THROWS_WITH_AS(json::dump(json::Value(std::numeric_limits<double>::quiet_NaN())),
                       doctest::Contains("non-finite number"), Error);
  CHECK_THROWS_WITH_AS(json::dump(json::Value(std::numeric_limits<double>::infinity())),
                       doctest::Contains("non-finite number"), Error);
  CHECK_THROWS_WITH_AS(json::dump(json::Value("bad \xff byte")), doctest::Contains("not valid UTF-8 (byte 4)"), Error);
}
