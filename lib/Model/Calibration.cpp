//===- Calibration.cpp - Input statistics of a model's linear layers ------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Calibration.h"

#include "qpal/Support/OutputFile.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <cmath>
#include <cstring>
#include <mutex>

using namespace qpal::model;
using llvm::ArrayRef;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

constexpr char kMagic[8] = {'Q', 'P', 'A', 'L', 'H', 'E', 'S', 'S'};
constexpr uint32_t kVersion = 1;
/// The widest input a file may describe (a 64k x 64k triangle is 8 GiB).
constexpr uint64_t kMaxInputSize = 65536;

uint64_t fnv1a(const char *data, size_t size, uint64_t hash) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull;

Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

template <typename T> void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

/// A bounds-checked little-endian reader over a file's bytes.
struct Reader {
  StringRef data;
  size_t offset = 0;
  bool has(uint64_t bytes) const {
    return bytes <= data.size() && offset <= data.size() - bytes;
  }
  template <typename T> T get() {
    T value;
    std::memcpy(&value, data.data() + offset, sizeof(T));
    offset += sizeof(T);
    return value;
  }
};

} // namespace

Expected<std::string> qpal::model::getInputKey(StringRef layerKey) {
  if (layerKey == "lm_head")
    return std::string("head");
  auto [block, role] = layerKey.split('_');
  unsigned index;
  if (block.empty() || block.getAsInteger(10, index))
    return makeError(llvm::formatv(
        "'{0}' is not a block linear's key (expected '<block>_<role>', e.g. "
        "'3_self_attn.q_proj')",
        layerKey));
  StringRef input;
  if (role == "self_attn.q_proj" || role == "self_attn.k_proj" ||
      role == "self_attn.v_proj")
    input = "qkv";
  else if (role == "self_attn.o_proj")
    input = "o";
  else if (role == "mlp.gate_proj" || role == "mlp.up_proj")
    input = "up";
  else if (role == "mlp.down_proj")
    input = "down";
  else
    return makeError(
        llvm::formatv("'{0}' is not a block linear's key (unknown role '{1}')",
                      layerKey, role));
  return (block + "_" + input).str();
}

Expected<const InputStatistics *>
HessianSet::forLinear(StringRef layerKey) const {
  Expected<std::string> key = getInputKey(layerKey);
  if (!key)
    return key.takeError();
  auto found = inputs.find(*key);
  if (found == inputs.end())
    return makeError(llvm::formatv(
        "no input statistics '{0}' for the layer '{1}' (the Hessian file "
        "holds {2} inputs)",
        *key, layerKey, inputs.size()));
  return &found->second;
}

Expected<ArrayRef<double>> HessianSet::secondMomentFor(StringRef layerKey,
                                                       int64_t cols) const {
  Expected<const InputStatistics *> input = forLinear(layerKey);
  if (!input)
    return input.takeError();
  if ((*input)->size != cols)
    return makeError(llvm::formatv(
        "layer '{0}' has {1} inputs, but its Hessian '{2}' is {3} x {3} "
        "(calibrated on another model?)",
        layerKey, cols, *getInputKey(layerKey), (*input)->size));
  return ArrayRef<double>((*input)->secondMoment);
}

Error qpal::model::writeHessianFile(const HessianSet &set, StringRef path) {
  Expected<std::string> bytes = serializeHessianFile(set);
  if (!bytes)
    return makeError(llvm::formatv("cannot write '{0}': {1}", path,
                                   llvm::toString(bytes.takeError())));
  return writeOutputFile(path, *bytes);
}

Expected<std::string> qpal::model::serializeHessianFile(const HessianSet &set) {
  std::string bytes(kMagic, sizeof(kMagic));
  put<uint32_t>(bytes, kVersion);
  put<uint32_t>(bytes, static_cast<uint32_t>(set.inputs.size()));
  for (const auto &[name, input] : set.inputs) {
    int64_t n = input.size;
    if (n <= 0 || static_cast<int64_t>(input.mean.size()) != n ||
        static_cast<int64_t>(input.secondMoment.size()) != n * n)
      return makeError(llvm::formatv(
          "input '{0}' has size {1} but {2} mean values and {3} second-moment "
          "values",
          name, n, input.mean.size(), input.secondMoment.size()));
    put<uint32_t>(bytes, static_cast<uint32_t>(name.size()));
    bytes += name;
    put<uint64_t>(bytes, static_cast<uint64_t>(n));
    put<uint64_t>(bytes, static_cast<uint64_t>(input.tokens));
    for (double value : input.mean)
      put<float>(bytes, static_cast<float>(value));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j)
        put<float>(bytes, static_cast<float>(input.secondMoment[i * n + j]));
  }
  put<uint64_t>(bytes, fnv1a(bytes.data(), bytes.size(), kFnvBasis));
  return bytes;
}

Expected<HessianSet> qpal::model::readHessianFile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(llvm::formatv("cannot read '{0}': {1}", path,
                                   buffer.getError().message()));
  return parseHessianFile((*buffer)->getBuffer(), path);
}

Expected<HessianSet> qpal::model::parseHessianFile(StringRef data,
                                                   StringRef name) {
  auto fail = [&](const llvm::Twine &what) {
    return makeError("'" + name + "' is not a valid Hessian file: " + what);
  };
  if (data.size() < sizeof(kMagic) + 16 ||
      std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    return fail("it does not start with \"QPALHESS\" (not written by `qpal "
                "calibrate`?)");
  uint64_t stored;
  std::memcpy(&stored, data.data() + data.size() - 8, 8);
  if (fnv1a(data.data(), data.size() - 8, kFnvBasis) != stored)
    return fail("the checksum does not match (truncated or corrupted)");
  Reader reader{data.drop_back(8), sizeof(kMagic)};
  uint32_t version = reader.get<uint32_t>();
  if (version != kVersion)
    return fail(llvm::formatv("format version {0}, this qpal reads {1}",
                              version, kVersion));
  uint32_t count = reader.get<uint32_t>();
  HessianSet set;
  for (uint32_t e = 0; e < count; ++e) {
    if (!reader.has(4))
      return fail(llvm::formatv("input {0} of {1} is missing", e, count));
    uint32_t nameLength = reader.get<uint32_t>();
    if (!reader.has(uint64_t(nameLength) + 16))
      return fail(llvm::formatv("input {0}'s header is truncated", e));
    std::string name(reader.data.data() + reader.offset, nameLength);
    reader.offset += nameLength;
    uint64_t n = reader.get<uint64_t>();
    uint64_t tokens = reader.get<uint64_t>();
    if (n == 0 || n > kMaxInputSize)
      return fail(llvm::formatv("input '{0}' has size {1} (expected 1 to {2})",
                                name, n, kMaxInputSize));
    uint64_t values = n + n * (n + 1) / 2;
    if (!reader.has(values * 4))
      return fail(llvm::formatv("input '{0}' of size {1} needs {2} bytes, "
                                "{3} are left",
                                name, n, values * 4,
                                reader.data.size() - reader.offset));
    if (set.inputs.count(name))
      return fail(llvm::formatv("input '{0}' appears twice", name));
    InputStatistics input;
    input.size = static_cast<int64_t>(n);
    input.tokens = static_cast<int64_t>(tokens);
    input.mean.resize(n);
    input.secondMoment.resize(n * n);
    for (uint64_t i = 0; i < n; ++i)
      input.mean[i] = reader.get<float>();
    for (uint64_t i = 0; i < n; ++i)
      for (uint64_t j = 0; j <= i; ++j) {
        double value = reader.get<float>();
        input.secondMoment[i * n + j] = input.secondMoment[j * n + i] = value;
      }
    for (uint64_t i = 0; i < n; ++i) {
      if (!std::isfinite(input.mean[i]))
        return fail(
            llvm::formatv("input '{0}' has a non-finite mean at {1}", name, i));
      double diagonal = input.secondMoment[i * n + i];
      if (!(diagonal >= 0.0) || !std::isfinite(diagonal))
        return fail(llvm::formatv("input '{0}' has the diagonal entry {1} at "
                                  "{2} (a second moment is finite and >= 0)",
                                  name, diagonal, i));
    }
    for (double value : input.secondMoment)
      if (!std::isfinite(value))
        return fail(
            llvm::formatv("input '{0}' has a non-finite second moment", name));
    set.inputs.emplace(std::move(name), std::move(input));
  }
  if (reader.offset != reader.data.size())
    return fail(llvm::formatv("{0} bytes follow the last input",
                              reader.data.size() - reader.offset));
  return set;
}

//===----------------------------------------------------------------------===//
// Accumulation
//===----------------------------------------------------------------------===//

struct InputAccumulator::Impl {
  struct Sums {
    int64_t size = 0;
    int64_t tokens = 0;
    std::vector<double> lower; // n x n, the lower triangle accumulated
    std::vector<double> sum;
  };
  std::mutex lock;
  std::map<std::string, Sums> sums;
  std::vector<double> rows;

  void add(int64_t layer, LinearInput which, const float *x, int64_t ldx,
           int64_t count, int64_t n) {
    std::lock_guard<std::mutex> guard(lock);
    Sums &s =
        sums[which == LinearInput::Head
                 ? getLinearInputName(which).str()
                 : llvm::formatv("{0}_{1}", layer, getLinearInputName(which))
                       .str()];
    if (s.size == 0) {
      s.size = n;
      s.lower.assign(n * n, 0.0);
      s.sum.assign(n, 0.0);
    }
    rows.resize(count * n);
    for (int64_t r = 0; r < count; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double value = x[r * ldx + c];
        rows[r * n + c] = value;
        s.sum[c] += value;
      }
    // lower(H) += X^T X: X is count x n, row-major.
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, static_cast<int>(n),
                static_cast<int>(count), 1.0, rows.data(), static_cast<int>(n),
                1.0, s.lower.data(), static_cast<int>(n));
    s.tokens += count;
  }
};

InputAccumulator::InputAccumulator() : impl(std::make_shared<Impl>()) {}
InputAccumulator::~InputAccumulator() = default;

InputObserver InputAccumulator::observer() {
  std::shared_ptr<Impl> state = impl;
  return [state](int64_t layer, LinearInput which, const float *x, int64_t ldx,
                 int64_t rows, int64_t cols) {
    state->add(layer, which, x, ldx, rows, cols);
  };
}

HessianSet InputAccumulator::finish() const {
  HessianSet set;
  for (const auto &[name, s] : impl->sums) {
    InputStatistics input;
    int64_t n = s.size;
    input.size = n;
    input.tokens = s.tokens;
    double scale = s.tokens > 0 ? 1.0 / static_cast<double>(s.tokens) : 0.0;
    input.mean.resize(n);
    for (int64_t i = 0; i < n; ++i)
      input.mean[i] = s.sum[i] * scale;
    input.secondMoment.resize(n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j)
        input.secondMoment[i * n + j] = input.secondMoment[j * n + i] =
            s.lower[i * n + j] * scale;
    set.inputs.emplace(name, std::move(input));
  }
  return set;
}

Expected<HessianSet> qpal::model::calibrate(Evaluator &evaluator,
                                            InputAccumulator &accumulator,
                                            ArrayRef<int32_t> tokens,
                                            const CalibrationOptions &options) {
  if (tokens.empty())
    return makeError("calibration needs at least one token, got none");
  if (options.window <= 0 || options.window > evaluator.getMaxContext())
    return makeError(llvm::formatv(
        "the calibration window {0} must be between 1 and the cache's {1} "
        "tokens",
        options.window, evaluator.getMaxContext()));
  int64_t total = static_cast<int64_t>(tokens.size());
  for (int64_t start = 0; start < total; start += options.window) {
    int64_t count = std::min(options.window, total - start);
    evaluator.resetCache();
    if (Error err = evaluator.forward(tokens.slice(start, count), nullptr))
      return std::move(err);
    if (options.progress)
      options.progress(start + count, total);
  }
  evaluator.resetCache();
  return accumulator.finish();
}
