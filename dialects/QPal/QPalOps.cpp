//===- QPalOps.cpp - qpal operations --------------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "qpal/Support/Limits.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace qpal;

#define GET_OP_CLASSES
#include "qpal/Dialect/QPal/QPalOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Resolves `symbol` to a `qpal.weight` of the given rank, or reports why not.
static FailureOr<WeightOp> lookupWeight(Operation *op,
                                        SymbolTableCollection &symbolTable,
                                        FlatSymbolRefAttr symbol,
                                        int64_t rank) {
  auto weight =
      symbolTable.lookupNearestSymbolFrom<WeightOp>(op, symbol.getAttr());
  if (!weight)
    return op->emitOpError()
           << "'" << symbol << "' does not reference a 'qpal.weight'";
  if (weight.getTensorType().getRank() != rank) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "expects a rank-" << rank << " weight, '"
                              << symbol << "' is " << weight.getTensorType();
    diag.attachNote(weight.getLoc()) << "weight declared here";
    return diag;
  }
  return weight;
}

/// Returns the size of the last (feature) dimension of `type`.
static int64_t featureDim(Type type) {
  return cast<RankedTensorType>(type).getShape().back();
}

/// Checks that `value`'s feature dimension is `expected` when it is static.
static LogicalResult checkFeatures(Operation *op, Type type, int64_t expected,
                                   StringRef what) {
  int64_t actual = featureDim(type);
  if (ShapedType::isDynamic(actual) || actual == expected)
    return success();
  return op->emitOpError() << "expects " << what << " of " << expected
                           << " features, got " << actual;
}

/// Checks that two activation types have the same rank and compatible
/// leading (token) dimensions.
static LogicalResult checkTokenDims(Operation *op, Type lhsType, Type rhsType,
                                    StringRef lhsName, StringRef rhsName) {
  auto lhs = cast<RankedTensorType>(lhsType);
  auto rhs = cast<RankedTensorType>(rhsType);
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return op->emitOpError() << "expects ranked activations with a feature "
                                "dimension, got a rank-0 tensor";
  if (lhs.getRank() != rhs.getRank())
    return op->emitOpError() << "expects " << lhsName << " and " << rhsName
                             << " of the same rank, got " << lhs.getRank()
                             << " and " << rhs.getRank();
  for (int64_t i = 0, e = lhs.getRank() - 1; i < e; ++i) {
    int64_t a = lhs.getDimSize(i), b = rhs.getDimSize(i);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return op->emitOpError() << "expects " << lhsName << " and " << rhsName
                               << " to have the same token dimensions, got "
                               << lhs << " and " << rhs;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

std::optional<model::TensorType> WeightOp::getStorageFormat() {
  std::optional<StringRef> storage = getStorage();
  if (!storage)
    return std::nullopt;
  return model::tensorTypeFromName(*storage);
}

LogicalResult WeightOp::verify() {
  RankedTensorType type = getTensorType();
  if (type.getRank() != 1 && type.getRank() != 2)
    return emitOpError() << "expects a rank-1 or rank-2 weight, got " << type;
  if (!isa<FloatType>(type.getElementType()))
    return emitOpError() << "expects a floating-point weight, got " << type;
  if (llvm::any_of(type.getShape(), [](int64_t dim) { return dim <= 0; }))
    return emitOpError() << "expects a non-empty weight, got " << type;
  std::optional<ElementsAttr> value = getValue();
  // The value's shape and element type: the weight's elements, or the rows
  // of a ggml block format's bytes.
  SmallVector<int64_t> shape(type.getShape());
  Type element;
  int64_t elementBytes = 0;
  if (std::optional<StringRef> storage = getStorage()) {
    std::optional<model::TensorType> format = getStorageFormat();
    if (!format || !model::isScaledBlockFormat(*format))
      return emitOpError() << "expects a storage of q4_0, q4_1, q5_0, q5_1 "
                              "or q8_0, got '"
                           << *storage << "'";
    int64_t blockElements = model::getBlockElements(*format);
    if (type.getRank() != 2 || type.getDimSize(1) % blockElements != 0)
      return emitOpError() << "expects a rank-2 weight whose rows are whole "
                           << *storage << " blocks of " << blockElements
                           << " elements, got " << type;
    if (!value)
      return emitOpError() << "expects a value with its storage '" << *storage
                           << "'";
    shape[1] =
        type.getDimSize(1) / blockElements * model::getBlockBytes(*format);
    element = IntegerType::get(getContext(), 8);
    elementBytes = 1;
  }
  if (!value)
    return success();
  auto valueType = cast<ShapedType>(value->getType());
  if (element) {
    if (valueType.getShape() != ArrayRef<int64_t>(shape) ||
        valueType.getElementType() != element)
      return emitOpError() << "expects a value of " << shape[0] << "x"
                           << shape[1] << " i8 (its rows' " << *getStorage()
                           << " blocks), got " << valueType;
  } else {
    element = valueType.getElementType();
    if (valueType.getShape() != type.getShape() ||
        !(element.isF32() || element.isF16() || element.isBF16()))
      return emitOpError() << "expects a value of shape " << type.getShape()
                           << " in f32, f16 or bf16, got " << valueType;
    elementBytes = element.isF32() ? 4 : 2;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(*value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    int64_t bytes = valueType.getNumElements() * elementBytes;
    if (!blob)
      return emitOpError() << "expects the value's resource blob '"
                           << resource.getRawHandle().getKey()
                           << "' to be present";
    if (static_cast<int64_t>(blob->getData().size()) != bytes)
      return emitOpError() << "expects " << bytes
                           << " bytes in the value's resource blob, got "
                           << blob->getData().size();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  if (failed(checkTokenDims(*this, getInput().getType(), getType(), "input",
                            "result")))
    return failure();
  if (std::optional<llvm::APFloat> sensitivity = getSensitivity()) {
    double value = sensitivity->convertToDouble();
    if (!isValidSensitivity(value))
      return emitOpError() << "expects a sensitivity in [0, 1e30], got "
                           << value;
  }
  if (std::optional<int64_t> block = getBlock(); block && *block < 0)
    return emitOpError() << "expects a non-negative block index, got "
                         << *block;
  return success();
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> weight =
      lookupWeight(*this, symbolTable, getWeightAttr(), /*rank=*/2);
  if (failed(weight))
    return failure();
  ArrayRef<int64_t> shape = weight->getTensorType().getShape();
  int64_t rows = shape[0], cols = shape[1];
  if (failed(checkFeatures(*this, getInput().getType(), cols,
                           "an input (the weight's K)")) ||
      failed(
          checkFeatures(*this, getType(), rows, "a result (the weight's M)")))
    return failure();
  if (QuantizerAttrInterface quantizer = getQuantizerAttr())
    return quantizer.verifyShape(rows, cols, [&] { return emitOpError(); });
  return success();
}

FailureOr<std::pair<int64_t, int64_t>>
LinearOp::getWeightShape(SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<WeightOp>(
      *this, getWeightAttr().getAttr());
  if (!weight || weight.getTensorType().getRank() != 2)
    return emitOpError() << "'" << getWeightAttr()
                         << "' does not reference a rank-2 'qpal.weight'";
  ArrayRef<int64_t> shape = weight.getTensorType().getShape();
  return std::make_pair(shape[0], shape[1]);
}

std::string LinearOp::getLayerKey() {
  std::optional<int64_t> block = getBlock();
  std::optional<LinearRole> role = getRole();
  if (role == LinearRole::lm_head)
    return "lm_head";
  if (!block || !role)
    return "";
  StringRef module = *role <= LinearRole::o ? "self_attn" : "mlp";
  return llvm::formatv("{0}_{1}.{2}_proj", *block, module,
                       stringifyLinearRole(*role))
      .str();
}

//===----------------------------------------------------------------------===//
// FusionGroupOp
//===----------------------------------------------------------------------===//

SmallVector<LinearOp, 4> FusionGroupOp::getMembers() {
  return llvm::to_vector<4>(getBody().front().getOps<LinearOp>());
}

Value FusionGroupOp::getSharedInput() {
  SmallVector<LinearOp, 4> members = getMembers();
  return members.empty() ? Value() : members.front().getInput();
}

QuantizerAttrInterface FusionGroupOp::getQuantizer() {
  SmallVector<LinearOp, 4> members = getMembers();
  return members.empty() ? QuantizerAttrInterface()
                         : members.front().getQuantizerAttr();
}

void FusionGroupOp::inlineMembers(RewriterBase &rewriter) {
  Block &body = getBody().front();
  auto yield = cast<YieldOp>(body.getTerminator());
  SmallVector<Value> results(yield.getValues());
  rewriter.eraseOp(yield);
  rewriter.inlineBlockBefore(&body, *this);
  rewriter.replaceOp(*this, results);
}

/// Prints a quantizer for a diagnostic, `none` when absent.
static std::string describeQuantizer(QuantizerAttrInterface quantizer) {
  if (!quantizer)
    return "none";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << quantizer;
  return text;
}

LogicalResult FusionGroupOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 0)
    return emitOpError() << "expects a body without block arguments";
  if (body.empty() || !isa<YieldOp>(body.back()))
    return emitOpError() << "expects the body to end with 'qpal.yield'";

  SmallVector<LinearOp> members;
  for (Operation &op : body.without_terminator()) {
    auto member = dyn_cast<LinearOp>(op);
    if (!member) {
      InFlightDiagnostic diag =
          emitOpError() << "may only contain 'qpal.linear' members, found '"
                        << op.getName() << "'";
      diag.attachNote(op.getLoc()) << "see this operation";
      return diag;
    }
    members.push_back(member);
  }
  if (members.size() < 2)
    return emitOpError() << "expects at least 2 members, got "
                         << members.size();

  LinearOp first = members.front();
  llvm::StringMap<size_t> weights;
  for (auto [index, member] : llvm::enumerate(members)) {
    if (member.getInput() != first.getInput()) {
      InFlightDiagnostic diag =
          emitOpError() << "fused members must share their input: member #"
                        << index << " reads a different value than member #0";
      diag.attachNote(member.getLoc()) << "member #" << index;
      return diag;
    }
    if (member.getQuantizerAttr() != first.getQuantizerAttr()) {
      InFlightDiagnostic diag =
          emitOpError() << "fused members must share their quantizer: member #"
                        << index << " has "
                        << describeQuantizer(member.getQuantizerAttr())
                        << ", member #0 has "
                        << describeQuantizer(first.getQuantizerAttr());
      diag.attachNote(member.getLoc()) << "member #" << index;
      return diag;
    }
    auto [it, inserted] = weights.try_emplace(member.getWeight(), index);
    if (!inserted)
      return emitOpError() << "member #" << index << " repeats the weight @"
                           << member.getWeight() << " of member #"
                           << it->second;
  }
  if (first.getInput().getParentRegion() == &getBody())
    return emitOpError() << "expects the shared input to be defined outside "
                            "the group";

  auto yield = cast<YieldOp>(body.getTerminator());
  bool yieldsMembers = yield.getValues().size() == members.size();
  for (auto [index, value] : llvm::enumerate(yield.getValues()))
    yieldsMembers &=
        index < members.size() && value == members[index].getResult();
  if (!yieldsMembers)
    return emitOpError() << "expects 'qpal.yield' to return the "
                         << members.size() << " member results in member order";
  for (auto [index, types] : llvm::enumerate(
           llvm::zip_equal(getResultTypes(), yield.getValues().getTypes())))
    if (std::get<0>(types) != std::get<1>(types))
      return emitOpError() << "expects result #" << index << " of type "
                           << std::get<1>(types) << ", got "
                           << std::get<0>(types);
  return success();
}

//===----------------------------------------------------------------------===//
// Model-level operations
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  auto ids = cast<RankedTensorType>(getIds().getType());
  auto result = cast<RankedTensorType>(getType());
  if (result.getRank() != ids.getRank() + 1)
    return emitOpError() << "expects the result to add one feature dimension "
                            "to the ids, got "
                         << ids << " -> " << result;
  for (int64_t i = 0; i < ids.getRank(); ++i) {
    int64_t a = ids.getDimSize(i), b = result.getDimSize(i);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return emitOpError() << "expects the result's token dimensions to match "
                              "the ids, got "
                           << ids << " -> " << result;
  }
  return success();
}

LogicalResult
EmbeddingOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> table =
      lookupWeight(*this, symbolTable, getTableAttr(), /*rank=*/2);
  if (failed(table))
    return failure();
  return checkFeatures(*this, getType(), table->getTensorType().getDimSize(1),
                       "a result (the table's hidden size)");
}

LogicalResult RmsNormOp::verify() {
  if (cast<RankedTensorType>(getType()).getRank() == 0)
    return emitOpError() << "expects activations with a feature dimension";
  if (!(getEpsilon().convertToDouble() > 0) ||
      !std::isfinite(getEpsilon().convertToDouble()))
    return emitOpError() << "expects a positive epsilon, got "
                         << getEpsilon().convertToDouble();
  return success();
}

LogicalResult RmsNormOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> gain =
      lookupWeight(*this, symbolTable, getGainAttr(), /*rank=*/1);
  if (failed(gain))
    return failure();
  return checkFeatures(*this, getType(), gain->getTensorType().getDimSize(0),
                       "an input (the gain's size)");
}

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDim();
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError() << "expects a positive, even head_dim, got "
                         << headDim;
  if (!(getTheta().convertToDouble() > 0) ||
      !std::isfinite(getTheta().convertToDouble()))
    return emitOpError() << "expects a positive theta, got "
                         << getTheta().convertToDouble();
  int64_t features = featureDim(getType());
  if (!ShapedType::isDynamic(features) && features % headDim != 0)
    return emitOpError() << "expects features divisible by head_dim " << headDim
                         << ", got " << features;
  if (std::optional<ArrayRef<float>> frequencies = getInverseFrequencies()) {
    if (static_cast<int64_t>(frequencies->size()) != headDim / 2)
      return emitOpError() << "expects head_dim / 2 = " << headDim / 2
                           << " inverse frequencies, got "
                           << frequencies->size();
    if (llvm::any_of(*frequencies,
                     [](float f) { return !(f > 0) || !std::isfinite(f); }))
      return emitOpError() << "expects positive, finite inverse frequencies";
  }
  auto input = cast<RankedTensorType>(getInput().getType());
  auto positions = cast<RankedTensorType>(getPositions().getType());
  if (positions.getRank() + 1 != input.getRank())
    return emitOpError() << "expects one position per token, got " << positions
                         << " for " << input;
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError() << "expects positive num_heads, num_kv_heads and "
                            "head_dim, got "
                         << heads << ", " << kvHeads << ", " << headDim;
  if (heads % kvHeads != 0)
    return emitOpError() << "expects num_heads to be a multiple of "
                            "num_kv_heads (grouped-query attention), got "
                         << heads << " and " << kvHeads;
  if (failed(checkFeatures(*this, getQuery().getType(), heads * headDim,
                           "a query (num_heads * head_dim)")) ||
      failed(checkFeatures(*this, getKey().getType(), kvHeads * headDim,
                           "a key (num_kv_heads * head_dim)")) ||
      failed(checkFeatures(*this, getValue().getType(), kvHeads * headDim,
                           "a value (num_kv_heads * head_dim)")))
    return failure();
  if (failed(checkTokenDims(*this, getQuery().getType(), getKey().getType(),
                            "query", "key")) ||
      failed(checkTokenDims(*this, getKey().getType(), getValue().getType(),
                            "key", "value")))
    return failure();
  return success();
}

LogicalResult LmHeadOp::verify() {
  return checkTokenDims(*this, getInput().getType(), getType(), "input",
                        "result");
}

LogicalResult LmHeadOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> weight =
      lookupWeight(*this, symbolTable, getWeightAttr(), /*rank=*/2);
  if (failed(weight))
    return failure();
  ArrayRef<int64_t> shape = weight->getTensorType().getShape();
  if (failed(checkFeatures(*this, getInput().getType(), shape[1],
                           "an input (the weight's hidden size)")))
    return failure();
  return checkFeatures(*this, getType(), shape[0],
                       "a result (the weight's vocabulary size)");
}

FlatSymbolRefAttr qpal::getReadWeightSymbol(Operation *op) {
  if (auto linear = dyn_cast<LinearOp>(op))
    return linear.getWeightAttr();
  if (auto embedding = dyn_cast<EmbeddingOp>(op))
    return embedding.getTableAttr();
  if (auto norm = dyn_cast<RmsNormOp>(op))
    return norm.getGainAttr();
  if (auto head = dyn_cast<LmHeadOp>(op))
    return head.getWeightAttr();
  return nullptr;
}
