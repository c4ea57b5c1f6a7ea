// recsys/data/csv.hpp — CSV/TSV input and output: the streaming CsvWriter and the CSV reader.
#pragma once

#include "recsys/data/csv_writer.hpp"
