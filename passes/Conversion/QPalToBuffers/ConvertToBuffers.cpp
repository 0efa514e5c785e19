//===- ConvertToBuffers.cpp - Packed weights to buffers -------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The patterns of populateQPalToBuffersPatterns and the pass that applies
// them. A packed weight's storage becomes constant globals; a quantized
// linear becomes a qpal.dequant_matmul into a zero-filled buffer.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToBuffers.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Quant/Codebooks.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

#include <algorithm>

namespace qpal {
#define GEN_PASS_DEF_CONVERTTOBUFFERSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

//===----------------------------------------------------------------------===//
// Types and globals
//===----------------------------------------------------------------------===//

PackedWeightTypeConverter::PackedWeightTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](PackedWeightType type, SmallVectorImpl<Type> &results) {
    MLIRContext *context = type.getContext();
    auto f32 = Float32Type::get(context);
    results.push_back(
        MemRefType::get({type.getCodeBytes()}, IntegerType::get(context, 8)));
    results.push_back(MemRefType::get({type.getRows()}, f32));
    results.push_back(MemRefType::get({type.getCols()}, f32));
    results.push_back(MemRefType::get({type.getCodebookValues()}, f32));
    return success();
  });
}

std::string qpal::getCodebookGlobalName(QuantizerAttrInterface quantizer) {
  // ':simt' would need quoting in the symbol.
  std::string name = "qpal.codebook." + quantizer.getReferenceName();
  std::replace(name.begin(), name.end(), ':', '.');
  return name;
}

/// Creates the private, constant, 64-byte aligned global `name` holding
/// `value`, at the builder's insertion point.
static memref::GlobalOp createConstantGlobal(OpBuilder &builder, Location loc,
                                             StringRef name,
                                             ElementsAttr value) {
  auto tensorType = cast<RankedTensorType>(value.getType());
  auto type =
      MemRefType::get(tensorType.getShape(), tensorType.getElementType());
  return memref::GlobalOp::create(
      builder, loc, name, builder.getStringAttr("private"), type, value,
      /*constant=*/true, builder.getI64IntegerAttr(64));
}

memref::GlobalOp qpal::getOrCreateConstantGlobal(OpBuilder &builder,
                                                 ModuleOp module,
                                                 StringRef name,
                                                 ElementsAttr value) {
  if (auto global = module.lookupSymbol<memref::GlobalOp>(name))
    return global;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  return createConstantGlobal(builder, module.getLoc(), name, value);
}

/// The names of a packed weight's three globals.
static std::string bufferGlobalName(StringRef weight, StringRef buffer) {
  return (weight + "." + buffer).str();
}

namespace {

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// A packed weight becomes the constant globals of its codes, scales and
/// signs.
struct PackedWeightLowering : OpConversionPattern<PackedWeightOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PackedWeightOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not in a module");
    for (auto [buffer, value] :
         {std::pair<StringRef, ElementsAttr>{"codes", op.getCodes()},
          {"scales", op.getScales()},
          {"signs", op.getSigns()}}) {
      std::string name = bufferGlobalName(op.getSymName(), buffer);
      if (module.lookupSymbol(name))
        return rewriter.notifyMatchFailure(op, "global name taken");
      createConstantGlobal(rewriter, op.getLoc(), name, value);
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// `qpal.get_weight` becomes the four buffers of its type.
struct GetWeightLowering : OpConversionPattern<GetWeightOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GetWeightOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Type, 4> types;
    if (failed(getTypeConverter()->convertType(op.getType(), types)))
      return rewriter.notifyMatchFailure(op, "packed type not converted");
    auto module = op->getParentOfType<ModuleOp>();
    QuantizerAttrInterface quantizer = op.getType().getQuantizer();
    std::string codebookName = getCodebookGlobalName(quantizer);
    // The codebook global is made by the quantizer's first weight; the
    // others only read it.
    if (!module.lookupSymbol(codebookName)) {
      llvm::Expected<ArrayRef<float>> found =
          kernelCodebookValues(quantizer.getSpec());
      if (!found) {
        llvm::consumeError(found.takeError());
        return rewriter.notifyMatchFailure(op, "no shipped codebook");
      }
      ArrayRef<float> values = *found;
      auto codebookType = cast<MemRefType>(types[3]);
      if (static_cast<int64_t>(values.size()) != codebookType.getNumElements())
        return rewriter.notifyMatchFailure(op, "codebook size differs");
      getOrCreateConstantGlobal(
          rewriter, module, codebookName,
          DenseElementsAttr::get(RankedTensorType::get(codebookType.getShape(),
                                                       rewriter.getF32Type()),
                                 values));
    }

    StringRef weight = op.getWeight();
    SmallVector<Value, 4> buffers;
    std::string names[] = {bufferGlobalName(weight, "codes"),
                           bufferGlobalName(weight, "scales"),
                           bufferGlobalName(weight, "signs"), codebookName};
    for (auto [type, name] : llvm::zip_equal(types, names))
      buffers.push_back(memref::GetGlobalOp::create(
          rewriter, op.getLoc(), cast<MemRefType>(type), name));
    rewriter.replaceOpWithMultiple(op, {buffers});
    return success();
  }
};

/// `qpal.quantized_linear` becomes one `qpal.dequant_matmul` into a
/// zero-filled buffer of all the members' rows, and a slice per member.
struct QuantizedLinearLowering : OpConversionPattern<QuantizedLinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizedLinearOp op, OneToNOpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ValueRange buffers = adaptor.getWeight();
    if (buffers.size() != 4)
      return rewriter.notifyMatchFailure(op, "weight not converted");
    Location loc = op.getLoc();
    auto packed = cast<PackedWeightType>(op.getWeight().getType());
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    int64_t tokens = inputType.getDimSize(0);
    Value input = op.getInput();

    auto inputBuffer = bufferization::ToBufferOp::create(
        rewriter, loc,
        MemRefType::get(inputType.getShape(), inputType.getElementType()),
        input, /*read_only=*/true);
    SmallVector<Value, 1> dynamicSizes;
    if (ShapedType::isDynamic(tokens))
      dynamicSizes.push_back(memref::DimOp::create(rewriter, loc, inputBuffer,
                                                   /*index=*/0));
    auto outputType =
        MemRefType::get({tokens, packed.getRows()}, rewriter.getF32Type());
    Value output =
        memref::AllocOp::create(rewriter, loc, outputType, dynamicSizes,
                                rewriter.getI64IntegerAttr(64));
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getF32FloatAttr(0.0f));
    linalg::FillOp::create(rewriter, loc, zero, output);
    DequantMatmulOp::create(rewriter, loc, inputBuffer, buffers[0], buffers[1],
                            buffers[2], buffers[3], output,
                            packed.getQuantizer());
    Value result = bufferization::ToTensorOp::create(
        rewriter, loc,
        RankedTensorType::get(outputType.getShape(), rewriter.getF32Type()),
        output, /*restrict=*/true, /*writable=*/true);
    if (op.getNumResults() == 1) {
      rewriter.replaceOp(op, result);
      return success();
    }
    // Member results are row ranges of the product.
    SmallVector<Value, 4> members;
    int64_t offset = 0;
    for (Value member : op.getResults()) {
      auto type = cast<RankedTensorType>(member.getType());
      SmallVector<OpFoldResult, 2> offsets = {rewriter.getIndexAttr(0),
                                              rewriter.getIndexAttr(offset)};
      SmallVector<OpFoldResult, 2> sizes = {
          dynamicSizes.empty() ? OpFoldResult(rewriter.getIndexAttr(tokens))
                               : OpFoldResult(dynamicSizes.front()),
          rewriter.getIndexAttr(type.getDimSize(1))};
      SmallVector<OpFoldResult, 2> strides = {rewriter.getIndexAttr(1),
                                              rewriter.getIndexAttr(1)};
      members.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, type, result, offsets, sizes, strides));
      offset += type.getDimSize(1);
    }
    rewriter.replaceOp(op, members);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ConvertToBuffersPass final
    : qpal::impl::ConvertToBuffersPassBase<ConvertToBuffersPass> {
  using ConvertToBuffersPassBase::ConvertToBuffersPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Quantizers without a shipped codebook cannot be lowered: say which.
    bool failedAny = false;
    module.walk([&](GetWeightOp op) {
      llvm::Expected<ArrayRef<float>> codebook =
          kernelCodebookValues(op.getType().getSpec());
      if (!codebook) {
        op.emitOpError() << "cannot lower " << op.getType() << ": "
                         << llvm::toString(codebook.takeError());
        failedAny = true;
      }
    });
    // Packed weights reach their users only through qpal.get_weight: any
    // other value of packed type (a block argument, a call result) has no
    // buffers to become.
    module.walk([&](Operation *op) {
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (BlockArgument argument : block.getArguments())
            if (isa<PackedWeightType>(argument.getType())) {
              op->emitOpError()
                  << "cannot lower a packed weight passed as block argument #"
                  << argument.getArgNumber()
                  << ": packed weights are read with 'qpal.get_weight'";
              failedAny = true;
            }
      if (!isa<GetWeightOp>(op))
        for (Value result : op->getResults())
          if (isa<PackedWeightType>(result.getType())) {
            op->emitOpError()
                << "cannot lower a packed weight it produces: packed "
                   "weights are read with 'qpal.get_weight'";
            failedAny = true;
          }
    });
    // The globals' names must be free, or be the codebook global itself.
    SymbolTableCollection symbolTable;
    module.walk([&](PackedWeightOp weight) {
      Operation *scope = weight->getParentOp();
      for (StringRef buffer : {"codes", "scales", "signs"}) {
        std::string name = bufferGlobalName(weight.getSymName(), buffer);
        if (Operation *taken = symbolTable.lookupSymbolIn(
                scope, StringAttr::get(&getContext(), name))) {
          InFlightDiagnostic diag = weight.emitOpError()
                                    << "cannot lower to the global '@" << name
                                    << "': the name is taken";
          diag.attachNote(taken->getLoc()) << "by this op";
          failedAny = true;
        }
      }
      PackedWeightType type = weight.getPackedType();
      std::string codebook = getCodebookGlobalName(type.getQuantizer());
      if (Operation *taken = symbolTable.lookupSymbolIn(
              scope, StringAttr::get(&getContext(), codebook))) {
        auto global = dyn_cast<memref::GlobalOp>(taken);
        auto expected = MemRefType::get({type.getCodebookValues()},
                                        Float32Type::get(&getContext()));
        if (!global || global.getType() != expected || !global.getConstant()) {
          InFlightDiagnostic diag =
              weight.emitOpError()
              << "cannot lower to the codebook global '@" << codebook
              << "': the name is taken by another op than a constant "
              << expected << " global";
          diag.attachNote(taken->getLoc()) << "by this op";
          failedAny = true;
        }
      }
    });
    if (failedAny)
      return signalPassFailure();

    PackedWeightTypeConverter converter;
    ConversionTarget target(getContext());
    target.addIllegalOp<PackedWeightOp, GetWeightOp, QuantizedLinearOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateQPalToBuffersPatterns(converter, patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void qpal::populateQPalToBuffersPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns
      .add<PackedWeightLowering, GetWeightLowering, QuantizedLinearLowering>(
          converter, patterns.getContext());
}
