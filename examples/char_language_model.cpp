// A character-level language model of English words, the model of benchmark W4
// (bench_train charrnn): Embedding(vocab, 32) → GRU(32, 128) → Linear(128, vocab), trained with
// Adam on the words of Debian's wamerican package (/usr/share/dict/american-english).
// Every word is framed by a boundary token and the words, in a seeded random order, form one
// stream cut into sequences of 32 characters; the next character is predicted at each position.
// A seeded share of the words is held out: after every epoch the model's loss on them (nats per
// character) is printed beside a unigram and a bigram model counted from the training words.
// At the end new words are sampled from the model, one character at a time.

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "common/flags.hpp"
#include "common/progress.hpp"

#include <array>
#include <cmath>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr int64_t kBoundary = 0;  // the token before and after every word, shown as '.'

struct Vocabulary {
  std::vector<char> chars{'.'};       // token → character
  std::array<int64_t, 256> tokens{};  // character → token; 0 for characters not in the words

  int64_t size() const { return static_cast<int64_t>(chars.size()); }
};

// The words of `path`, one a line, keeping those of ASCII characters only (the list has a few
// hundred with accents, whose UTF-8 bytes would be sampled apart).
std::vector<std::string> read_words(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    examples::Flags::die(
        fmt::format("word list '{}' not found: install Debian's wamerican "
                    "(sudo apt-get install wamerican, or bash scripts/setup.sh) or pass --dict",
                    path));
  }
  std::vector<std::string> words;
  for (std::string line; std::getline(in, line);) {
    bool ascii = !line.empty();
    for (unsigned char c : line) ascii = ascii && c > ' ' && c < 127;
    if (ascii) words.push_back(line);
  }
  if (words.empty()) examples::Flags::die(fmt::format("word list '{}' has no words", path));
  return words;
}

// Tokens 1, 2, … for the characters of the words in byte order.
Vocabulary make_vocabulary(const std::vector<std::string>& words) {
  std::array<bool, 256> seen{};
  for (const std::string& word : words) {
    for (unsigned char c : word) seen[c] = true;
  }
  Vocabulary vocabulary;
  for (int c = 0; c < 256; ++c) {
    if (!seen[c]) continue;
    vocabulary.tokens[c] = vocabulary.size();
    vocabulary.chars.push_back(static_cast<char>(c));
  }
  return vocabulary;
}

// The words framed by boundaries as one stream: . w o r d . w o r d . …  (one boundary both
// ends a word and starts the next).
std::vector<int64_t> encode(const std::vector<std::string>& words, const Vocabulary& vocabulary) {
  std::vector<int64_t> stream{kBoundary};
  for (const std::string& word : words) {
    for (unsigned char c : word) stream.push_back(vocabulary.tokens[c]);
    stream.push_back(kBoundary);
  }
  return stream;
}

// The stream cut into sequences of `length`: inputs [S, length] and as targets the characters
// one position later (the rest shorter than a sequence is left out).
tg::data::TensorDataset sequences(const std::vector<int64_t>& stream, int64_t length) {
  const int64_t count = (static_cast<int64_t>(stream.size()) - 1) / length;
  if (count == 0) examples::Flags::die("too few words for one sequence: raise --words");
  std::vector<int64_t> inputs, targets;
  for (int64_t i = 0; i < count * length; ++i) {
    inputs.push_back(stream[i]);
    targets.push_back(stream[i + 1]);
  }
  return {tg::from_vector(inputs, {count, length}), tg::from_vector(targets, {count, length})};
}

// Mean −log p(target) over the dev pairs (input, target) for the unigram p(c) and the bigram
// p(c | previous), counted from the training stream with add-one smoothing (so a pair never seen
// in training keeps a finite loss).
std::pair<double, double> ngram_losses(const std::vector<int64_t>& train_stream,
                                       const tg::data::TensorDataset& dev, int64_t vocab) {
  std::vector<double> unigram(vocab, 1.0), bigram(vocab * vocab, 1.0);
  for (size_t i = 0; i + 1 < train_stream.size(); ++i) {
    unigram[train_stream[i + 1]] += 1;
    bigram[train_stream[i] * vocab + train_stream[i + 1]] += 1;
  }
  double unigram_total = 0;
  for (double n : unigram) unigram_total += n;
  std::vector<double> row_totals(vocab, 0.0);
  for (int64_t i = 0; i < vocab * vocab; ++i) row_totals[i / vocab] += bigram[i];
  const std::vector<int64_t> inputs = dev.inputs.to_vector<int64_t>();
  const std::vector<int64_t> targets = dev.targets.to_vector<int64_t>();
  double unigram_loss = 0, bigram_loss = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    unigram_loss -= std::log(unigram[targets[i]] / unigram_total);
    bigram_loss -= std::log(bigram[inputs[i] * vocab + targets[i]] / row_totals[inputs[i]]);
  }
  const auto n = static_cast<double>(targets.size());
  return {unigram_loss / n, bigram_loss / n};
}

// Embedding(vocab, 32) → GRU(32, 128, batch_first) → Linear(128, vocab).
class CharModel : public tg::nn::Module {
 public:
  explicit CharModel(int64_t vocab) {
    embedding = register_module("embedding", std::make_shared<tg::nn::Embedding>(vocab, 32));
    gru = register_module(
        "gru", std::make_shared<tg::nn::GRU>(32, 128, tg::nn::RNNOptions{.batch_first = true}));
    head = register_module("head", std::make_shared<tg::nn::Linear>(128, vocab));
  }

  // tokens [N, T] and the GRU's state [1, N, 128] (undefined: zeros) → logits [N·T, vocab] and
  // the state after the last step.
  std::pair<tg::Tensor, tg::Tensor> forward(const tg::Tensor& tokens, const tg::Tensor& state) {
    const auto [output, last] = gru->forward((*embedding)(tokens), state);
    return {(*head)(output.reshape({-1, gru->hidden_size()})), last};
  }
  tg::Tensor forward(const tg::Tensor& tokens) override { return forward(tokens, {}).first; }

  std::shared_ptr<tg::nn::Embedding> embedding;
  std::shared_ptr<tg::nn::GRU> gru;
  std::shared_ptr<tg::nn::Linear> head;
};

// Mean cross-entropy per character (nats) over `data`, in eval mode, without recording.
double mean_loss(CharModel& model, const tg::data::TensorDataset& data) {
  tg::NoGradGuard no_grad;
  model.eval();
  double total = 0;
  for (const tg::data::Batch& batch : tg::data::DataLoader(data, {.batch_size = 256})) {
    total += tg::nn::cross_entropy(model(batch.inputs), batch.targets.reshape({-1}),
                                   {.reduction = tg::nn::Reduction::Sum})
                 .item<float>();
  }
  model.train();
  return total / static_cast<double>(data.targets.numel());
}

// One word drawn a character at a time from the model's softmax(logits / temperature), from a
// boundary to the next (or `max_length` characters).
std::string sample_word(CharModel& model, const Vocabulary& vocabulary, double temperature,
                        int64_t max_length, tg::Generator& generator) {
  tg::NoGradGuard no_grad;
  model.eval();
  std::string word;
  tg::Tensor state;
  int64_t token = kBoundary;
  while (static_cast<int64_t>(word.size()) < max_length) {
    const tg::Tensor input = tg::from_vector(std::vector<int64_t>{token}, {1, 1});
    const auto [logits, next_state] = model.forward(input, state);
    state = next_state;
    const tg::Tensor probs = tg::softmax(logits / temperature, 1);
    token = tg::multinomial(probs, 1, false, generator).item<int64_t>();
    if (token == kBoundary) break;
    word += vocabulary.chars[token];
  }
  model.train();
  return word;
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(
      argc, argv,
      "char_language_model: a GRU language model of the characters of English words, trained on "
      "Debian's word list,\nits held-out loss beside unigram and bigram baselines, then new words "
      "sampled from it\n(--words N: the first N words of the seeded shuffle, 0 = all; --threads: "
      "for the optimizer's update, as the batch is one shard)",
      {{"dict", "/usr/share/dict/american-english"},
       {"epochs", "3"},
       {"lr", "0.003"},
       {"batch-size", "64"},
       {"seq-len", "32"},
       {"dev-share", "0.1"},
       {"words", "0"},
       {"samples", "20"},
       {"temperature", "1"},
       {"seed", "0"},
       {"threads", "1"},
       {"save", ""}});
  const int64_t epochs = flags.integer("epochs", 1, 1000);
  const double lr = flags.number("lr", 0, 10);
  const int64_t batch_size = flags.integer("batch-size", 1, 1 << 20);
  const int64_t length = flags.integer("seq-len", 1, 4096);
  const double dev_share = flags.number("dev-share", 0.01, 0.5);
  const int64_t word_limit = flags.integer("words", 0, INT64_MAX);
  const int64_t samples = flags.integer("samples", 0, 100000);
  const double temperature = flags.number("temperature", 0.01, 100);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, INT64_MAX));
  const std::string save_path = flags.text("save");
  tg::set_num_threads(static_cast<int>(flags.integer("threads", 1, 256)));

  // The words in a seeded order: the first dev_share of them are held out.
  const std::vector<std::string> all_words = read_words(flags.text("dict"));
  tg::Generator generator(seed);
  std::vector<std::string> shuffled;
  for (int64_t i : generator.permutation(static_cast<int64_t>(all_words.size()))) {
    shuffled.push_back(all_words[i]);
  }
  if (word_limit > 0 && word_limit < static_cast<int64_t>(shuffled.size()))
    shuffled.resize(word_limit);
  const auto dev_count = static_cast<size_t>(std::ceil(dev_share * shuffled.size()));
  const std::vector<std::string> dev_words(shuffled.begin(), shuffled.begin() + dev_count);
  const std::vector<std::string> train_words(shuffled.begin() + dev_count, shuffled.end());
  const Vocabulary vocabulary = make_vocabulary(shuffled);
  const std::vector<int64_t> train_stream = encode(train_words, vocabulary);
  const tg::data::TensorDataset train = sequences(train_stream, length);
  const tg::data::TensorDataset dev = sequences(encode(dev_words, vocabulary), length);
  fmt::print(
      "{} words ({} training, {} held out), {} characters with the boundary; {} training and {} "
      "held-out sequences of {}; OpenBLAS {} kernel, {} thread(s)\n",
      shuffled.size(), train_words.size(), dev_words.size(), vocabulary.size(), train.size(),
      dev.size(), length, tg::blas_core_name(), tg::num_threads());
  const auto [unigram, bigram] = ngram_losses(train_stream, dev, vocabulary.size());
  fmt::print("held-out loss of the baselines: unigram {:.4f}, bigram {:.4f} nats/char\n", unigram,
             bigram);

  tg::manual_seed(seed);
  CharModel model(vocabulary.size());
  tg::optim::Adam optimizer(model.parameters(), {.lr = lr});
  tg::data::DataLoader loader(train, {.batch_size = batch_size, .shuffle = true, .seed = seed});
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const examples::ProgressBar bar(epoch, epochs, loader.size(), "chars/s");
    double loss_sum = 0;
    int64_t done = 0, chars = 0;
    for (const tg::data::Batch& batch : loader) {
      optimizer.zero_grad();
      const tg::Tensor loss =
          tg::nn::cross_entropy(model(batch.inputs), batch.targets.reshape({-1}));
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<float>();
      chars += batch.targets.numel();
      ++done;
      bar.update(done, loss_sum / static_cast<double>(done), chars);
    }
    const double seconds = bar.seconds();
    fmt::print("  held-out {:.4f} nats/char (bigram {:.4f}, unigram {:.4f}), {:.1f} s\n",
               mean_loss(model, dev), bigram, unigram, seconds);
  }
  if (!save_path.empty()) {
    try {
      tg::save(model, save_path);
    } catch (const tg::Error& e) {
      examples::Flags::die(e.what());
    }
    fmt::print("saved the model to '{}'\n", save_path);
  }

  // The draws come from a generator of their own, so they depend on --seed only.
  const std::set<std::string> known(all_words.begin(), all_words.end());
  tg::Generator sampler(seed + 1);
  fmt::print("\n{} words sampled (temperature {}; * = in the word list):\n", samples, temperature);
  for (int64_t i = 0; i < samples; ++i) {
    const std::string word = sample_word(model, vocabulary, temperature, 40, sampler);
    fmt::print("  {}{}\n", word, known.count(word) != 0 ? " *" : "");
  }
}
