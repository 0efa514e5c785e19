//===- CalibrationTest.cpp - Linear input statistics and .qpalh files -----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The evaluator's input observer sees exactly what each linear multiplies
// (checked against the inputs a linear provider receives); the accumulated
// second moments and means equal a float64 computation over those rows; a
// `.qpalh` file reads back what was written, and a damaged one is refused
// with a message that names the problem.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Calibration.h"
#include "qpal/Model/Evaluator.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

/// The rows each input saw, in call order.
using Rows = std::map<std::string, std::vector<std::vector<float>>>;

void record(Rows &rows, const std::string &key, const float *x, int64_t ldx,
            int64_t count, int64_t cols) {
  for (int64_t r = 0; r < count; ++r)
    rows[key].emplace_back(x + r * ldx, x + r * ldx + cols);
}

TEST(Calibration, ObserverSeesTheLinearsInputsAndTheSumsAreExact) {
  auto model = openModel(inputPath("tiny-llama.gguf"));
  ASSERT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  Rows observed, provided;
  InputAccumulator accumulator;
  InputObserver accumulate = accumulator.observer();
  EvaluatorOptions options;
  options.numThreads = 1;
  options.inputObserver = [&](int64_t layer, LinearInput input, const float *x,
                              int64_t ldx, int64_t rows, int64_t cols) {
    record(observed,
           input == LinearInput::Head
               ? std::string("head")
               : std::to_string(layer) + "_" + getLinearInputName(input).str(),
           x, ldx, rows, cols);
    accumulate(layer, input, x, ldx, rows, cols);
  };
  // The provider computes the products (float64) and keeps the inputs of
  // the first linear of each input group.
  options.linearProvider =
      [&](llvm::StringRef key, int64_t rows, int64_t cols,
          llvm::ArrayRef<float> weight) -> llvm::Expected<LinearFunction> {
    std::string name = key.str();
    std::vector<float> w(weight.begin(), weight.end());
    bool keep = key.ends_with("q_proj") || key.ends_with("o_proj") ||
                key.ends_with("gate_proj") || key.ends_with("down_proj");
    auto inputKey = getInputKey(key);
    if (!inputKey)
      return inputKey.takeError();
    return LinearFunction(
        [&, w, rows, cols, keep, group = *inputKey](
            const float *x, int64_t ldx, float *y, int64_t ldy, int64_t n) {
          if (keep)
            record(provided, group, x, ldx, n, cols);
          for (int64_t t = 0; t < n; ++t)
            for (int64_t m = 0; m < rows; ++m) {
              double sum = 0;
              for (int64_t k = 0; k < cols; ++k)
                sum += static_cast<double>(x[t * ldx + k]) * w[m * cols + k];
              y[t * ldy + m] = static_cast<float>(sum);
            }
        });
  };
  auto evaluator = Evaluator::create(**model, options);
  ASSERT_TRUE(static_cast<bool>(evaluator)) << toString(evaluator.takeError());
  std::vector<int32_t> tokens = {1, 5, 9, 2, 7, 7, 3, 11, 4};
  CalibrationOptions calibration;
  calibration.window = 4; // windows of 4, 4 and 1
  std::vector<int64_t> progress;
  calibration.progress = [&](int64_t done, int64_t) {
    progress.push_back(done);
  };
  auto set = calibrate(**evaluator, accumulator, tokens, calibration);
  ASSERT_TRUE(static_cast<bool>(set)) << toString(set.takeError());
  EXPECT_EQ(progress, (std::vector<int64_t>{4, 8, 9}));

  const ModelConfig &config = (*evaluator)->getConfig();
  ASSERT_EQ(set->inputs.size(), static_cast<size_t>(4 * config.numLayers + 1));
  // The provider sees the block linears; the head's input is the final
  // norm's output.
  Rows blocks = observed;
  blocks.erase("head");
  EXPECT_EQ(blocks, provided);
  ASSERT_EQ(observed["head"].size(), tokens.size());
  for (const auto &[key, rows] : observed) {
    ASSERT_TRUE(set->inputs.count(key)) << key;
    const InputStatistics &input = set->inputs.at(key);
    int64_t n = static_cast<int64_t>(rows.front().size());
    ASSERT_EQ(input.size, n) << key;
    EXPECT_EQ(input.tokens, static_cast<int64_t>(tokens.size())) << key;
    for (int64_t i = 0; i < n; ++i) {
      double mean = 0;
      for (const auto &row : rows)
        mean += row[i];
      mean /= rows.size();
      EXPECT_NEAR(input.mean[i], mean, 1e-12 * (1 + std::fabs(mean))) << key;
      for (int64_t j = 0; j < n; ++j) {
        double moment = 0;
        for (const auto &row : rows)
          moment += static_cast<double>(row[i]) * row[j];
        moment /= rows.size();
        ASSERT_NEAR(input.secondMoment[i * n + j], moment,
                    1e-12 * (1 + std::fabs(moment)))
            << key << " " << i << "," << j;
      }
    }
  }
  // The head's rows are what the LM head multiplies: the logits of a
  // forward pass equal them times the head weight (float64 here).
  observed.clear();
  std::vector<float> logits;
  ASSERT_FALSE(static_cast<bool>((*evaluator)->forward(tokens, &logits)));
  const auto &headRows = observed["head"];
  ASSERT_EQ(headRows.size(), tokens.size());
  int64_t hidden = config.hiddenSize, vocab = config.vocabSize;
  std::vector<float> headWeight(static_cast<size_t>(vocab * hidden));
  llvm::Error readError = (*model)->readInto(
      config.tiedEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight",
      headWeight);
  ASSERT_FALSE(static_cast<bool>(readError)) << toString(std::move(readError));
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int64_t v = 0; v < vocab; ++v) {
      double sum = 0;
      for (int64_t k = 0; k < hidden; ++k)
        sum += static_cast<double>(headRows[t][k]) * headWeight[v * hidden + k];
      ASSERT_NEAR(logits[t * vocab + v], sum, 1e-4 * (1 + std::fabs(sum)))
          << "token " << t << " logit " << v;
    }
  (*evaluator)->resetCache();

  // A block linear finds its input; other keys are refused by name.
  auto q = set->forLinear("1_self_attn.k_proj");
  ASSERT_TRUE(static_cast<bool>(q));
  EXPECT_EQ(*q, &set->inputs.at("1_qkv"));
  auto head = set->forLinear("lm_head");
  ASSERT_TRUE(static_cast<bool>(head));
  EXPECT_EQ(*head, &set->inputs.at("head"));
  auto embedding = set->forLinear("embed_tokens");
  ASSERT_FALSE(static_cast<bool>(embedding));
  EXPECT_NE(toString(embedding.takeError())
                .find("'embed_tokens' is not a "
                      "block linear's key"),
            std::string::npos);
  auto missing = set->forLinear("7_mlp.down_proj");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(toString(missing.takeError())
                .find("no input statistics '7_down' for the layer "
                      "'7_mlp.down_proj'"),
            std::string::npos);
}

HessianSet smallSet() {
  HessianSet set;
  for (const char *name : {"0_qkv", "0_down"}) {
    InputStatistics input;
    input.size = 3;
    input.tokens = 17;
    input.mean = {0.5, -1.25, 2.0};
    input.secondMoment = {2.0, 0.5, -0.25, 0.5, 3.0, 1.0, -0.25, 1.0, 4.5};
    set.inputs[name] = input;
  }
  return set;
}

std::string tempPath(const char *name) {
  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile(name, "qpalh", path));
  return std::string(path);
}

std::string readBytes(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  EXPECT_TRUE(static_cast<bool>(buffer));
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  ASSERT_FALSE(error);
  os << bytes;
}

TEST(Calibration, FileRoundTrip) {
  std::string path = tempPath("round-trip");
  HessianSet set = smallSet();
  ASSERT_FALSE(static_cast<bool>(writeHessianFile(set, path)));
  auto read = readHessianFile(path);
  ASSERT_TRUE(static_cast<bool>(read)) << toString(read.takeError());
  ASSERT_EQ(read->inputs.size(), 2u);
  for (const auto &[name, input] : set.inputs) {
    const InputStatistics &got = read->inputs.at(name);
    EXPECT_EQ(got.size, input.size);
    EXPECT_EQ(got.tokens, input.tokens);
    EXPECT_EQ(got.mean, input.mean); // exact in f32
    EXPECT_EQ(got.secondMoment, input.secondMoment);
  }
  llvm::sys::fs::remove(path);
}

TEST(Calibration, DamagedFilesAreRefused) {
  std::string path = tempPath("damaged");
  ASSERT_FALSE(static_cast<bool>(writeHessianFile(smallSet(), path)));
  std::string good = readBytes(path);
  auto expectError = [&](const std::string &bytes, const std::string &what) {
    writeBytes(path, bytes);
    auto read = readHessianFile(path);
    ASSERT_FALSE(static_cast<bool>(read)) << what;
    std::string message = toString(read.takeError());
    EXPECT_NE(message.find("is not a valid Hessian file: " + what),
              std::string::npos)
        << message;
  };
  std::string flipped = good;
  flipped[40] ^= 0x10;
  expectError(flipped, "the checksum does not match");
  expectError(good.substr(0, good.size() - 9), "the checksum does not match");
  expectError("QPALHES", "it does not start with \"QPALHESS\"");
  std::string wrongMagic = good;
  wrongMagic[0] = 'X';
  expectError(wrongMagic, "it does not start with \"QPALHESS\"");

  auto rewrite = [&](HessianSet set) {
    EXPECT_FALSE(static_cast<bool>(writeHessianFile(set, path)));
    return readBytes(path);
  };
  HessianSet nan = smallSet();
  nan.inputs["0_qkv"].mean[1] = std::nan("");
  expectError(rewrite(nan), "input '0_qkv' has a non-finite mean at 1");
  HessianSet negative = smallSet();
  negative.inputs["0_down"].secondMoment[4] = -1.0;
  expectError(rewrite(negative), "input '0_down' has the diagonal entry -1");

  auto missing = readHessianFile(path + ".absent");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(toString(missing.takeError()).find("cannot read"),
            std::string::npos);
  llvm::sys::fs::remove(path);
}

} // namespace
