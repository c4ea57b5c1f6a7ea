// tests/data/parse_number_test.cpp — number parsing: edge cases and the fast path against std::from_chars.
#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <recsys/core/random.hpp>
#include <recsys/data/parse_number.hpp>
#include <string>

using namespace recsys::data::detail;

TEST_CASE("parse_int64 edge cases") {
  std::int64_t v = 0;
  CHECK(parse_int64("0", v));
  CHECK(v == 0);
  CHECK(parse_int64("9223372036854775807", v));
  CHECK(v == std::numeric_limits<std::int64_t>::max());
  CHECK(parse_int64("-9223372036854775808", v));
  CHECK(v == std::numeric_limits<std::int64_t>::min());
  CHECK_FALSE(parse_int64("9223372036854775808", v));
  CHECK_FALSE(parse_int64("-9223372036854775809", v));
  CHECK_FALSE(parse_int64("99999999999999999999", v));
  CHECK(parse_int64("00000000000000000000042", v));  // long, but only leading zeros
  CHECK(v == 42);
  CHECK(parse_int64(" +17\t", v));
  CHECK(v == 17);
  CHECK(parse_int64("-0", v));
  CHECK(v == 0);
  for (const char* bad : {"", " ", "+", "-", "+-1", "--1", "1.0", "1e3", "0x10", "12a", "a12", "1 2"}) {
    INFO("'", bad, "'");
    CHECK_FALSE(parse_int64(bad, v));
  }
}

TEST_CASE("parse_double edge cases") {
  double d = 0;
  CHECK(parse_double("4.0", d));
  CHECK(d == 4.0);
  CHECK(parse_double(".5", d));
  CHECK(d == 0.5);
  CHECK(parse_double("5.", d));
  CHECK(d == 5.0);
  CHECK(parse_double(" -2.5e3 ", d));
  CHECK(d == -2500.0);
  CHECK(parse_double("+1E-2", d));
  CHECK(d == 0.01);
  CHECK(parse_double("-0.0", d));
  CHECK((d == 0.0 && std::signbit(d)));
  CHECK(parse_double("inf", d));
  CHECK(d == std::numeric_limits<double>::infinity());
  CHECK(parse_double("-Infinity", d));
  CHECK(d == -std::numeric_limits<double>::infinity());
  CHECK(parse_double("nan", d));
  CHECK(std::isnan(d));
  CHECK(parse_double("0.1234567890123456789", d));  // past the fast path
  CHECK(d == 0.1234567890123456789);
  for (const char* bad : {"", ".", "-", "+", "e5", "1e", "1.2.3", "--1", "+-1", "1,5", "0x1p3", "abc", "1 2"}) {
    INFO("'", bad, "'");
    CHECK_FALSE(parse_double(bad, d));
  }
}

TEST_CASE("parse_double's fast path rounds exactly like from_chars") {
  recsys::Generator gen(11);
  for (int i = 0; i < 200000; ++i) {
    // Up to 15 significant digits with the point anywhere: the fast path's whole domain.
    const int digits = 1 + static_cast<int>(gen.below(15));
    std::string s = std::to_string(gen.below(1000000000000000ull) % static_cast<std::uint64_t>(std::pow(10, digits)));
    const auto point = gen.below(s.size() + 1);
    s = s.substr(0, point) + "." + s.substr(point);
    if (gen.below(2)) s = "-" + s;
    double fast = 0, ref = 0;
    REQUIRE(parse_double(s, fast));
    const char* b = s.data() + (s[0] == '-' ? 1 : 0);
    REQUIRE(std::from_chars(b, s.data() + s.size(), ref).ec == std::errc());
    if (s[0] == '-') ref = -ref;
    INFO(s);
    REQUIRE(fast == ref);
  }
}

TEST_CASE("classify_number: integers, reals, text, identifiers with leading zeros") {
  std::int64_t i = 0;
  double d = 0;
  CHECK(classify_number("42", i, d) == NumberKind::integer);
  CHECK(i == 42);
  CHECK(classify_number("-7", i, d) == NumberKind::integer);
  CHECK(classify_number("0", i, d) == NumberKind::integer);
  CHECK(classify_number("4.5", i, d) == NumberKind::real);
  CHECK(d == 4.5);
  CHECK(classify_number("0.5", i, d) == NumberKind::real);
  CHECK(classify_number("1e300", i, d) == NumberKind::real);
  CHECK(classify_number("18446744073709551616", i, d) == NumberKind::real);  // past int64
  CHECK(classify_number("0114709", i, d) == NumberKind::text);
  CHECK(classify_number("-007", i, d) == NumberKind::text);
  CHECK(classify_number("00", i, d) == NumberKind::text);
  CHECK(classify_number("abc", i, d) == NumberKind::text);
  CHECK(classify_number("", i, d) == NumberKind::text);
}
