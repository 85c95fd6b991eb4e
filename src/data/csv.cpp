// read_csv: a small RFC 4180 reader (quotes, CRLF, BOM) feeding locale-independent from_chars.

#include <tapegrad/data/csv.hpp>
#include <tapegrad/error.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace tg::data {
namespace {

struct Record {
  int64_t line;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("read_csv: cannot open '{}'", path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Splits the text into records of fields; blank lines are skipped.
std::vector<Record> split_records(const std::string& path, std::string_view text, char delimiter) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte-order mark
  std::vector<Record> records;
  Record current{1, {}};
  std::string field;
  bool quoted = false, field_started = false;
  int64_t line = 1;
  const auto end_field = [&] {
    current.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  const auto end_record = [&] {
    if (field_started || !current.fields.empty()) {
      end_field();
      records.push_back(std::move(current));
    }
    current = Record{line, {}};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = field_started = true;
    } else if (c == delimiter) {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_record();
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) fail("read_csv: {} line {}: a quoted field is not closed", path, current.line);
  end_record();
  return records;
}

double parse_number(const std::string& path, const Record& record, size_t column) {
  std::string_view cell = record.fields[column];
  while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
  while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (cell.empty() || error != std::errc() || end != cell.data() + cell.size()) {
    fail("read_csv: {} line {}, column {}: cannot read '{}' as a number", path, record.line,
         column + 1, record.fields[column]);
  }
  // NaN and Inf would poison training silently; a value beyond Float32's range would become Inf.
  if (!std::isfinite(value) || std::abs(value) > std::numeric_limits<float>::max()) {
    fail("read_csv: {} line {}, column {}: '{}' is not a finite Float32 number", path, record.line,
         column + 1, record.fields[column]);
  }
  return value;
}

// A whole number in [0, 2^53]: exactly representable, so the conversion is safe and exact.
bool is_class_label(double value) {
  return value >= 0 && value <= 9007199254740992.0 && value == std::floor(value);
}

}  // namespace

TensorDataset read_csv(const std::string& path, CsvOptions options) {
  if (options.target_dtype != Dtype::Float32 && options.target_dtype != Dtype::Float64 &&
      options.target_dtype != Dtype::Int64) {
    fail("read_csv: unsupported target dtype {}", options.target_dtype);
  }
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    fail("read_csv: the delimiter cannot be a quote or a line break (got code {})",
         static_cast<int>(options.delimiter));
  }
  std::vector<Record> records = split_records(path, read_file(path), options.delimiter);
  const size_t first = options.has_header ? 1 : 0;
  if (records.size() <= first) fail("read_csv: {} has no data rows", path);
  const size_t columns = records[first].fields.size();
  if (columns < 2) {
    fail("read_csv: {} line {}: expected at least 2 columns (inputs and a target), got {}", path,
         records[first].line, columns);
  }
  const auto count = static_cast<int64_t>(columns);
  if (options.target_column < -count || options.target_column >= count) {
    fail("read_csv: target_column {} out of range for {} columns", options.target_column, columns);
  }
  const size_t target = static_cast<size_t>((options.target_column + count) % count);
  const auto rows = static_cast<int64_t>(records.size() - first);

  std::vector<float> inputs;
  inputs.reserve(static_cast<size_t>(rows) * (columns - 1));
  std::vector<double> targets;
  for (size_t r = first; r < records.size(); ++r) {
    const Record& record = records[r];
    if (record.fields.size() != columns) {
      fail("read_csv: {} line {}: expected {} columns, got {}", path, record.line, columns,
           record.fields.size());
    }
    for (size_t c = 0; c < columns; ++c) {
      const double value = parse_number(path, record, c);
      if (c != target) {
        inputs.push_back(static_cast<float>(value));
      } else if (options.target_dtype == Dtype::Int64 && !is_class_label(value)) {
        fail("read_csv: {} line {}, column {}: class label '{}' is not a non-negative integer",
             path, record.line, c + 1, record.fields[c]);
      } else {
        targets.push_back(value);
      }
    }
  }
  const Shape target_shape = options.target_dtype == Dtype::Int64 ? Shape{rows} : Shape{rows, 1};
  return {from_vector<float>(std::move(inputs), {rows, count - 1}),
          tensor(std::move(targets), target_shape, {.dtype = options.target_dtype})};
}

}  // namespace tg::data
