//===- LowerLinearsTest.cpp - The compiler path, run ---------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Linear layers of the tiny Llama go through the compiler path as a user runs
// it: `qpal-lower-linears` (quantize the weights, convert them to buffers,
// lower each product to the rotation and dequant-matmul kernels of the
// host), upstream bufferization, `qpal-cpu-kernels-to-llvm`, and the JIT.
// The products are checked against the float64 product of the activations
// with lib/Quant's reference decode of the same layer (`dequantizeLayer`),
// quantized as fake quantization quantizes it.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Model/FakeQuant.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Passes/Pipelines.h"
#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/QuantizerFamily.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qpal;

namespace {

constexpr int64_t kTokens = 3;

std::string tinyModelPath() {
  return std::string(QPAL_MODEL_INPUTS_DIR) + "/tiny-llama.gguf";
}

/// One layer (or fused group) of block 0 of the tiny Llama.
struct LayerCase {
  std::string quantizer;           // reference name
  std::vector<const char *> roles; // members, in row order
  std::vector<int64_t> rows;       // their M
};

void PrintTo(const LayerCase &layer, std::ostream *os) {
  *os << layer.quantizer << " on " << layer.roles.size() << " layer(s)";
}

std::string tensorName(llvm::StringRef role) {
  llvm::StringRef module =
      role == "q" || role == "k" || role == "v" || role == "o" ? "self_attn"
                                                               : "mlp";
  return llvm::formatv("model.layers.0.{0}.{1}_proj.weight", module, role)
      .str();
}

/// A module whose function `@layer(x, y0, y1, ...)` computes the layer's
/// members from x (kTokens x 32) into the buffers y_i (kTokens x M_i).
std::string buildModule(const LayerCase &layer, mlir::MLIRContext &context) {
  auto quantizer = parseQuantizerName(&context, layer.quantizer);
  EXPECT_TRUE(static_cast<bool>(quantizer));
  std::string q;
  llvm::raw_string_ostream(q) << *quantizer;
  std::string text = llvm::formatv("module attributes {{qpal.model_file = "
                                   "\"{0}\"} {{\n",
                                   tinyModelPath());
  std::string args = llvm::formatv("%xb: memref<{0}x32xf32>", kTokens);
  std::string results, body, types;
  for (auto [index, role] : llvm::enumerate(layer.roles)) {
    int64_t rows = layer.rows[index];
    text += llvm::formatv("  qpal.weight @{0} : tensor<{1}x32xf32> {{source "
                          "= \"{2}\"}\n",
                          role, rows, tensorName(role));
    args += llvm::formatv(", %y{0}: memref<{1}x{2}xf32>", index, kTokens, rows);
    std::string type = llvm::formatv("tensor<{0}x{1}xf32>", kTokens, rows);
    types += (index ? ", " : "") + type;
    body += llvm::formatv("      %m{0} = qpal.linear %x, @{1} {{block = 0 : "
                          "i64, role = #qpal.role<{1}>, quantizer = {2}} : "
                          "tensor<{3}x32xf32> -> {4}\n",
                          index, role, q, kTokens, type);
    results += llvm::formatv("  bufferization.materialize_in_destination "
                             "%r#{0} in restrict writable %y{0} : ({1}, "
                             "memref<{2}x{3}xf32>) -> ()\n",
                             index, type, kTokens, rows);
  }
  text += "  func.func @layer(" + args + ") {\n";
  text += llvm::formatv("  %x = bufferization.to_tensor %xb restrict : "
                        "memref<{0}x32xf32> to tensor<{0}x32xf32>\n",
                        kTokens);
  size_t members = layer.roles.size();
  if (members == 1) {
    text += llvm::formatv("  %r:1 = qpal.linear %x, @{0} {{block = 0 : i64, "
                          "role = #qpal.role<{0}>, quantizer = {1}} : "
                          "tensor<{2}x32xf32> -> {3}\n",
                          layer.roles[0], q, kTokens, types);
  } else {
    std::string yields;
    for (size_t i = 0; i < members; ++i)
      yields += llvm::formatv("{0}%m{1}", i ? ", " : "", i);
    text += llvm::formatv("  %r:{0} = qpal.fusion_group -> ({1}) {{\n{2}"
                          "      qpal.yield {3} : {1}\n  }\n",
                          members, types, body, yields);
  }
  text += results + "  return\n  }\n}\n";
  return text;
}

/// Registers what the path needs: qpal's kernel lowering, bufferization.
mlir::DialectRegistry makeRegistry() {
  mlir::DialectRegistry registry;
  registerKernelLoweringDependencies(registry);
  registry.insert<mlir::bufferization::BufferizationDialect,
                  mlir::linalg::LinalgDialect, mlir::tensor::TensorDialect>();
  mlir::arith::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  mlir::linalg::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::tensor::registerBufferizableOpInterfaceExternalModels(registry);
  return registry;
}

/// Registers the passes the textual pipeline names, once per process.
void registerPipelinePasses() {
  static bool registered = [] {
    registerQPalPasses();
    registerQPalPipelines();
    mlir::bufferization::registerBufferizationPasses();
    mlir::bufferization::registerBufferizationPipelines();
    mlir::registerLinalgPasses();
    return true;
  }();
  (void)registered;
}

class LowerLinearsTest : public ::testing::TestWithParam<LayerCase> {};

TEST_P(LowerLinearsTest, ProductsEqualTheReferenceDecode) {
  const LayerCase &layer = GetParam();
  mlir::MLIRContext context(makeRegistry());
  context.loadAllAvailableDialects();
  std::string text = buildModule(layer, context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  ASSERT_TRUE(module) << text;

  registerPipelinePasses();
  mlir::PassManager pm(&context);
  ASSERT_TRUE(mlir::succeeded(mlir::parsePassPipeline(
      // The passes of qpal-lower-linears, with the model pipeline's
      // bufferization and deallocation before the kernels are called (the
      // kernel lowering frees its own temporaries): nothing leaks.
      llvm::formatv("qpal-quantize-weights,qpal-convert-to-buffers,"
                    "one-shot-bufferize,buffer-deallocation-pipeline,"
                    "qpal-lower-to-kernels{{target=cpu batch={0} "
                    "cpu-isa=host},convert-linalg-to-loops,"
                    "qpal-cpu-kernels-to-llvm",
                    kTokens)
          .str(),
      pm)));
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  auto engine = jitCpuKernels(*module);
  ASSERT_TRUE(static_cast<bool>(engine)) << llvm::toString(engine.takeError());
  // A fused group's member results are strided slices of its product:
  // their copies call the MLIR runtime's memrefCopy.
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("memrefCopy")] = {
        llvm::orc::ExecutorAddr::fromPtr(&memrefCopy),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  auto symbol = (*engine)->lookup("layer");
  ASSERT_TRUE(static_cast<bool>(symbol)) << llvm::toString(symbol.takeError());

  // Random activations through the compiled layer.
  int64_t totalRows = 0;
  for (int64_t rows : layer.rows)
    totalRows += rows;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> x(kTokens * 32);
  for (float &v : x)
    v = normal(rng);
  std::vector<std::vector<float>> y;
  for (int64_t rows : layer.rows)
    y.emplace_back(kTokens * rows, std::nanf(""));
  ASSERT_LE(layer.rows.size(), 3u);
  float *out[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < y.size(); ++i)
    out[i] = y[i].data();
  using LayerFn = void (*)(float *, float *, float *, float *);
  reinterpret_cast<LayerFn> (*symbol)(x.data(), out[0], out[1], out[2]);

  // The reference: the stacked weight quantized as fake quantization does,
  // decoded by lib/Quant, times x in float64.
  auto model = model::openModel(tinyModelPath());
  ASSERT_TRUE(static_cast<bool>(model));
  std::vector<float> stacked;
  for (const char *role : layer.roles) {
    auto values = (*model)->read(tensorName(role));
    ASSERT_TRUE(static_cast<bool>(values));
    stacked.insert(stacked.end(), values->begin(), values->end());
  }
  auto spec = QuantizerSpec::parse(layer.quantizer);
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  QuantizeOptions options;
  options.seed = model::getBlockLinearSeed(
      0, llvm::formatv("0_{0}.{1}_proj",
                       layer.roles[0][0] == 'g' || layer.roles[0][0] == 'u' ||
                               layer.roles[0][0] == 'd'
                           ? "mlp"
                           : "self_attn",
                       layer.roles[0])
             .str());
  auto quantized = quantizeLayer(*spec, stacked.data(), totalRows, 32, options);
  ASSERT_TRUE(static_cast<bool>(quantized));
  auto weights = dequantizeLayer(*quantized);
  ASSERT_TRUE(static_cast<bool>(weights));

  double worst = 0, largest = 0;
  int64_t first = 0;
  for (size_t member = 0; member < y.size(); ++member) {
    int64_t rows = layer.rows[member];
    for (int64_t n = 0; n < kTokens; ++n)
      for (int64_t m = 0; m < rows; ++m) {
        double expected = 0;
        for (int64_t k = 0; k < 32; ++k)
          expected += double((*weights)[(first + m) * 32 + k]) * x[n * 32 + k];
        double got = y[member][n * rows + m];
        double error = std::abs(got - expected);
        worst = std::isnan(got) ? INFINITY : std::max(worst, error);
        largest = std::max(largest, std::abs(expected));
      }
    first += rows;
  }
  ASSERT_GT(largest, 0.0);
  EXPECT_LT(worst / largest, 1e-5)
      << layer.quantizer << ": max error " << worst << " of " << largest;
}

/// Each family of Families.def on o_proj (32 x 32): its first tensor-core
/// member whose layout fits a 32 x 32 weight (the column split needs 64
/// columns; the tiny model has none), and its first SIMT member. Then the
/// fused groups.
std::vector<LayerCase> layerCases() {
  std::vector<LayerCase> cases;
  for (const QuantizerFamilyInfo *family : quantizerFamilies()) {
    if (family->codecKind() == CodecKind::Dense)
      continue;
    for (KernelKind kernel : {KernelKind::TensorCore, KernelKind::Simt})
      for (const QuantizerSpec &spec : family->members())
        if (spec.kernel == kernel && !spec.checkShape(32, 32)) {
          cases.push_back({spec.referenceName(), {"o"}, {32}});
          break;
        }
  }
  // A fused q/k/v group: one packed weight of 64 rows, one kernel, three
  // results; SIMT layouts take the 16-row k and v.
  cases.push_back({"ldlq_1_4_none_1.0:simt", {"q", "k", "v"}, {32, 16, 16}});
  cases.push_back({"ldlq_1_6_none_1.0:simt", {"gate", "up"}, {48, 48}});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(TinyLlama, LowerLinearsTest,
                         ::testing::ValuesIn(layerCases()),
                         [](const ::testing::TestParamInfo<LayerCase> &info) {
                           std::string name =
                               llvm::formatv("{0}_{1}", info.param.quantizer,
                                             info.param.roles.size());
                           for (char &c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

} // namespace

namespace {

/// A quantizer whose decode models were not registered (a plug-in's, or a
/// context set up without the conversion library) is refused by name before
/// any kernel is built, not dereferenced.
TEST(KernelLowering, UnregisteredDecodeIsADiagnostic) {
  mlir::MLIRContext context;
  context.loadDialect<QPalDialect>();
  std::string message;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    message += diag.str();
    return mlir::success();
  });
  auto quantizer = parseQuantizerName(&context, "tcq_6_none_0.9");
  ASSERT_TRUE(static_cast<bool>(quantizer));
  KernelShape shape{*quantizer, 64, 64, 1};
  EXPECT_TRUE(
      mlir::failed(verifyKernelShape(mlir::UnknownLoc::get(&context), shape)));
  EXPECT_EQ(message, "no decode of #qpal.tcq<kv = 6> is registered (the "
                     "conversion library's registerDecodeInterfaceModels "
                     "attaches qpal's)");

  // With the models attached, the same shape is accepted.
  mlir::MLIRContext registered(makeRegistry());
  registered.loadDialect<QPalDialect>();
  auto attached = parseQuantizerName(&registered, "tcq_6_none_0.9");
  ASSERT_TRUE(static_cast<bool>(attached));
  KernelShape good{*attached, 64, 64, 1};
  EXPECT_TRUE(mlir::succeeded(
      verifyKernelShape(mlir::UnknownLoc::get(&registered), good)));
}

} // namespace
