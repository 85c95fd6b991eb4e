// read_csv: a small streaming RFC 4180 reader (quotes, CRLF, BOM) feeding locale-independent
// from_chars.

#include <tapegrad/data/csv.hpp>
#include <tapegrad/error.hpp>

#include "data/regular_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

namespace tg::data {
namespace {

struct Record {
  int64_t line;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// The bytes of a regular file, read in chunks as the parser asks for them.
class ByteStream {
 public:
  ByteStream(const std::string& path, const char* op)
      : path_(path), op_(op), fd_(detail::open_regular_file(path, op).fd) {}
  ~ByteStream() { ::close(fd_); }
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  // The next byte without consuming it, or -1 at the end of the file.
  int peek() {
    return (next_ < end_ || refill()) ? static_cast<unsigned char>(buffer_[next_]) : -1;
  }
  int get() {
    const int c = peek();
    if (c >= 0) ++next_;
    return c;
  }
  // Consumes `prefix` if the file continues with it (its length at most kChunk).
  void skip(std::string_view prefix) {
    while (end_ - next_ < prefix.size() && fill_more()) {
    }
    if (std::string_view(buffer_.data() + next_, end_ - next_).starts_with(prefix))
      next_ += prefix.size();
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 16;

  bool refill() {
    next_ = end_ = 0;
    return fill_more();
  }
  // Appends what one read() gives to the unconsumed bytes; false at the end of the file.
  bool fill_more() {
    if (next_ > 0) {
      std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(next_),
                buffer_.begin() + static_cast<std::ptrdiff_t>(end_), buffer_.begin());
      end_ -= next_;
      next_ = 0;
    }
    ssize_t got = 0;
    do {
      got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    } while (got < 0 && errno == EINTR);
    if (got < 0) fail("{}: cannot read '{}': {}", op_, path_, std::strerror(errno));
    end_ += static_cast<size_t>(got);
    return got > 0;
  }

  std::string path_;
  const char* op_;
  int fd_;
  std::vector<char> buffer_ = std::vector<char>(kChunk);
  size_t next_ = 0, end_ = 0;
};

// Splits the file into records of fields, one record at a time; blank lines are skipped.
class RecordReader {
 public:
  RecordReader(const std::string& path, char delimiter)
      : path_(path), delimiter_(delimiter), bytes_(path, "read_csv") {
    bytes_.skip("\xEF\xBB\xBF");  // UTF-8 byte-order mark
  }

  // Fills `record` with the next record; false at the end of the file.
  bool next(Record& record) {
    record.fields.clear();
    record.line = line_;
    field_.clear();
    bool quoted = false, field_started = false;
    for (int c = bytes_.get(); c >= 0; c = bytes_.get()) {
      if (quoted) {
        if (c == '"' && bytes_.peek() == '"') {
          field_ += static_cast<char>(bytes_.get());
        } else if (c == '"') {
          quoted = false;
        } else {
          line_ += c == '\n';
          field_ += static_cast<char>(c);
        }
      } else if (c == '"') {
        quoted = field_started = true;
      } else if (c == delimiter_) {
        end_field(record);
        field_started = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && bytes_.peek() == '\n') bytes_.get();
        ++line_;
        if (field_started || !record.fields.empty()) {
          end_field(record);
          return true;
        }
        record.line = line_;  // a blank line: the record starts on the next one
      } else {
        field_ += static_cast<char>(c);
        field_started = true;
      }
    }
    if (quoted) fail("read_csv: {} line {}: a quoted field is not closed", path_, record.line);
    if (!field_started && record.fields.empty()) return false;  // nothing after the last line end
    end_field(record);                                          // the last record has no line end
    return true;
  }

 private:
  void end_field(Record& record) {
    record.fields.push_back(field_);
    field_.clear();
  }

  std::string path_;
  char delimiter_;
  ByteStream bytes_;
  int64_t line_ = 1;
  std::string field_;  // kept between records so its capacity is reused
};

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

// Float32 values in chunks of 1 Mi: growing costs no copy of what was read before (a vector
// would double and copy), and the tensor is allocated once, at the exact size.
class ChunkedValues {
 public:
  void push_back(float value) {
    if (chunks_.empty() || chunks_.back().size() == kChunk) {
      chunks_.emplace_back();
      chunks_.back().reserve(kChunk);
    }
    chunks_.back().push_back(value);
  }
  // Moves the values into a tensor of `shape`, freeing each chunk once it is copied.
  Tensor to_tensor(const Shape& shape) {
    Tensor out = empty(shape);
    float* next = out.data<float>();
    for (std::vector<float>& chunk : chunks_) {
      next = std::copy(chunk.begin(), chunk.end(), next);
      std::vector<float>().swap(chunk);
    }
    return out;
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 20;
  std::vector<std::vector<float>> chunks_;
};

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
  RecordReader reader(path, options.delimiter);
  Record record;
  if (options.has_header) reader.next(record);  // the column names are not used
  if (!reader.next(record)) fail("read_csv: {} has no data rows", path);
  const size_t columns = record.fields.size();
  if (columns < 2) {
    fail("read_csv: {} line {}: expected at least 2 columns (inputs and a target), got {}", path,
         record.line, columns);
  }
  const auto count = static_cast<int64_t>(columns);
  if (options.target_column < -count || options.target_column >= count) {
    fail("read_csv: target_column {} out of range for {} columns", options.target_column, columns);
  }
  const size_t target = static_cast<size_t>((options.target_column + count) % count);

  // Each record is parsed as soon as it is read, so besides the numbers only one chunk of the
  // file and one record are held.
  ChunkedValues inputs;
  std::vector<double> targets;
  do {
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
  } while (reader.next(record));
  const auto rows = static_cast<int64_t>(targets.size());
  const Shape target_shape = options.target_dtype == Dtype::Int64 ? Shape{rows} : Shape{rows, 1};
  return {inputs.to_tensor({rows, count - 1}),
          tensor(std::move(targets), target_shape, {.dtype = options.target_dtype})};
}

}  // namespace tg::data
