//===- MaterializeWeights.cpp - Dense weights' values into the IR ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pass qpal-materialize-weights: the dense weights an op still reads
// get their values from the model file, as resource blobs, in the element
// type their readers need.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "qpal/Model/ModelFile.h"
#include "qpal/Quant/Half.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"

#include <cmath>

namespace qpal {
#define GEN_PASS_DEF_MATERIALIZEWEIGHTSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

/// What one weight's readers need.
struct WeightUse {
  /// Whether every reader is a linear layer quantized as #qpal.f16.
  bool allF16 = true;
  /// Whether every reader is an embedding lookup.
  bool allEmbedding = true;
  /// The first reader, for messages.
  Operation *reader = nullptr;
};

struct MaterializeWeightsPass final
    : qpal::impl::MaterializeWeightsPassBase<MaterializeWeightsPass> {
  using MaterializeWeightsPassBase::MaterializeWeightsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTableCollection symbolTable;
    llvm::MapVector<Operation *, WeightUse> uses;
    WalkResult walk = module.walk([&](Operation *op) {
      FlatSymbolRefAttr symbol = getReadWeightSymbol(op);
      if (!symbol)
        return WalkResult::advance();
      auto weight =
          symbolTable.lookupNearestSymbolFrom<WeightOp>(op, symbol.getAttr());
      if (!weight) {
        op->emitOpError() << "'" << symbol
                          << "' does not reference a 'qpal.weight'";
        return WalkResult::interrupt();
      }
      WeightUse &use = uses[weight];
      if (!use.reader)
        use.reader = op;
      auto linear = dyn_cast<LinearOp>(op);
      if (!linear || !isa_and_nonnull<F16Attr>(linear.getQuantizerAttr()))
        use.allF16 = false;
      if (!isa<EmbeddingOp>(op))
        use.allEmbedding = false;
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    uses.remove_if([](auto &entry) {
      return cast<WeightOp>(entry.first).getValue().has_value();
    });
    if (uses.empty())
      return;

    FailureOr<std::unique_ptr<model::ModelFile>> file =
        openPassModelFile(module, model, getArgument());
    if (failed(file))
      return signalPassFailure();
    StringRef path = (*file)->getPath();

    // Every value is read and checked before any weight is changed.
    SmallVector<std::pair<WeightOp, ElementsAttr>> values;
    SmallVector<std::pair<WeightOp, StringAttr>> storages;
    for (auto &[op, use] : uses) {
      auto weight = cast<WeightOp>(op);
      RankedTensorType type = weight.getTensorType();
      StringRef name =
          weight.getSource() ? *weight.getSource() : weight.getSymName();
      std::string key = weight.getSymName().str();
      // An embedding table the model file stores in a form the lookup
      // reads is copied as stored, never converted to f32. (A missing or
      // misshapen tensor is reported by the read below.)
      const model::TensorInfo *tensor = (*file)->lookupTensor(name);
      if (use.allEmbedding && !denseEmbedding && tensor &&
          tensor->numElements == type.getNumElements()) {
        FailureOr<std::pair<ElementsAttr, StringAttr>> stored =
            readStoredTable(**file, *tensor, weight, key);
        if (failed(stored))
          return signalPassFailure();
        if (stored->first) {
          values.emplace_back(weight, stored->first);
          storages.push_back({weight, stored->second});
          continue;
        }
      }
      llvm::Expected<std::vector<float>> read = (*file)->read(name);
      if (!read) {
        weight.emitOpError() << "cannot read '" << name << "' from '" << path
                             << "': " << llvm::toString(read.takeError());
        return signalPassFailure();
      }
      if (static_cast<int64_t>(read->size()) != type.getNumElements()) {
        weight.emitOpError()
            << "'" << name << "' in '" << path << "' has " << read->size()
            << " values, the IR declares " << type;
        return signalPassFailure();
      }
      if (use.allF16) {
        std::vector<uint16_t> halves(read->size());
        for (size_t i = 0; i < read->size(); ++i) {
          float value = (*read)[i];
          if (!(std::fabs(value) < 65520.0f)) {
            use.reader->emitOpError()
                << "cannot store its weight '" << name << "' in f16: the value "
                << value << " at index " << i << " overflows fp16";
            return signalPassFailure();
          }
          halves[i] = floatToHalfBits(value);
        }
        auto halfType = RankedTensorType::get(type.getShape(),
                                              Float16Type::get(&getContext()));
        values.emplace_back(weight,
                            DenseResourceElementsAttr::get(
                                halfType, key,
                                HeapAsmResourceBlob::allocateAndCopyInferAlign(
                                    ArrayRef<uint16_t>(halves))));
      } else {
        values.emplace_back(weight,
                            DenseResourceElementsAttr::get(
                                type, key,
                                HeapAsmResourceBlob::allocateAndCopyInferAlign(
                                    ArrayRef<float>(*read))));
      }
    }
    for (auto &[weight, value] : values)
      weight.setValueAttr(value);
    for (auto &[weight, storage] : storages)
      weight.setStorageAttr(storage);
  }

  /// The embedding table `tensor` (with the weight's elements) as the model
  /// file stores it, when a compiled model can read that storage: f16 or
  /// bf16 elements, or a ggml block format's bytes with the storage's name.
  /// A null value for any other storage (the caller stores f32).
  FailureOr<std::pair<ElementsAttr, StringAttr>>
  readStoredTable(const model::ModelFile &file, const model::TensorInfo &tensor,
                  WeightOp weight, StringRef key) {
    StringRef name = tensor.name;
    RankedTensorType type = weight.getTensorType();
    model::TensorType format = tensor.type;
    Builder builder(&getContext());
    Type element;
    SmallVector<int64_t> shape(type.getShape());
    StringAttr storage;
    if (format == model::TensorType::F16) {
      element = builder.getF16Type();
    } else if (format == model::TensorType::BF16) {
      element = builder.getBF16Type();
    } else if (model::isScaledBlockFormat(format) && type.getRank() == 2 &&
               type.getDimSize(1) % model::getBlockElements(format) == 0) {
      element = builder.getI8Type();
      shape[1] = type.getDimSize(1) / model::getBlockElements(format) *
                 model::getBlockBytes(format);
      storage = builder.getStringAttr(model::getTensorTypeName(format));
    } else {
      return std::pair<ElementsAttr, StringAttr>();
    }
    llvm::Expected<ArrayRef<uint8_t>> bytes = file.readStoredBytes(name);
    if (!bytes) {
      weight.emitOpError() << "cannot read '" << name << "' from '"
                           << file.getPath()
                           << "': " << llvm::toString(bytes.takeError());
      return failure();
    }
    auto valueType = RankedTensorType::get(shape, element);
    int64_t expected =
        valueType.getNumElements() * (element.getIntOrFloatBitWidth() / 8);
    if (static_cast<int64_t>(bytes->size()) != expected) {
      weight.emitOpError() << "'" << name << "' in '" << file.getPath()
                           << "' has " << bytes->size() << " bytes, the IR's "
                           << type << " in " << model::getTensorTypeName(format)
                           << " takes " << expected;
      return failure();
    }
    return std::pair<ElementsAttr, StringAttr>(
        DenseResourceElementsAttr::get(
            valueType, key,
            HeapAsmResourceBlob::allocateAndCopyWithAlign(
                ArrayRef<char>(reinterpret_cast<const char *>(bytes->data()),
                               bytes->size()),
                alignof(uint64_t))),
        storage);
  }
};

} // namespace
