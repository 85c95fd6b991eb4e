// Data: TensorDataset, DataLoader, read_csv and load_mnist, including their misuse.

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "helpers.hpp"
#include "scratch.hpp"

#include <clocale>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>

using tg::Tensor;
using namespace tg::data;
using tg::testing::ScratchDir;

namespace {

std::string big_endian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// IDX images (n × 28 × 28, pixel value = (image + offset) % 256) and labels (i % 10).
std::string idx_images(uint32_t n) {
  std::string bytes = big_endian(0x803) + big_endian(n) + big_endian(28) + big_endian(28);
  for (uint32_t i = 0; i < n * 784; ++i) bytes += static_cast<char>((i / 784 + i % 784) % 256);
  return bytes;
}
std::string idx_labels(uint32_t n) {
  std::string bytes = big_endian(0x801) + big_endian(n);
  for (uint32_t i = 0; i < n; ++i) bytes += static_cast<char>(i % 10);
  return bytes;
}
std::string gzip(const std::string& bytes) {
  uLongf size = compressBound(bytes.size()) + 32;
  std::string out(size, '\0');
  z_stream stream{};
  deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace

TEST_CASE("DataLoader batches every row once per epoch, reproducibly", "[data]") {
  const TensorDataset dataset(tg::arange(10).reshape({10, 1}),
                              tg::arange(10, {.dtype = tg::Dtype::Int64}));
  DataLoader loader(dataset, {.batch_size = 4, .shuffle = true, .seed = 3});
  CHECK(loader.size() == 3);
  const auto epoch = [&] {
    std::vector<int64_t> order;
    for (const Batch& batch : loader) {
      const auto inputs = batch.inputs.to_vector<float>();
      const auto targets = batch.targets.to_vector<int64_t>();
      for (size_t i = 0; i < targets.size(); ++i) {
        CHECK(inputs[i] == static_cast<float>(targets[i]));  // rows stay paired
        order.push_back(targets[i]);
      }
    }
    return order;
  };
  const std::vector<int64_t> first = epoch(), second = epoch();
  CHECK(std::set<int64_t>(first.begin(), first.end()).size() == 10);
  CHECK(first != second);  // a new shuffle each epoch
  DataLoader again(dataset, {.batch_size = 4, .shuffle = true, .seed = 3});
  std::vector<int64_t> replay;
  for (const Batch& batch : again)
    for (int64_t t : batch.targets.to_vector<int64_t>()) replay.push_back(t);
  CHECK(replay == first);  // same seed, same order

  int64_t rows = 0;
  for (auto& batch : again) rows += batch.inputs.size(0);  // libtorch's idiom compiles too
  CHECK(rows == 10);

  DataLoader in_order(dataset, {.batch_size = 4, .drop_last = true});
  CHECK(in_order.size() == 2);
  std::vector<int64_t> sequential;
  for (const Batch& batch : in_order)
    for (int64_t t : batch.targets.to_vector<int64_t>()) sequential.push_back(t);
  CHECK(sequential == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK_TG_ERROR(DataLoader(dataset, {.batch_size = 0}), "DataLoader: invalid batch_size: 0");
  CHECK_TG_ERROR(TensorDataset(tg::zeros({3, 2}), tg::zeros({4})),
                 "TensorDataset: inputs [3, 2] and targets [4] must have the same first dimension");
}

TEST_CASE("read_csv reads headers, quotes, CRLF, a BOM and a missing final newline", "[data]") {
  ScratchDir dir;
  const std::string path =
      dir.write("a.csv", "\xEF\xBB\xBFx1,\"x 2\",y\r\n1.5,\"2\",3\r\n\r\n-4,5e-1,+6");
  const TensorDataset data = read_csv(path);
  CHECK(data.inputs.shape() == tg::Shape{2, 2});
  CHECK(data.inputs.to_vector<float>() == std::vector<float>{1.5, 2, -4, 0.5});
  CHECK(data.targets.shape() == tg::Shape{2, 1});
  CHECK(data.targets.to_vector<float>() == std::vector<float>{3, 6});

  const std::string labels = dir.write("b.csv", "2;0.5;1\n1;0.25;0\n");
  const TensorDataset classes = read_csv(labels, {.has_header = false,
                                                  .delimiter = ';',
                                                  .target_column = 0,
                                                  .target_dtype = tg::Dtype::Int64});
  CHECK(classes.targets.to_vector<int64_t>() == std::vector<int64_t>{2, 1});
  CHECK(classes.inputs.to_vector<float>() == std::vector<float>{0.5, 1, 0.25, 0});
}

TEST_CASE("read_csv reads records that straddle the 64 KiB chunks it reads", "[data]") {
  ScratchDir dir;
  // Rows "1,2" fill the file up to `shift` bytes before 65,536, where the first read ends; the
  // last rows' CRLF, doubled quote and quoted field then fall on every side of that boundary.
  for (size_t shift = 0; shift < 8; ++shift) {
    INFO("shift " << shift);
    const size_t boundary = 65536 - shift;
    std::string text = "a,b\r\n";
    int64_t rows = 1;
    while (text.size() + 10 <= boundary) text += "1,2\r\n", ++rows;
    text += "1,2" + std::string(boundary - text.size() - 5, ' ') + "\r\n";  // blanks are trimmed
    REQUIRE(text.size() == boundary);
    const std::string good = dir.write("good.csv", text + "\"3\",4\r\n5,6");
    const TensorDataset data = read_csv(good);
    REQUIRE(data.inputs.size(0) == rows + 2);
    CHECK(data.inputs.to_vector<float>()[static_cast<size_t>(rows)] == 3.0f);
    CHECK(data.targets.to_vector<float>()[static_cast<size_t>(rows)] == 4.0f);
    CHECK(data.inputs.to_vector<float>().back() == 5.0f);
    CHECK_TG_ERROR(read_csv(dir.write("bad.csv", text + "\"3\"\"4\",5\r\n")),
                   fmt::format("line {}, column 1: cannot read '3\"4' as a number", rows + 2));
  }
}

TEST_CASE("read_csv parses numbers the same under a German locale", "[data]") {
  ScratchDir dir;
  const std::string path = dir.write("a.csv", "x,y\n1.5,2.25\n");
  const char* previous = std::setlocale(LC_NUMERIC, nullptr);
  const std::string saved = previous ? previous : "C";
  const bool german = std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr;
  const TensorDataset data = read_csv(path);
  std::setlocale(LC_NUMERIC, saved.c_str());
  CHECK(data.inputs.item<float>() == 1.5f);
  CHECK(data.targets.item<float>() == 2.25f);
  if (!german) WARN("de_DE.UTF-8 is not installed; checked under the C locale only");
}

TEST_CASE("read_csv names the file, line and column of bad input", "[data]") {
  ScratchDir dir;
  CHECK_TG_ERROR(read_csv(dir.write("cell.csv", "a,b\n1,2\n3,x7\n")),
                 "cell.csv line 3, column 2: cannot read 'x7' as a number");
  CHECK_TG_ERROR(read_csv(dir.write("ragged.csv", "a,b\n1,2\n3,4,5\n")),
                 "ragged.csv line 3: expected 2 columns, got 3");
  CHECK_TG_ERROR(read_csv(dir.write("empty.csv", "")), "empty.csv has no data rows");
  CHECK_TG_ERROR(read_csv(dir.write("header_only.csv", "a,b\n")), "has no data rows");
  CHECK_TG_ERROR(read_csv(dir.write("quote.csv", "a,b\n\"1,2\n")),
                 "quote.csv line 2: a quoted field is not closed");
  CHECK_TG_ERROR(read_csv(dir.write("label.csv", "1,0.5\n"),
                          {.has_header = false, .target_dtype = tg::Dtype::Int64}),
                 "label.csv line 1, column 2: class label '0.5' is not a non-negative integer");
  CHECK_TG_ERROR(read_csv(dir.write("one.csv", "1\n2\n"), {.has_header = false}),
                 "expected at least 2 columns");
  CHECK_TG_ERROR(read_csv((dir.path() / "missing.csv").string()), "read_csv: cannot open");
  CHECK_TG_ERROR(read_csv(dir.write("nan.csv", "a,b\nnan,1\n")),
                 "nan.csv line 2, column 1: 'nan' is not a finite Float32 number");
  CHECK_TG_ERROR(read_csv(dir.write("inf.csv", "a,b\n1,-inf\n")), "'-inf' is not a finite");
  CHECK_TG_ERROR(read_csv(dir.write("big.csv", "a,b\n1e39,1\n")), "'1e39' is not a finite Float32");
  CHECK_TG_ERROR(read_csv(dir.write("huge.csv", "a,b\n1e999,1\n")), "cannot read '1e999'");
  CHECK_TG_ERROR(read_csv(dir.write("label_big.csv", "1,1e30\n"),
                          {.has_header = false, .target_dtype = tg::Dtype::Int64}),
                 "class label '1e30' is not a non-negative integer");
  CHECK_TG_ERROR(read_csv(dir.write("label_neg.csv", "1,-3\n"),
                          {.has_header = false, .target_dtype = tg::Dtype::Int64}),
                 "class label '-3' is not a non-negative integer");
  CHECK_TG_ERROR(read_csv(dir.write("d.csv", "1,2\n"), {.delimiter = '"'}),
                 "the delimiter cannot be a quote");
}

TEST_CASE("load_mnist reads plain and gzip IDX files with the right values", "[data]") {
  ScratchDir dir;
  dir.write("train-images-idx3-ubyte", idx_images(3));
  dir.write("train-labels-idx1-ubyte", idx_labels(3));
  dir.write("t10k-images-idx3-ubyte.gz", gzip(idx_images(2)));
  dir.write("t10k-labels-idx1-ubyte.gz", gzip(idx_labels(2)));
  const TensorDataset train = load_mnist(dir.path().string(), Split::Train);
  CHECK(train.inputs.shape() == tg::Shape{3, 784});
  CHECK(train.targets.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2});
  const std::vector<float> pixels = train.inputs.to_vector<float>();
  CHECK(pixels[0] == 0.0f);
  CHECK(pixels[784 + 5] == 6 / 255.0f);        // image 1, pixel 5: (1 + 5) % 256
  CHECK(pixels[2 * 784 + 253] == 1.0f);        // image 2, pixel 253: (2 + 253) % 256 = 255
  CHECK(pixels[2 * 784 + 255] == 1 / 255.0f);  // (2 + 255) % 256 = 1
  const TensorDataset test = load_mnist(dir.path().string(), Split::Test);
  CHECK(test.targets.to_vector<int64_t>() == std::vector<int64_t>{0, 1});
  CHECK(test.inputs.to_vector<float>()[784 + 1] == 2 / 255.0f);
}

TEST_CASE("load_mnist rejects damaged files before allocating", "[data]") {
  ScratchDir dir;
  const std::string d = dir.path().string();
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "neither 'train-images-idx3-ubyte' nor");
  dir.write("train-labels-idx1-ubyte", idx_labels(3));
  dir.write("train-images-idx3-ubyte", idx_images(3).substr(0, 16 + 784 * 2));
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "holds 1584 bytes, but its header declares 2368");
  std::string huge =
      big_endian(0x803) + big_endian(0xffffffff) + big_endian(0xffffffff) + big_endian(28);
  dir.write("train-images-idx3-ubyte", huge);
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "declares impossible sizes");
  dir.write("train-images-idx3-ubyte", idx_labels(3));
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "has magic 0x00000801, expected 0x00000803");
  dir.write("train-images-idx3-ubyte", idx_images(4));
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "4 images in");
  std::string bad_label = idx_labels(4);
  bad_label[8 + 2] = 11;
  dir.write("train-labels-idx1-ubyte", bad_label);
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "label 11 at index 2");
  dir.write("train-labels-idx1-ubyte", idx_labels(4) + "x");
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "holds more bytes than the 12 its header declares");
  // A gzip bomb (16 MiB of zeros behind a header declaring 4 images) stops at the declared size.
  std::remove((dir.path() / "train-images-idx3-ubyte").c_str());
  dir.write("train-labels-idx1-ubyte", idx_labels(4));
  dir.write("train-images-idx3-ubyte.gz", gzip(idx_images(4) + std::string(size_t{1} << 24, '\0')));
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "holds more bytes than the 3152 its header declares");
  dir.write("train-images-idx3-ubyte.gz", gzip(idx_images(4)).substr(0, 40));
  CHECK_TG_ERROR(load_mnist(d, Split::Train), "train-images-idx3-ubyte.gz");
}

TEST_CASE("the Fashion-MNIST package's files load with their known first values",
          "[data][fashion]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir)) {
    WARN("dataset-fashion-mnist is not installed; skipped");
    return;
  }
  const TensorDataset test = load_mnist(dir, Split::Test);
  CHECK(test.size() == 10000);
  // The first test image is an ankle boot (class 9); its pixels sum to a fixed value.
  CHECK(test.targets.to_vector<int64_t>()[0] == 9);
  std::vector<int64_t> counts(10, 0);
  for (int64_t label : test.targets.to_vector<int64_t>()) ++counts[label];
  CHECK(counts == std::vector<int64_t>(10, 1000));  // Fashion-MNIST's test set is balanced
  // Pixels: the first non-zero one (index 215) is 3/255, and all bytes sum to 573469082
  // (computed from the package's file with Python's gzip module).
  const std::vector<float> pixels = test.inputs.to_vector<float>();
  CHECK(std::find_if(pixels.begin(), pixels.end(), [](float p) { return p != 0; }) -
            pixels.begin() ==
        215);
  CHECK(pixels[215] == 3.0f / 255.0f);
  double byte_sum = 0;
  for (const float p : pixels) byte_sum += std::round(p * 255.0f);
  CHECK(byte_sum == 573469082.0);
}

TEST_CASE("a DataLoader's seeded shuffles are the ones earlier versions drew", "[data]") {
  // Recorded from the loader before iterators had orders of their own (commit 98394cb): epoch e
  // is Generator(seed ^ 0x9e3779b97f4a7c15 * (e + 1)).permutation(n), so code and checkpoints
  // that relied on those orders see the same batches.
  const TensorDataset dataset(tg::arange(10).reshape({10, 1}),
                              tg::arange(10, {.dtype = tg::Dtype::Int64}));
  DataLoader loader(dataset, {.batch_size = 4, .shuffle = true, .seed = 3});
  std::vector<std::vector<int64_t>> epochs;
  for (int epoch = 0; epoch < 2; ++epoch) {
    epochs.emplace_back();
    for (const Batch& batch : loader)
      for (const int64_t t : batch.targets.to_vector<int64_t>()) epochs.back().push_back(t);
  }
  CHECK(epochs[0] == std::vector<int64_t>{6, 7, 3, 5, 1, 0, 8, 2, 4, 9});
  CHECK(epochs[1] == std::vector<int64_t>{0, 3, 5, 1, 8, 6, 9, 2, 7, 4});
  loader.set_epoch(1);
  std::vector<int64_t> resumed;
  for (const Batch& batch : loader)
    for (const int64_t t : batch.targets.to_vector<int64_t>()) resumed.push_back(t);
  CHECK(resumed == epochs[1]);
}

TEST_CASE("a nested loop over one DataLoader leaves the outer epoch whole", "[data]") {
  const TensorDataset dataset(tg::arange(10).reshape({10, 1}),
                              tg::arange(10, {.dtype = tg::Dtype::Int64}));
  const auto targets_of = [](const Batch& batch) { return batch.targets.to_vector<int64_t>(); };
  DataLoader reference(dataset, {.batch_size = 3, .shuffle = true, .seed = 5});
  std::vector<std::vector<int64_t>> expected;  // epochs 0 and 1 of a loader nobody nests
  for (int epoch = 0; epoch < 2; ++epoch) {
    expected.emplace_back();
    for (const Batch& batch : reference)
      for (const int64_t t : targets_of(batch)) expected.back().push_back(t);
  }
  DataLoader loader(dataset, {.batch_size = 3, .shuffle = true, .seed = 5});
  std::vector<int64_t> outer;
  for (const Batch& batch : loader) {
    for (const int64_t t : targets_of(batch)) outer.push_back(t);
    std::vector<int64_t> inner;  // e.g. an evaluation pass inside the training loop
    for (const Batch& nested : loader)
      for (const int64_t t : targets_of(nested)) inner.push_back(t);
    CHECK(inner == expected[0]);  // a nested pass iterates the open epoch again
    CHECK(loader.epoch() == 1);
  }
  CHECK(outer == expected[0]);
  std::vector<int64_t> next;
  for (const Batch& batch : loader)
    for (const int64_t t : targets_of(batch)) next.push_back(t);
  CHECK(next == expected[1]);
  CHECK(loader.epoch() == 2);
}

TEST_CASE("a DataLoader with a batch size beyond its rows yields one batch of all rows", "[data]") {
  const TensorDataset dataset(tg::arange(5).reshape({5, 1}), tg::arange(5));
  constexpr int64_t kHuge = std::numeric_limits<int64_t>::max();
  DataLoader loader(dataset, {.batch_size = kHuge});
  CHECK(loader.size() == 1);
  int64_t batches = 0, rows = 0;
  for (const Batch& batch : loader) ++batches, rows += batch.inputs.size(0);
  CHECK(batches == 1);
  CHECK(rows == 5);
  CHECK(DataLoader(dataset, {.batch_size = kHuge, .drop_last = true}).size() == 0);
  CHECK(DataLoader(dataset, {.batch_size = kHuge - 1}).size() == 1);
}

TEST_CASE("dereferencing a DataLoader's end is a tg::Error", "[data]") {
  const TensorDataset dataset(tg::arange(5).reshape({5, 1}), tg::arange(5));
  DataLoader loader(dataset, {.batch_size = 2});
  CHECK_TG_ERROR(*loader.end(), "DataLoader: cannot dereference the end iterator (batch 3 of 3)");
  auto it = loader.begin();
  for (int i = 0; i < 3; ++i) ++it;
  CHECK(it == loader.end());
  CHECK_TG_ERROR(it->inputs, "cannot dereference the end iterator");
}

TEST_CASE("read_csv and load_mnist refuse a FIFO or a device with an error naming it", "[data]") {
  ScratchDir dir;
  const std::string fifo = (dir / "fifo.csv").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Nothing ever writes to the FIFO: a blocking open would wait forever.
  CHECK_TG_ERROR(read_csv(fifo), fmt::format("read_csv: '{}' is not a regular file", fifo));
  CHECK_TG_ERROR(read_csv("/dev/zero"), "read_csv: '/dev/zero' is not a regular file");
  dir.write("train-labels-idx1-ubyte", idx_labels(3));
  const std::string images = (dir / "train-images-idx3-ubyte").string();
  REQUIRE(::mkfifo(images.c_str(), 0600) == 0);
  CHECK_TG_ERROR(load_mnist(dir.path().string(), Split::Train),
                 fmt::format("load_mnist: '{}' is not a regular file", images));
}

TEST_CASE("read_csv needs little more memory than the numbers it returns", "[data]") {
#if defined(__SANITIZE_ADDRESS__)
  WARN("skipped: AddressSanitizer's shadow memory and quarantine change the address space");
#else
  // 500,000 rows of 8 five-byte cells: a 20 MB file holding 4 M numbers (16 MB as Float32).
  ScratchDir dir;
  const auto path = dir / "big.csv";
  {
    std::ofstream out(path, std::ios::binary);
    const std::string row = "0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25\n";
    for (int i = 0; i < 500'000; ++i) out << row;
  }
  const auto file_size = static_cast<rlim_t>(std::filesystem::file_size(path));
  // In a child whose address space may grow by only 3× the file (60 MB): the parsed numbers
  // and their tensors take about 2×. Reading the whole text and splitting it into strings
  // first took over 10×.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    long pages = 0;  // the address space in use now: /proc/self/statm's first field
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    if (pages <= 0) ::_exit(2);
    rlimit limit{};
    ::getrlimit(RLIMIT_AS, &limit);
    limit.rlim_cur = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) + 3 * file_size;
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(3);
    try {
      const TensorDataset data = read_csv(path.string(), {.has_header = false});
      ::_exit(data.inputs.shape() == tg::Shape{500'000, 7} ? 0 : 4);
    } catch (const std::bad_alloc&) {
      ::_exit(5);
    } catch (const tg::Error&) {
      ::_exit(6);
    }
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 5: read_csv ran out of the allowed memory
#endif
}
