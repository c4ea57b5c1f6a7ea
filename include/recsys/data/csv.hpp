// recsys/data/csv.hpp — CSV/TSV input and output: the streaming CsvWriter, the chunked reader, write_csv.
#pragma once

#include <string>

#include "recsys/data/csv_reader.hpp"
#include "recsys/data/csv_writer.hpp"
#include "recsys/data/table.hpp"

namespace recsys::data {

/// Writes a table (header row, then one row per table row) through a CsvWriter.
inline void write_csv(const Table& table, CsvWriter& writer) {
  writer.row(table.names());
  for (std::int64_t i = 0; i < table.num_rows(); ++i) {
    for (const Column& c : table.columns()) {
      if (c.is_missing(i)) {
        writer.missing();
        continue;
      }
      switch (c.type()) {
        case ColumnType::int64: writer.field(c.int_at(i)); break;
        case ColumnType::float64: writer.field(c.float_at(i)); break;
        case ColumnType::string: writer.field(c.string_at(i)); break;
      }
    }
    writer.end_row();
  }
}
/// Writes a table to a CSV/TSV file.
inline void write_csv(const Table& table, const std::string& path, CsvWriteOptions options = {}) {
  CsvWriter writer(path, std::move(options));
  write_csv(table, writer);
  writer.close();
}

}  // namespace recsys::data
