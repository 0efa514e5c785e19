//===- ModelToLinalg.cpp - Model-level ops to linalg/tensor/scf -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The patterns of populateQPalModelToLinalgPatterns and the pass
// qpal-lower-model-ops that applies them to the step entry points.
//
// Element-wise work is linalg.generic on tensors. Products (dense linears,
// the LM head) and attention are scf loops on buffers between
// bufferization.to_buffer and to_tensor, with the reduction in a loop-carried
// value: that keeps the accumulator in a register (a linalg reduction lowered
// to loops stores it on every step) and, with `reassoc`, lets LLVM vectorize
// the dot products. The numerics follow qpal eval's evaluator
// (lib/Model/Evaluator.cpp): RMSNorm accumulates in f64, RoPE uses its
// inverse frequencies, attention scales by 1/sqrt(head_dim) and normalizes
// the softmax with one reciprocal.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/ModelToLinalg.h"
#include "qpal/Passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

namespace qpal {
#define GEN_PASS_DEF_LOWERMODELOPSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

FailureOr<WeightGlobals> WeightGlobals::create(ModuleOp module) {
  WeightGlobals result;
  SymbolTable symbols(module);
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  WalkResult walk = module.walk([&](Operation *op) {
    FlatSymbolRefAttr symbol = getReadWeightSymbol(op);
    if (!symbol || result.globals.count(symbol.getAttr()))
      return WalkResult::advance();
    auto weight = symbols.lookup<WeightOp>(symbol.getValue());
    if (!weight) {
      op->emitOpError() << "'" << symbol
                        << "' does not reference a 'qpal.weight'";
      return WalkResult::interrupt();
    }
    std::optional<ElementsAttr> value = weight.getValue();
    if (!value) {
      op->emitOpError() << "reads the weight '" << symbol
                        << "', which has no value: run "
                           "qpal-materialize-weights first";
      return WalkResult::interrupt();
    }
    auto valueType = cast<ShapedType>(value->getType());
    std::string name = (weight.getSymName() + ".data").str();
    for (int suffix = 1; symbols.lookup(name); ++suffix)
      name = (weight.getSymName() + ".data" + Twine(suffix)).str();
    auto global = memref::GlobalOp::create(
        builder, weight.getLoc(), name, builder.getStringAttr("private"),
        MemRefType::get(valueType.getShape(), valueType.getElementType()),
        *value, /*constant=*/true, builder.getI64IntegerAttr(64));
    symbols.insert(global);
    result.globals[symbol.getAttr()] = global;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return result;
}

namespace {

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

Value constIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value constF32(OpBuilder &b, Location loc, float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// `reassoc contract`: lets LLVM reorder the dot products' sums into
/// vector lanes.
arith::FastMathFlagsAttr reductionMath(OpBuilder &b) {
  return arith::FastMathFlagsAttr::get(b.getContext(),
                                       arith::FastMathFlags::reassoc |
                                           arith::FastMathFlags::contract);
}

/// The weight's global as a buffer.
Value getWeightBuffer(OpBuilder &b, Location loc, memref::GlobalOp global) {
  return memref::GetGlobalOp::create(b, loc, global.getType(),
                                     global.getSymName());
}

/// The weight's global as a (read-only) tensor.
Value getWeightTensor(OpBuilder &b, Location loc, memref::GlobalOp global) {
  MemRefType type = global.getType();
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(type.getShape(), type.getElementType()),
      getWeightBuffer(b, loc, global), /*restrict=*/true, /*writable=*/false);
}

/// `tensor` as a read-only buffer of any layout.
Value readBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memref = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(
      b, loc,
      bufferization::getMemRefTypeWithFullyDynamicLayout(
          cast<TensorType>(type), memref.getMemorySpace()),
      tensor, /*read_only=*/true);
}

/// A fresh 64-byte aligned buffer for `type`, and its tensor once written.
Value allocFor(OpBuilder &b, Location loc, RankedTensorType type) {
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      b.getI64IntegerAttr(64));
}
Value finish(OpBuilder &b, Location loc, RankedTensorType type, Value buffer) {
  return bufferization::ToTensorOp::create(b, loc, type, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

/// Loads `buffer[indices]` as f32 (extending f16).
Value loadF32(OpBuilder &b, Location loc, Value buffer, ValueRange indices) {
  Value value = memref::LoadOp::create(b, loc, buffer, indices);
  if (!value.getType().isF32())
    value = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return value;
}

/// RMSNorm's scale of a row of `width` elements whose squares sum to
/// `sumOfSquares` (f64): f32(1 / sqrt(sum / width + epsilon)), in f64.
Value rowScale(OpBuilder &b, Location loc, Value sumOfSquares, int64_t width,
               double epsilon) {
  Value mean = arith::DivFOp::create(
      b, loc, sumOfSquares,
      arith::ConstantOp::create(b, loc,
                                b.getF64FloatAttr(static_cast<double>(width))));
  Value shifted = arith::AddFOp::create(
      b, loc, mean,
      arith::ConstantOp::create(b, loc, b.getF64FloatAttr(epsilon)));
  Value inverse = arith::DivFOp::create(
      b, loc, arith::ConstantOp::create(b, loc, b.getF64FloatAttr(1.0)),
      math::SqrtOp::create(b, loc, shifted));
  return arith::TruncFOp::create(b, loc, b.getF32Type(), inverse);
}

/// A linalg.generic over the shape of `type`, all parallel, whose body gets
/// the element's indices (and the inputs' elements) and yields the result.
Value elementwise(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{empty}, maps,
             iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               SmallVector<Value> indices;
               for (int64_t d = 0; d < type.getRank(); ++d)
                 indices.push_back(linalg::IndexOp::create(nested, l, d));
               Value result =
                   body(nested, l, indices, args.take_front(inputs.size()));
               linalg::YieldOp::create(nested, l, ValueRange{result});
             })
      .getResult(0);
}

/// y[t][m] = sum_k x[t][k] * w[m][k] for the rows x cols weight `weight`
/// (f32 or f16), on buffers: the weight rows outermost so each streams once
/// for all tokens, the sum in a loop-carried f32.
Value denseProduct(OpBuilder &b, Location loc, Value input,
                   memref::GlobalOp weight, RankedTensorType resultType,
                   KernelTarget target) {
  Value x = readBuffer(b, loc, input);
  Value w = getWeightBuffer(b, loc, weight);
  Value y = allocFor(b, loc, resultType);
  int64_t tokens = resultType.getDimSize(0);
  int64_t rows = weight.getType().getDimSize(0);
  int64_t depth = weight.getType().getDimSize(1);
  Value zero = constIndex(b, loc, 0), one = constIndex(b, loc, 1);
  arith::FastMathFlagsAttr math = reductionMath(b);
  // y[t][m], the sum over k in order.
  auto dot = [&](OpBuilder &b, Location loc, Value m, Value t) {
    auto sum = scf::ForOp::create(
        b, loc, zero, constIndex(b, loc, depth), one,
        ValueRange{constF32(b, loc, 0.0f)},
        [&](OpBuilder &b, Location loc, Value k, ValueRange acc) {
          Value xv = memref::LoadOp::create(b, loc, x, ValueRange{t, k});
          Value wv = loadF32(b, loc, w, ValueRange{m, k});
          Value p = arith::MulFOp::create(b, loc, xv, wv, math);
          scf::YieldOp::create(
              b, loc,
              ValueRange{arith::AddFOp::create(b, loc, acc[0], p, math)});
        });
    memref::StoreOp::create(b, loc, sum.getResult(0), y, ValueRange{t, m});
  };
  if (target == KernelTarget::Nvptx) {
    // A GPU thread per output.
    scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero},
        ValueRange{constIndex(b, loc, rows), constIndex(b, loc, tokens)},
        ValueRange{one, one}, [&](OpBuilder &b, Location loc, ValueRange ivs) {
          dot(b, loc, ivs[0], ivs[1]);
        });
    return finish(b, loc, resultType, y);
  }
  scf::ForOp::create(
      b, loc, zero, constIndex(b, loc, rows), one, ValueRange{},
      [&](OpBuilder &b, Location loc, Value m, ValueRange) {
        scf::ForOp::create(
            b, loc, zero, constIndex(b, loc, tokens), one, ValueRange{},
            [&](OpBuilder &b, Location loc, Value t, ValueRange) {
              dot(b, loc, m, t);
              scf::YieldOp::create(b, loc);
            });
        scf::YieldOp::create(b, loc);
      });
  return finish(b, loc, resultType, y);
}

/// The enclosing step entry point's KV cache and position arguments.
FailureOr<std::pair<Value, Value>> getStepArguments(Operation *op) {
  auto function = op->getParentOfType<func::FuncOp>();
  if (!function)
    return failure();
  for (unsigned i = 0, e = function.getNumArguments(); i < e; ++i)
    if (function.getArgAttr(i, QPalDialect::kKvCacheAttrName) && e >= 2 &&
        function.getArgument(1).getType().isIndex())
      return std::pair<Value, Value>(function.getArgument(i),
                                     function.getArgument(1));
  return failure();
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Base of the patterns that read a weight through its global.
template <typename Op> struct WeightPattern : OpConversionPattern<Op> {
  WeightPattern(MLIRContext *context, const WeightGlobals &weights)
      : OpConversionPattern<Op>(context), weights(weights) {}

  FailureOr<memref::GlobalOp>
  global(Op op, ConversionPatternRewriter &rewriter) const {
    FlatSymbolRefAttr symbol = getReadWeightSymbol(op);
    memref::GlobalOp result = weights.lookup(symbol.getAttr());
    if (!result)
      return rewriter.notifyMatchFailure(op, "the weight has no global");
    return result;
  }

  const WeightGlobals &weights;
};

/// Element `col` of row `row` of a table stored in the ggml block format
/// `format` (`table`: rows x bytes-per-row of i8), decoded as lib/Model's
/// `dequantize` decodes it, at the offsets of its ScaledBlockLayout: the
/// block's f16 scale d (and minimum m), the element's 4-, 5- or 8-bit code
/// q, then f32(q - zero) * d (+ m), a product and a sum, never fused.
Value decodeBlockElement(OpBuilder &b, Location loc, Value table, Value row,
                         Value col, model::TensorType format) {
  model::ScaledBlockLayout layout = *model::getScaledBlockLayout(format);
  Type i32 = b.getI32Type(), i16 = b.getI16Type(), f32 = b.getF32Type();
  auto index = [&](int64_t value) { return constIndex(b, loc, value); };
  auto i32Const = [&](int64_t value) {
    return arith::ConstantIntOp::create(b, loc, i32, value).getResult();
  };
  int64_t blockElements = model::getBlockElements(format);
  Value block = arith::DivUIOp::create(b, loc, col, index(blockElements));
  Value base =
      arith::MulIOp::create(b, loc, block, index(model::getBlockBytes(format)));
  Value element = arith::RemUIOp::create(b, loc, col, index(blockElements));
  // The byte at `offset` (an index value) from the block's start.
  auto byteAt = [&](Value offset) {
    Value at = arith::AddIOp::create(b, loc, base, offset);
    return tensor::ExtractOp::create(b, loc, table, ValueRange{row, at})
        .getResult();
  };
  auto half = [&](int64_t offset) {
    Value low = arith::ExtUIOp::create(b, loc, i16, byteAt(index(offset)));
    Value high = arith::ExtUIOp::create(b, loc, i16, byteAt(index(offset + 1)));
    high = arith::ShLIOp::create(b, loc, high,
                                 arith::ConstantIntOp::create(b, loc, i16, 8));
    Value bits = arith::OrIOp::create(b, loc, low, high);
    Value value = arith::BitcastOp::create(b, loc, b.getF16Type(), bits);
    return arith::ExtFOp::create(b, loc, f32, value).getResult();
  };
  Value scale = half(0);
  Value min = layout.min >= 0 ? half(layout.min) : Value();
  Value code;
  if (layout.codeBits == 8) {
    code = arith::SIToFPOp::create(
        b, loc, f32,
        byteAt(arith::AddIOp::create(b, loc, element, index(layout.codes))));
  } else {
    // Elements i and i + 16 share byte i % 16 of the codes: the low nibble,
    // then the high.
    Value inBytes = arith::RemUIOp::create(b, loc, element, index(16));
    Value packed = arith::ExtUIOp::create(
        b, loc, i32,
        byteAt(arith::AddIOp::create(b, loc, inBytes, index(layout.codes))));
    Value element32 = arith::IndexCastUIOp::create(b, loc, i32, element);
    Value shift = arith::ShLIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, element32, i32Const(4)),
        i32Const(2));
    Value q = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, packed, shift), i32Const(15));
    if (layout.highBits >= 0) {
      // The fifth bit: bit i of the little-endian 32-bit word.
      Value byteIndex = arith::AddIOp::create(
          b, loc, arith::ShRUIOp::create(b, loc, element, index(3)),
          index(layout.highBits));
      Value bits = arith::ExtUIOp::create(b, loc, i32, byteAt(byteIndex));
      Value bit = arith::AndIOp::create(
          b, loc,
          arith::ShRUIOp::create(
              b, loc, bits,
              arith::AndIOp::create(b, loc, element32, i32Const(7))),
          i32Const(1));
      q = arith::OrIOp::create(b, loc, q,
                               arith::ShLIOp::create(b, loc, bit, i32Const(4)));
    }
    if (layout.zero != 0)
      q = arith::SubIOp::create(b, loc, q, i32Const(layout.zero));
    code = arith::SIToFPOp::create(b, loc, f32, q);
  }
  Value value = arith::MulFOp::create(b, loc, code, scale);
  if (min)
    value = arith::AddFOp::create(b, loc, value, min);
  return value;
}

/// qpal.embedding: each row gathers its token's table row, decoding it when
/// the table keeps a ggml block format (the weight's `storage`).
struct EmbeddingLowering : WeightPattern<EmbeddingOp> {
  using WeightPattern::WeightPattern;
  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<memref::GlobalOp> table = global(op, rewriter);
    if (failed(table))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                             "entry point's)");
    auto weight =
        SymbolTable::lookupNearestSymbolFrom<WeightOp>(op, op.getTableAttr());
    std::optional<model::TensorType> format =
        weight ? weight.getStorageFormat() : std::nullopt;
    Value tableTensor = getWeightTensor(rewriter, loc, *table);
    MLIRContext *context = rewriter.getContext();
    AffineMap rows = AffineMap::get(2, 0, getAffineDimExpr(0, context));
    Value result = elementwise(
        rewriter, loc, type, ValueRange{adaptor.getIds()}, {rows},
        [&](OpBuilder &b, Location l, ValueRange idx, ValueRange args) {
          Value id =
              arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          if (format)
            return decodeBlockElement(b, l, tableTensor, id, idx[1], *format);
          Value value = tensor::ExtractOp::create(b, l, tableTensor,
                                                  ValueRange{id, idx[1]});
          if (!value.getType().isF32())
            value = arith::ExtFOp::create(b, l, b.getF32Type(), value);
          return value;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// qpal.rms_norm: the mean square in f64 (a reduction), the row's scale
/// f32(1 / sqrt(ms + eps)), then x * scale * gain.
struct RmsNormLowering : WeightPattern<RmsNormOp> {
  RmsNormLowering(MLIRContext *context, const WeightGlobals &weights,
                  KernelTarget target)
      : WeightPattern(context, weights), target(target) {}
  LogicalResult
  matchAndRewrite(RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<memref::GlobalOp> gain = global(op, rewriter);
    if (failed(gain))
      return failure();
    Location loc = op.getLoc();
    if (target == KernelTarget::Nvptx) {
      auto type = cast<RankedTensorType>(op.getType());
      if (!type.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                               "entry point's)");
      rewriter.replaceOp(op,
                         lowerForGpu(rewriter, loc, adaptor.getInput(), *gain,
                                     type, op.getEpsilon().convertToDouble()));
      return success();
    }
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                             "entry point's)");
    int64_t rows = type.getDimSize(0), width = type.getDimSize(1);
    MLIRContext *context = rewriter.getContext();
    auto f64 = rewriter.getF64Type();
    auto sumsType = RankedTensorType::get({rows}, f64);
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF64FloatAttr(0.0));
    Value sums = linalg::FillOp::create(
                     rewriter, loc, ValueRange{zero},
                     ValueRange{tensor::EmptyOp::create(
                         rewriter, loc, ArrayRef<int64_t>{rows}, f64)})
                     .getResult(0);
    AffineMap identity = rewriter.getMultiDimIdentityMap(2);
    AffineMap perRow = AffineMap::get(2, 0, getAffineDimExpr(0, context));
    AffineMap perColumn = AffineMap::get(2, 0, getAffineDimExpr(1, context));
    sums =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{sumsType}, ValueRange{adaptor.getInput()},
            ValueRange{sums}, ArrayRef<AffineMap>{identity, perRow},
            ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                          utils::IteratorType::reduction},
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value x = arith::ExtFOp::create(b, l, f64, args[0]);
              Value square = arith::MulFOp::create(b, l, x, x);
              linalg::YieldOp::create(
                  b, l,
                  ValueRange{arith::AddFOp::create(b, l, args[1], square)});
            })
            .getResult(0);
    // The row's scale once per row (not per element): f32(1 / sqrt(ms +
    // eps)).
    double epsilon = op.getEpsilon().convertToDouble();
    AffineMap rowIdentity = rewriter.getMultiDimIdentityMap(1);
    Value scales = elementwise(
        rewriter, loc, RankedTensorType::get({rows}, rewriter.getF32Type()),
        ValueRange{sums}, {rowIdentity},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange args) {
          return rowScale(b, l, args[0], width, epsilon);
        });
    Value gainTensor = getWeightTensor(rewriter, loc, *gain);
    Value result = elementwise(
        rewriter, loc, type, ValueRange{adaptor.getInput(), scales, gainTensor},
        {identity, perRow, perColumn},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange args) {
          Value gainValue = args[2];
          if (!gainValue.getType().isF32())
            gainValue = arith::ExtFOp::create(b, l, b.getF32Type(), gainValue);
          return arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, args[0], args[1]), gainValue);
        });
    rewriter.replaceOp(op, result);
    return success();
  }

  /// RMSNorm for a GPU in one nest, a thread per element: each thread sums
  /// its row's squares in f64 and computes the row's scale exactly as the
  /// CPU's linalg ops do (the row is a few KB, read from cache), then scales
  /// its element and applies the gain. One kernel instead of four, and no
  /// nest of a single row, which canonicalization would inline into the
  /// host code at batch 1.
  Value lowerForGpu(OpBuilder &b, Location loc, Value input,
                    memref::GlobalOp gain, RankedTensorType type,
                    double epsilon) const {
    int64_t rows = type.getDimSize(0), width = type.getDimSize(1);
    Value x = readBuffer(b, loc, input);
    Value g = getWeightBuffer(b, loc, gain);
    Value zero = constIndex(b, loc, 0), one = constIndex(b, loc, 1);
    auto f64 = b.getF64Type();
    Value y = allocFor(b, loc, type);
    scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero},
        ValueRange{constIndex(b, loc, rows), constIndex(b, loc, width)},
        ValueRange{one, one}, [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value row = ivs[0];
          auto sum = scf::ForOp::create(
              b, loc, zero, constIndex(b, loc, width), one,
              ValueRange{
                  arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0))},
              [&](OpBuilder &b, Location loc, Value k, ValueRange acc) {
                Value loaded =
                    memref::LoadOp::create(b, loc, x, ValueRange{row, k});
                Value v = arith::ExtFOp::create(b, loc, f64, loaded);
                Value square = arith::MulFOp::create(b, loc, v, v);
                scf::YieldOp::create(
                    b, loc,
                    ValueRange{arith::AddFOp::create(b, loc, acc[0], square)});
              });
          Value scale = rowScale(b, loc, sum.getResult(0), width, epsilon);
          Value v = memref::LoadOp::create(b, loc, x, ivs);
          Value gainValue = loadF32(b, loc, g, ValueRange{ivs[1]});
          memref::StoreOp::create(
              b, loc,
              arith::MulFOp::create(
                  b, loc, arith::MulFOp::create(b, loc, v, scale), gainValue),
              y, ivs);
        });
    return finish(b, loc, type, y);
  }

  KernelTarget target;
};

/// qpal.rope: each element pairs with its partner in the head (the other
/// half, or its neighbour when interleaved) and rotates by
/// position * inverse frequency.
struct RopeLowering : OpConversionPattern<RopeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                             "entry point's)");
    int64_t headDim = op.getHeadDim();
    int64_t pairs = headDim / 2;
    bool interleaved = op.getInterleaved();
    // The evaluator's inverse frequencies: theta^(-2i/d) in f64, kept as f32.
    double theta = op.getTheta().convertToDouble();
    SmallVector<float> inverse(pairs);
    if (std::optional<ArrayRef<float>> given = op.getInverseFrequencies())
      inverse.assign(given->begin(), given->end());
    else
      for (int64_t i = 0; i < pairs; ++i)
        inverse[i] = static_cast<float>(
            std::pow(theta, -2.0 * static_cast<double>(i) / headDim));
    Value frequencies = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({pairs}, rewriter.getF32Type()),
            ArrayRef<float>(inverse)));
    MLIRContext *context = rewriter.getContext();
    AffineMap perRow = AffineMap::get(2, 0, getAffineDimExpr(0, context));
    // cos and sin of position * frequency, per token and pair: pure tensor
    // ops of the positions alone, so that CSE leaves one table for all the
    // step's RoPEs.
    auto tableType = RankedTensorType::get({type.getDimSize(0), pairs},
                                           rewriter.getF32Type());
    auto table = [&](bool sine) {
      return elementwise(
          rewriter, loc, tableType, ValueRange{adaptor.getPositions()},
          {perRow},
          [&](OpBuilder &b, Location l, ValueRange idx, ValueRange args) {
            Value frequency = tensor::ExtractOp::create(b, l, frequencies,
                                                        ValueRange{idx[1]});
            Value position =
                arith::SIToFPOp::create(b, l, b.getF32Type(), args[0]);
            Value angle = arith::MulFOp::create(b, l, position, frequency);
            return sine ? math::SinOp::create(b, l, angle).getResult()
                        : math::CosOp::create(b, l, angle).getResult();
          });
    };
    Value cosines = table(/*sine=*/false), sines = table(/*sine=*/true);
    Value input = adaptor.getInput();
    Value result = elementwise(
        rewriter, loc, type, ValueRange{}, {},
        [&](OpBuilder &b, Location l, ValueRange idx, ValueRange) {
          Value column = idx[1];
          Value d = constIndex(b, l, headDim);
          Value within = arith::RemUIOp::create(b, l, column, d);
          Value headStart = arith::SubIOp::create(b, l, column, within);
          // pair index i, whether this is the pair's second element, and the
          // partner's column.
          Value pair, second, partner;
          if (interleaved) {
            Value two = constIndex(b, l, 2);
            pair = arith::DivUIOp::create(b, l, within, two);
            second = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::ne,
                arith::RemUIOp::create(b, l, within, two), constIndex(b, l, 0));
            Value even = arith::SubIOp::create(
                b, l, column, arith::RemUIOp::create(b, l, within, two));
            partner = arith::SelectOp::create(
                b, l, second, even,
                arith::AddIOp::create(b, l, column, constIndex(b, l, 1)));
          } else {
            Value half = constIndex(b, l, pairs);
            second = arith::CmpIOp::create(b, l, arith::CmpIPredicate::uge,
                                           within, half);
            pair = arith::SelectOp::create(
                b, l, second, arith::SubIOp::create(b, l, within, half),
                within);
            partner = arith::AddIOp::create(
                b, l, headStart,
                arith::SelectOp::create(
                    b, l, second, pair,
                    arith::AddIOp::create(b, l, within, half)));
          }
          Value cos = tensor::ExtractOp::create(b, l, cosines,
                                                ValueRange{idx[0], pair});
          Value sin =
              tensor::ExtractOp::create(b, l, sines, ValueRange{idx[0], pair});
          Value self = tensor::ExtractOp::create(b, l, input,
                                                 ValueRange{idx[0], column});
          Value other = tensor::ExtractOp::create(b, l, input,
                                                  ValueRange{idx[0], partner});
          // first:  a cos - b sin (self = a, other = b)
          // second: a sin + b cos (self = b, other = a)
          Value first = arith::SubFOp::create(
              b, l, arith::MulFOp::create(b, l, self, cos),
              arith::MulFOp::create(b, l, other, sin));
          Value last = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, other, sin),
              arith::MulFOp::create(b, l, self, cos));
          return arith::SelectOp::create(b, l, second, last, first);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// qpal.attention: the tokens' keys and values go to the cache at
/// [position, position + n); token t attends over [0, position + t].
struct AttentionLowering : OpConversionPattern<AttentionOp> {
  AttentionLowering(MLIRContext *context, KernelTarget target)
      : OpConversionPattern(context), target(target) {}
  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<std::pair<Value, Value>> step = getStepArguments(op);
    auto layerAttr =
        op->getAttrOfType<IntegerAttr>(QPalDialect::kLayerAttrName);
    if (failed(step) || !layerAttr)
      return rewriter.notifyMatchFailure(
          op, "expects a step entry point's attention (qpal-outline-steps)");
    Value cache = step->first, position = step->second;
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                             "entry point's)");
    int64_t tokens = type.getDimSize(0);
    int64_t headDim = op.getHeadDim(), heads = op.getNumHeads();
    int64_t group = heads / op.getNumKvHeads();
    int64_t width = op.getNumKvHeads() * headDim;
    int64_t layer = layerAttr.getInt();
    if (cast<MemRefType>(cache.getType()).getDimSize(2) != width)
      return rewriter.notifyMatchFailure(
          op, "the cache's width differs from key/value heads x head_dim");
    OpBuilder &b = rewriter;
    Value zero = constIndex(b, loc, 0), one = constIndex(b, loc, 1);
    Value keyPlane = constIndex(b, loc, 2 * layer);
    Value valuePlane = constIndex(b, loc, 2 * layer + 1);

    bool gpu = target == KernelTarget::Nvptx;
    // Copies [tokens x columns] elements: `body(t, c)`. On a GPU, one
    // thread per element.
    auto copyLoops =
        [&](int64_t columns,
            function_ref<void(OpBuilder &, Location, Value, Value)> body) {
          if (gpu) {
            scf::ParallelOp::create(
                b, loc, ValueRange{zero, zero},
                ValueRange{constIndex(b, loc, tokens),
                           constIndex(b, loc, columns)},
                ValueRange{one, one},
                [&](OpBuilder &b, Location loc, ValueRange ivs) {
                  body(b, loc, ivs[0], ivs[1]);
                });
            return;
          }
          scf::ForOp::create(
              b, loc, zero, constIndex(b, loc, tokens), one, ValueRange{},
              [&](OpBuilder &b, Location loc, Value t, ValueRange) {
                scf::ForOp::create(
                    b, loc, zero, constIndex(b, loc, columns), one,
                    ValueRange{},
                    [&](OpBuilder &b, Location loc, Value c, ValueRange) {
                      body(b, loc, t, c);
                      scf::YieldOp::create(b, loc);
                    });
                scf::YieldOp::create(b, loc);
              });
        };
    // The cache rows of this call, element by element (a strided
    // memref.copy would need a runtime library).
    auto store = [&](Value tensor, Value plane) {
      Value rows = readBuffer(b, loc, tensor);
      if (gpu) {
        copyLoops(width, [&](OpBuilder &b, Location loc, Value t, Value c) {
          Value row = arith::AddIOp::create(b, loc, position, t);
          Value v = memref::LoadOp::create(b, loc, rows, ValueRange{t, c});
          memref::StoreOp::create(b, loc, v, cache, ValueRange{plane, row, c});
        });
        return;
      }
      scf::ForOp::create(
          b, loc, zero, constIndex(b, loc, tokens), one, ValueRange{},
          [&](OpBuilder &b, Location loc, Value t, ValueRange) {
            Value row = arith::AddIOp::create(b, loc, position, t);
            scf::ForOp::create(
                b, loc, zero, constIndex(b, loc, width), one, ValueRange{},
                [&](OpBuilder &b, Location loc, Value c, ValueRange) {
                  Value v =
                      memref::LoadOp::create(b, loc, rows, ValueRange{t, c});
                  memref::StoreOp::create(b, loc, v, cache,
                                          ValueRange{plane, row, c});
                  scf::YieldOp::create(b, loc);
                });
            scf::YieldOp::create(b, loc);
          });
    };
    store(adaptor.getKey(), keyPlane);
    store(adaptor.getValue(), valuePlane);

    // The query rows, copied to a contiguous buffer so that a head's
    // query is one vector load (the tensor's buffer may be strided).
    int64_t queryWidth = heads * headDim;
    Value queryView = readBuffer(b, loc, adaptor.getQuery());
    Value query = memref::AllocOp::create(
        b, loc, MemRefType::get({tokens, queryWidth}, b.getF32Type()),
        b.getI64IntegerAttr(64));
    copyLoops(queryWidth, [&](OpBuilder &b, Location loc, Value t, Value c) {
      memref::StoreOp::create(
          b, loc, memref::LoadOp::create(b, loc, queryView, ValueRange{t, c}),
          query, ValueRange{t, c});
    });
    Value out = allocFor(b, loc, type);
    Value scale =
        constF32(b, loc, 1.0f / std::sqrt(static_cast<float>(headDim)));
    if (gpu) {
      lowerForGpu(b, loc, cache, position, keyPlane, valuePlane, query, out,
                  scale, tokens, heads, headDim, group);
      rewriter.replaceOp(op, finish(b, loc, type, out));
      return success();
    }
    arith::FastMathFlagsAttr math = reductionMath(b);
    // A head's query, key, value and output rows are vector<head_dim x f32>
    // values: the dot products and the weighted sum of values run along
    // contiguous lanes, the sum in registers across the positions.
    auto headType = VectorType::get({headDim}, b.getF32Type());
    Value headWidth = constIndex(b, loc, headDim);
    Value groupSize = constIndex(b, loc, group);
    // (token, head) pairs are independent: one scf.parallel over them, which
    // qpal-outline-parallel-loops sends to the host's threads.
    scf::ParallelOp::create(
        b, loc, ValueRange{zero},
        ValueRange{constIndex(b, loc, tokens * heads)}, ValueRange{one},
        [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value headCount = constIndex(b, loc, heads);
          Value t = arith::DivUIOp::create(b, loc, ivs[0], headCount);
          Value h = arith::RemUIOp::create(b, loc, ivs[0], headCount);
          Value visible = arith::AddIOp::create(
              b, loc, arith::AddIOp::create(b, loc, position, t), one);
          Value scores = memref::AllocOp::create(
              b, loc, MemRefType::get({ShapedType::kDynamic}, b.getF32Type()),
              ValueRange{visible}, b.getI64IntegerAttr(64));
          Value qBase = arith::MulIOp::create(b, loc, h, headWidth);
          Value kvBase = arith::MulIOp::create(
              b, loc, arith::DivUIOp::create(b, loc, h, groupSize), headWidth);
          Value q = vector::LoadOp::create(b, loc, headType, query,
                                           ValueRange{t, qBase});
          // scores[s] = scale * q . k_s, and their maximum.
          Value negInf =
              constF32(b, loc, -std::numeric_limits<float>::infinity());
          auto maxLoop = scf::ForOp::create(
              b, loc, zero, visible, one, ValueRange{negInf},
              [&](OpBuilder &b, Location loc, Value s, ValueRange max) {
                Value k = vector::LoadOp::create(
                    b, loc, headType, cache, ValueRange{keyPlane, s, kvBase});
                Value dot = vector::ReductionOp::create(
                    b, loc, vector::CombiningKind::ADD,
                    arith::MulFOp::create(b, loc, q, k, math),
                    /*acc=*/Value(), math.getValue());
                Value score = arith::MulFOp::create(b, loc, dot, scale);
                memref::StoreOp::create(b, loc, score, scores, ValueRange{s});
                scf::YieldOp::create(b, loc,
                                     ValueRange{arith::MaximumFOp::create(
                                         b, loc, max[0], score)});
              });
          Value maxScore = maxLoop.getResult(0);
          // exp(score - max) and their sum.
          auto sumLoop = scf::ForOp::create(
              b, loc, zero, visible, one, ValueRange{constF32(b, loc, 0.0f)},
              [&](OpBuilder &b, Location loc, Value s, ValueRange sum) {
                Value score =
                    memref::LoadOp::create(b, loc, scores, ValueRange{s});
                Value e = math::ExpOp::create(
                    b, loc, arith::SubFOp::create(b, loc, score, maxScore));
                memref::StoreOp::create(b, loc, e, scores, ValueRange{s});
                scf::YieldOp::create(
                    b, loc,
                    ValueRange{arith::AddFOp::create(b, loc, sum[0], e)});
              });
          Value inverse = arith::DivFOp::create(b, loc, constF32(b, loc, 1.0f),
                                                sumLoop.getResult(0));
          // out[t][head] = sum_s p_s v_s, in position order.
          Value zeros = arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(headType, 0.0f));
          auto weighted = scf::ForOp::create(
              b, loc, zero, visible, one, ValueRange{zeros},
              [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
                Value p = arith::MulFOp::create(
                    b, loc,
                    memref::LoadOp::create(b, loc, scores, ValueRange{s}),
                    inverse);
                Value v = vector::LoadOp::create(
                    b, loc, headType, cache, ValueRange{valuePlane, s, kvBase});
                Value term = arith::MulFOp::create(
                    b, loc, vector::BroadcastOp::create(b, loc, headType, p), v,
                    math);
                scf::YieldOp::create(b, loc,
                                     ValueRange{arith::AddFOp::create(
                                         b, loc, acc[0], term, math)});
              });
          vector::StoreOp::create(b, loc, weighted.getResult(0), out,
                                  ValueRange{t, qBase});
        });
    // buffer-deallocation-pipeline frees `query`, each `scores` and `out`.
    rewriter.replaceOp(op, finish(b, loc, type, out));
    return success();
  }

  /// Attention for a GPU, in three loop nests with a thread per element and
  /// no allocation inside one: the scores of every (token, head) pair p and
  /// position s; each pair's maximum, exp(score - max) and its sum; each
  /// output element's weighted sum over the positions, in position order
  /// (as the CPU's lanes sum them).
  void lowerForGpu(OpBuilder &b, Location loc, Value cache, Value position,
                   Value keyPlane, Value valuePlane, Value query, Value out,
                   Value scale, int64_t tokens, int64_t heads, int64_t headDim,
                   int64_t group) const {
    arith::FastMathFlagsAttr math = reductionMath(b);
    Value zero = constIndex(b, loc, 0), one = constIndex(b, loc, 1);
    Value pairs = constIndex(b, loc, tokens * heads);
    Value headCount = constIndex(b, loc, heads);
    Value headWidth = constIndex(b, loc, headDim);
    Value groupSize = constIndex(b, loc, group);
    Value positions =
        arith::AddIOp::create(b, loc, position, constIndex(b, loc, tokens));
    auto f32 = b.getF32Type();
    Value scores = memref::AllocOp::create(
        b, loc, MemRefType::get({tokens * heads, ShapedType::kDynamic}, f32),
        ValueRange{positions}, b.getI64IntegerAttr(64));
    Value inverses =
        memref::AllocOp::create(b, loc, MemRefType::get({tokens * heads}, f32),
                                b.getI64IntegerAttr(64));
    // Pair p's token, the first column of its query row and of its key /
    // value rows, and its positions [0, visible).
    struct Pair {
      Value token, queryBase, kvBase, visible;
    };
    auto pairOf = [&](OpBuilder &b, Location loc, Value p) {
      Value t = arith::DivUIOp::create(b, loc, p, headCount);
      Value h = arith::RemUIOp::create(b, loc, p, headCount);
      return Pair{
          t, arith::MulIOp::create(b, loc, h, headWidth),
          arith::MulIOp::create(
              b, loc, arith::DivUIOp::create(b, loc, h, groupSize), headWidth),
          arith::AddIOp::create(
              b, loc, arith::AddIOp::create(b, loc, position, t), one)};
    };
    auto dims = [&](ValueRange ivs) { return SmallVector<Value>(ivs); };

    // scores[p][s] = scale * q . k_s for s < visible.
    scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero}, ValueRange{pairs, positions},
        ValueRange{one, one}, [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Pair pair = pairOf(b, loc, ivs[0]);
          Value s = ivs[1];
          Value seen = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                             s, pair.visible);
          scf::IfOp::create(b, loc, seen, [&](OpBuilder &b, Location loc) {
            auto dot = scf::ForOp::create(
                b, loc, zero, headWidth, one, ValueRange{constF32(b, loc, 0)},
                [&](OpBuilder &b, Location loc, Value d, ValueRange acc) {
                  Value q = memref::LoadOp::create(
                      b, loc, query,
                      ValueRange{pair.token, arith::AddIOp::create(
                                                 b, loc, pair.queryBase, d)});
                  Value k = memref::LoadOp::create(
                      b, loc, cache,
                      ValueRange{
                          keyPlane, s,
                          arith::AddIOp::create(b, loc, pair.kvBase, d)});
                  Value product = arith::MulFOp::create(b, loc, q, k, math);
                  scf::YieldOp::create(b, loc,
                                       ValueRange{arith::AddFOp::create(
                                           b, loc, acc[0], product, math)});
                });
            memref::StoreOp::create(
                b, loc, arith::MulFOp::create(b, loc, dot.getResult(0), scale),
                scores, dims(ivs));
            scf::YieldOp::create(b, loc);
          });
        });

    // Each pair's maximum, exp(score - max) in place, 1 / their sum.
    scf::ParallelOp::create(
        b, loc, ValueRange{zero}, ValueRange{pairs}, ValueRange{one},
        [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value p = ivs[0];
          Pair pair = pairOf(b, loc, p);
          auto maxLoop = scf::ForOp::create(
              b, loc, zero, pair.visible, one,
              ValueRange{
                  constF32(b, loc, -std::numeric_limits<float>::infinity())},
              [&](OpBuilder &b, Location loc, Value s, ValueRange max) {
                Value score =
                    memref::LoadOp::create(b, loc, scores, ValueRange{p, s});
                scf::YieldOp::create(b, loc,
                                     ValueRange{arith::MaximumFOp::create(
                                         b, loc, max[0], score)});
              });
          auto sumLoop = scf::ForOp::create(
              b, loc, zero, pair.visible, one, ValueRange{constF32(b, loc, 0)},
              [&](OpBuilder &b, Location loc, Value s, ValueRange sum) {
                Value score =
                    memref::LoadOp::create(b, loc, scores, ValueRange{p, s});
                Value e = math::ExpOp::create(
                    b, loc,
                    arith::SubFOp::create(b, loc, score, maxLoop.getResult(0)));
                memref::StoreOp::create(b, loc, e, scores, ValueRange{p, s});
                scf::YieldOp::create(
                    b, loc,
                    ValueRange{arith::AddFOp::create(b, loc, sum[0], e)});
              });
          memref::StoreOp::create(b, loc,
                                  arith::DivFOp::create(b, loc,
                                                        constF32(b, loc, 1.0f),
                                                        sumLoop.getResult(0)),
                                  inverses, ValueRange{p});
        });

    // out[t][head column d] = sum over s of (e_s / sum) * v_s[d].
    scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero}, ValueRange{pairs, headWidth},
        ValueRange{one, one}, [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value p = ivs[0], d = ivs[1];
          Pair pair = pairOf(b, loc, p);
          Value inverse =
              memref::LoadOp::create(b, loc, inverses, ValueRange{p});
          Value column = arith::AddIOp::create(b, loc, pair.kvBase, d);
          auto weighted = scf::ForOp::create(
              b, loc, zero, pair.visible, one, ValueRange{constF32(b, loc, 0)},
              [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
                Value weight = arith::MulFOp::create(
                    b, loc,
                    memref::LoadOp::create(b, loc, scores, ValueRange{p, s}),
                    inverse);
                Value v = memref::LoadOp::create(
                    b, loc, cache, ValueRange{valuePlane, s, column});
                Value term = arith::MulFOp::create(b, loc, weight, v, math);
                scf::YieldOp::create(b, loc,
                                     ValueRange{arith::AddFOp::create(
                                         b, loc, acc[0], term, math)});
              });
          memref::StoreOp::create(
              b, loc, weighted.getResult(0), out,
              ValueRange{pair.token,
                         arith::AddIOp::create(b, loc, pair.queryBase, d)});
        });
    // buffer-deallocation-pipeline frees `scores` and `inverses`.
  }

  KernelTarget target;
};

/// qpal.swiglu: gate / (1 + exp(-gate)) * up.
struct SwiGluLowering : OpConversionPattern<SwiGluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SwiGluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                             "entry point's)");
    AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
    Value result = elementwise(
        rewriter, op.getLoc(), type,
        ValueRange{adaptor.getGate(), adaptor.getUp()}, {identity, identity},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange args) {
          Value negated = arith::NegFOp::create(b, l, args[0]);
          Value denominator = arith::AddFOp::create(
              b, l, constF32(b, l, 1.0f), math::ExpOp::create(b, l, negated));
          return arith::MulFOp::create(
              b, l, arith::DivFOp::create(b, l, args[0], denominator), args[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// qpal.add: the element-wise sum.
struct AddLowering : OpConversionPattern<AddOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                             "entry point's)");
    AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
    Value result = elementwise(
        rewriter, op.getLoc(), type,
        ValueRange{adaptor.getLhs(), adaptor.getRhs()}, {identity, identity},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange args) {
          return arith::AddFOp::create(b, l, args[0], args[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A dense qpal.linear (unquantized, or #qpal.f16) and qpal.lm_head: the
/// product with the weight's global.
template <typename Op> struct ProductLowering : WeightPattern<Op> {
  ProductLowering(MLIRContext *context, const WeightGlobals &weights,
                  KernelTarget target)
      : WeightPattern<Op>(context, weights), target(target) {}
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<memref::GlobalOp> weight = this->global(op, rewriter);
    if (failed(weight))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "expects static shapes (a step "
                                             "entry point's)");
    rewriter.replaceOp(op,
                       denseProduct(rewriter, op.getLoc(), adaptor.getInput(),
                                    *weight, type, target));
    return success();
  }

  KernelTarget target;
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct LowerModelOpsPass final
    : qpal::impl::LowerModelOpsPassBase<LowerModelOpsPass> {
  using LowerModelOpsPassBase::LowerModelOpsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<WeightGlobals> weights = WeightGlobals::create(module);
    if (failed(weights))
      return signalPassFailure();
    ConversionTarget target(getContext());
    target.addIllegalOp<EmbeddingOp, RmsNormOp, RopeOp, AttentionOp, SwiGluOp,
                        AddOp, LmHeadOp, LinearOp, FusionGroupOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateQPalModelToLinalgPatterns(*weights, patterns, this->target);
    // Fusion groups of dense layers (none quantized) run member by member.
    module.walk([&](FusionGroupOp group) {
      IRRewriter rewriter(group);
      group.inlineMembers(rewriter);
    });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
    // The cache is found; the marker has done its work.
    for (auto function : module.getOps<func::FuncOp>())
      for (unsigned i = 0, e = function.getNumArguments(); i < e; ++i)
        function.removeArgAttr(i, QPalDialect::kKvCacheAttrName);
    // The dense weights are globals now.
    for (WeightOp weight :
         llvm::make_early_inc_range(module.getOps<WeightOp>()))
      if (SymbolTable::symbolKnownUseEmpty(weight, module))
        weight.erase();
  }
};

} // namespace

void qpal::populateQPalModelToLinalgPatterns(const WeightGlobals &weights,
                                             RewritePatternSet &patterns,
                                             KernelTarget target) {
  MLIRContext *context = patterns.getContext();
  patterns.add<EmbeddingLowering>(context, weights);
  patterns.add<RmsNormLowering, ProductLowering<LinearOp>,
               ProductLowering<LmHeadOp>>(context, weights, target);
  patterns.add<AttentionLowering>(context, target);
  patterns.add<RopeLowering, SwiGluLowering, AddLowering>(context);
}
