// fuzz/csv_fuzz.cpp — libFuzzer harness for the CSV reader: no crash, errors only as recsys::Error, the same records
// for every buffer size, CsvWriter round trips, typed reading; and the tokenizer emits only valid UTF-8 tokens.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <recsys/data/csv.hpp>
#include <recsys/data/text.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace recsys;
using namespace recsys::data;

using Records = std::vector<std::vector<std::string>>;

/// Every record of `text`, or the error message (the outcome must not depend on the buffer size).
std::string records(const std::string& text, const CsvOptions& options, Records& out) {
  out.clear();
  try {
    CsvTokenizer tok(std::make_unique<StringSource>(text), "<fuzz>", options);
    std::vector<std::string_view> fields;
    while (tok.next(fields)) out.emplace_back(fields.begin(), fields.end());
    if (tok.bytes_consumed() != text.size()) std::abort();  // a successful parse reads everything
    return {};
  } catch (const Error& e) {
    return e.what();
  }
}

void check_utf8_tokens(const std::string& text) {
  Tokenizer(TokenizerOptions::sklearn()).for_each_token(text, [](std::string_view tok) {
    if (tok.empty()) std::abort();
    for (std::size_t i = 0; i < tok.size();) {
      char32_t cp;
      i += utf8::decode(tok, i, cp);
      if (cp == 0xFFFD) std::abort();  // invalid bytes must separate, never land inside a token
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // Byte 0 picks the options, the rest is the file.
  const std::uint8_t knobs = data[0];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  CsvOptions options;
  options.delimiter = ",\t;|"[knobs & 3];
  options.quoting = (knobs & 4) == 0;
  options.header = (knobs & 8) == 0;
  options.skip_blank_lines = (knobs & 16) == 0;
  if (knobs & 32) options.quote = '\'';

  // 1. The same records (or the same error) whatever the buffer size.
  Records big, small;
  options.buffer_bytes = 1 << 16;
  const std::string err_big = records(text, options, big);
  options.buffer_bytes = 4 + (knobs >> 6);
  const std::string err_small = records(text, options, small);
  if (err_big != err_small || big != small) std::abort();

  // 2. What CsvWriter writes reads back as the same records.
  if (err_big.empty() && options.quoting) {
    CsvWriteOptions w;
    w.delimiter = options.delimiter;
    w.quote = options.quote;
    w.line_terminator = (knobs & 64) ? "\r\n" : "\n";
    std::ostringstream os;
    {
      CsvWriter writer(os, w);
      for (const auto& r : big) writer.row(r);
      writer.close();
    }
    Records again;
    CsvOptions plain = options;
    plain.skip_blank_lines = false;
    if (!records(os.str(), plain, again).empty() || again != big) std::abort();
  }

  // 3. Typed reading, whole and in chunks: only recsys::Error may come out.
  try {
    const Table t = read_csv_string(text, options);
    for (const Column& c : t.columns())
      if (c.size() != t.num_rows()) std::abort();
  } catch (const Error&) {
  }
  try {
    CsvReader reader = CsvReader::from_string(text, options);
    while (auto chunk = reader.next_chunk(3)) (void)chunk;
  } catch (const Error&) {
  }

  check_utf8_tokens(text);
  return 0;
}
