// tests/io/sha256_test.cpp — SHA-256 against the FIPS 180-2 examples and values from Python's hashlib (padding
// boundaries, a million bytes, pieces of every size), and of a file.
#include <recsys/io/sha256.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.hpp"

using recsys::io::Sha256;
using recsys::io::sha256_hex;

TEST_CASE("sha256: the FIPS 180-2 examples") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopq"
                   "rstnopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: lengths around the padding boundary (hashlib values)") {
  CHECK(sha256_hex(std::string(55, 'x')) == "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  CHECK(sha256_hex(std::string(56, 'x')) == "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
  CHECK(sha256_hex(std::string(63, 'x')) == "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2");
  CHECK(sha256_hex(std::string(64, 'x')) == "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
  CHECK(sha256_hex(std::string(65, 'x')) == "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9");
}

TEST_CASE("sha256: fed in pieces of any size, the digest is the same") {
  std::string bytes;
  for (int r = 0; r < 3; ++r)
    for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  const std::string want = "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363";  // hashlib
  CHECK(sha256_hex(bytes) == want);
  for (std::size_t piece : {1, 3, 63, 64, 65, 100, 767}) {
    Sha256 s;
    for (std::size_t at = 0; at < bytes.size(); at += piece) s.update(bytes.substr(at, piece));
    CHECK_MESSAGE(s.hex() == want, "pieces of ", piece);
  }
  Sha256 s;
  s.update("ab");
  (void)s.hex();
  s.reset();
  s.update("abc");
  CHECK(s.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("sha256: a file digest and size, and a missing file named") {
  const std::filesystem::path path = std::filesystem::temp_directory_path() / "recsys_sha256_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(200000, 'a');
  }
  const recsys::io::FileDigest d = recsys::io::sha256_file(path.string());
  CHECK(d.size == 200000);
  CHECK(d.sha256 == sha256_hex(std::string(200000, 'a')));
  std::filesystem::remove(path);
  CHECK_THROWS_WITH_AS(recsys::io::sha256_file(path.string()), doctest::Contains("recsys_sha256_test.bin"), recsys::Error);
}
