//===- RotationKernelTest.cpp - The CPU activation rotation kernel -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The host rotation kernel, JIT-compiled, against lib/Quant's
// HadamardTransform in float: bit for bit, for powers of two and K * 2^k
// sizes, on the vector path (M a multiple of 16: SmolLM2's 576 = 36 * 16
// and 1536 = 12 * 128) and the scalar one (M below 16), over a range of rows
// that leaves the rows outside it untouched.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Quant/Hadamard.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace qpal;

namespace {

struct RotationCase {
  int64_t cols;
  int64_t batch;
};

class RotationKernelTest : public ::testing::TestWithParam<RotationCase> {};

std::vector<float> hkOf(unsigned order) {
  std::vector<float> hk(static_cast<size_t>(order) * order, 1.0f);
  if (order > 1) {
    auto matrix = hadamardMatrix(order);
    EXPECT_TRUE(static_cast<bool>(matrix));
    for (size_t i = 0; i < hk.size(); ++i)
      hk[i] = (*matrix)[i];
  }
  return hk;
}

TEST_P(RotationKernelTest, EqualsHadamardTransformBitForBit) {
  auto [cols, batch] = GetParam();
  mlir::DialectRegistry registry;
  registerKernelLoweringDependencies(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::OpBuilder builder(&context);
  mlir::Location loc = builder.getUnknownLoc();
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  ASSERT_TRUE(
      mlir::succeeded(buildCpuRotationKernel(builder, loc, cols, batch)));
  ASSERT_TRUE(mlir::succeeded(lowerCpuKernelsToLLVM(*module)));
  auto engine = jitCpuKernels(*module);
  ASSERT_TRUE(static_cast<bool>(engine)) << llvm::toString(engine.takeError());
  auto symbol = (*engine)->lookup(getRotationKernelName(cols, batch, "cpu"));
  ASSERT_TRUE(static_cast<bool>(symbol)) << llvm::toString(symbol.takeError());

  auto transform = HadamardTransform::create(cols);
  ASSERT_TRUE(static_cast<bool>(transform))
      << llvm::toString(transform.takeError());
  std::mt19937 rng(static_cast<unsigned>(cols * 31 + batch));
  std::normal_distribution<float> normal;
  std::vector<float> x(batch * cols), signs(cols);
  for (float &v : x)
    v = normal(rng);
  for (float &s : signs)
    s = (rng() & 1) ? 1.0f : -1.0f;
  std::vector<float> hk = hkOf(transform->smallOrder());
  std::vector<float> t(batch * cols, 0.0f);
  std::vector<float> y(batch * cols, std::nanf(""));
  // Rows [first, last): the first row stays out of the range when there are
  // several, to show the range is honoured.
  int64_t range[2] = {batch > 1 ? 1 : 0, batch};
  using RotateFn =
      void (*)(float *, float *, float *, float *, float *, int64_t *);
  reinterpret_cast<RotateFn> (*symbol)(x.data(), signs.data(), hk.data(),
                                       t.data(), y.data(), range);

  std::vector<float> expected(cols), scratch(cols);
  for (int64_t n = 0; n < batch; ++n) {
    if (n < range[0]) {
      for (int64_t i = 0; i < cols; ++i)
        EXPECT_TRUE(std::isnan(y[n * cols + i])) << "row " << n << " col " << i;
      continue;
    }
    for (int64_t i = 0; i < cols; ++i)
      expected[i] = x[n * cols + i] * signs[i];
    transform->apply(expected.data(), scratch.data());
    for (int64_t i = 0; i < cols; ++i) {
      float got = y[n * cols + i];
      uint32_t gotBits, wantBits;
      std::memcpy(&gotBits, &got, 4);
      std::memcpy(&wantBits, &expected[i], 4);
      ASSERT_EQ(gotBits, wantBits) << "row " << n << " col " << i << ": " << got
                                   << " against " << expected[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, RotationKernelTest,
    ::testing::Values(RotationCase{32, 1}, RotationCase{64, 3},
                      RotationCase{576, 1}, RotationCase{576, 8},
                      RotationCase{1536, 1}, RotationCase{1536, 3},
                      RotationCase{2048, 2}, RotationCase{96, 2},
                      RotationCase{8, 1}),
    [](const ::testing::TestParamInfo<RotationCase> &info) {
      return "k" + std::to_string(info.param.cols) + "_n" +
             std::to_string(info.param.batch);
    });

} // namespace
