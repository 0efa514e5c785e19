//===- ImportCommand.cpp - `qpal import`
//-----------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Expresses a Llama-family model file in the qpal dialect: one `qpal.weight`
// per tensor (by reference to the file, never its values) and a `@forward`
// function of the decoder at the dialect's grain. Every block linear carries
// its block and role, so the passes can attach sensitivities, allocate bits
// and fuse the q/k/v and gate/up candidates (which share their input).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "qpal/Dialect/QPal/QPalDialect.h"
#include "qpal/Model/Evaluator.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Support/OutputFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace mlir;
using namespace qpal;

static cl::SubCommand importCommand("import",
                                    "Express a model file in the qpal dialect");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::sub(importCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf | safetensors>"));
static cl::opt<std::string> outputPath("o", cl::sub(importCommand),
                                       cl::init("-"),
                                       cl::cat(driver::category()),
                                       cl::desc("Output .mlir (default: "
                                                "stdout)"),
                                       cl::value_desc("file"));
static cl::opt<bool> fuse("fuse", cl::sub(importCommand),
                          cl::cat(driver::category()),
                          cl::desc("Group q/k/v and gate/up in "
                                   "qpal.fusion_group ops"));
static cl::opt<bool> withPalette("palette", cl::sub(importCommand),
                                 cl::cat(driver::category()),
                                 cl::desc("Attach the reference palette as "
                                          "qpal.palette"));

static constexpr StringLiteral kCommand = "import";

namespace {

/// Builds the module of `file`.
class ModelImporter {
public:
  ModelImporter(MLIRContext &context, const model::ModelFile &file,
                bool fuseCandidates, bool attachPalette)
      : builder(&context), file(file), config(file.getConfig()),
        loc(FileLineColLoc::get(&context, file.getPath(), 0, 0)),
        fuseCandidates(fuseCandidates), attachPalette(attachPalette) {}

  FailureOr<OwningOpRef<ModuleOp>> run();
  /// Why `run` failed (a missing or misshapen tensor).
  const std::string &getError() const { return error; }

private:
  /// Declares `name` as a weight of `shape`, checking the file has it.
  FailureOr<FlatSymbolRefAttr> declare(StringRef name, ArrayRef<int64_t> shape);
  RankedTensorType activation(int64_t features) {
    return RankedTensorType::get({ShapedType::kDynamic, features},
                                 builder.getF32Type());
  }
  Value linear(Value input, int64_t block, LinearRole role, StringRef proj,
               int64_t rows);

  OpBuilder builder;
  const model::ModelFile &file;
  const model::ModelConfig &config;
  Location loc;
  ModuleOp module;
  func::FuncOp forward;
  std::string error;
  bool fuseCandidates;
  bool attachPalette;
};

FailureOr<FlatSymbolRefAttr> ModelImporter::declare(StringRef name,
                                                    ArrayRef<int64_t> shape) {
  const model::TensorInfo *tensor = file.lookupTensor(name);
  if (!tensor) {
    error = formatv("{0}: missing tensor '{1}'", file.getPath(), name);
    return failure();
  }
  if (ArrayRef<int64_t>(tensor->shape) != shape) {
    auto text = [](ArrayRef<int64_t> dims) {
      std::string out;
      for (int64_t dim : dims)
        out += (out.empty() ? "" : ", ") + std::to_string(dim);
      return out;
    };
    error = formatv("{0}: tensor '{1}' has shape [{2}], expected [{3}]",
                    file.getPath(), name, text(tensor->shape), text(shape));
    return failure();
  }
  OpBuilder::InsertionGuard guard(builder);
  // Declarations precede the function, in the order the model uses them.
  builder.setInsertionPoint(forward);
  std::string symbol =
      StringRef(name).drop_back(StringRef(".weight").size()).str();
  auto weight = WeightOp::create(
      builder, loc, builder.getStringAttr(symbol),
      TypeAttr::get(RankedTensorType::get(shape, builder.getF32Type())),
      builder.getStringAttr(name), /*value=*/ElementsAttr(),
      /*storage=*/StringAttr());
  return FlatSymbolRefAttr::get(weight.getSymNameAttr());
}

FailureOr<OwningOpRef<ModuleOp>> ModelImporter::run() {
  OwningOpRef<ModuleOp> owned = ModuleOp::create(loc);
  module = *owned;
  module->setAttr(QPalDialect::kModelFileAttrName,
                  builder.getStringAttr(file.getPath()));
  if (attachPalette)
    module->setAttr(QPalDialect::kPaletteAttrName,
                    getReferencePalette(builder.getContext()));

  const int64_t hidden = config.hiddenSize, inter = config.intermediateSize;
  const int64_t qDim = config.numHeads * config.headDim;
  const int64_t kvDim = config.numKvHeads * config.headDim;
  auto ids =
      RankedTensorType::get({ShapedType::kDynamic}, builder.getI32Type());
  builder.setInsertionPointToEnd(module.getBody());
  forward = func::FuncOp::create(
      builder, loc, "forward",
      builder.getFunctionType({ids, ids}, {activation(config.vocabSize)}));
  Block *entry = forward.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  Value tokens = entry->getArgument(0), positions = entry->getArgument(1);

  FailureOr<FlatSymbolRefAttr> table =
      declare("model.embed_tokens.weight", {config.vocabSize, hidden});
  if (failed(table))
    return failure();
  Value h =
      EmbeddingOp::create(builder, loc, activation(hidden), tokens, *table);
  FloatAttr eps = builder.getF64FloatAttr(config.rmsNormEps);
  for (int64_t block = 0; block < config.numLayers; ++block) {
    std::string prefix = formatv("model.layers.{0}.", block).str();
    FailureOr<FlatSymbolRefAttr> attnNorm =
        declare(prefix + "input_layernorm.weight", {hidden});
    FailureOr<FlatSymbolRefAttr> ffnNorm =
        declare(prefix + "post_attention_layernorm.weight", {hidden});
    if (failed(attnNorm) || failed(ffnNorm))
      return failure();
    Value n = RmsNormOp::create(builder, loc, h, *attnNorm, eps);
    SmallVector<Value> qkv;
    struct Member {
      LinearRole role;
      StringRef proj;
      int64_t rows;
    };
    auto emitGroup = [&](ArrayRef<Member> members, Value input,
                         SmallVectorImpl<Value> &results) -> LogicalResult {
      FusionGroupOp group;
      OpBuilder::InsertionGuard guard(builder);
      if (fuseCandidates) {
        SmallVector<Type> types;
        for (const Member &member : members)
          types.push_back(activation(member.rows));
        group = FusionGroupOp::create(builder, loc, types);
        builder.setInsertionPointToStart(&group.getBody().emplaceBlock());
      }
      SmallVector<Value> values;
      for (const Member &member : members) {
        Value value =
            linear(input, block, member.role, member.proj, member.rows);
        if (!value)
          return failure();
        values.push_back(value);
      }
      if (fuseCandidates) {
        YieldOp::create(builder, loc, values);
        results.append(group.getResults().begin(), group.getResults().end());
      } else {
        results.append(values);
      }
      return success();
    };
    if (failed(emitGroup({{LinearRole::q, "self_attn.q_proj", qDim},
                          {LinearRole::k, "self_attn.k_proj", kvDim},
                          {LinearRole::v, "self_attn.v_proj", kvDim}},
                         n, qkv)))
      return failure();
    auto theta = builder.getF64FloatAttr(config.ropeTheta);
    // Rescaled RoPE (Llama 3, rope_freqs) spells out its frequencies, as the
    // evaluator computes them.
    DenseF32ArrayAttr frequencies;
    if (config.ropeScaling.type != model::RopeScalingType::None ||
        !config.ropeScaling.frequencyFactors.empty())
      frequencies = builder.getDenseF32ArrayAttr(
          model::computeRopeInverseFrequencies(config));
    auto headDim = builder.getI64IntegerAttr(config.headDim);
    // lib/Model reads q/k in the half-split (Hugging Face) rotary layout.
    Value q = RopeOp::create(builder, loc, qkv[0], positions, headDim, theta,
                             /*interleaved=*/nullptr, frequencies);
    Value k = RopeOp::create(builder, loc, qkv[1], positions, headDim, theta,
                             /*interleaved=*/nullptr, frequencies);
    Value attention = AttentionOp::create(
        builder, loc, q, k, qkv[2], builder.getI64IntegerAttr(config.numHeads),
        builder.getI64IntegerAttr(config.numKvHeads), headDim);
    Value o =
        linear(attention, block, LinearRole::o, "self_attn.o_proj", hidden);
    if (!o)
      return failure();
    h = AddOp::create(builder, loc, h, o);
    Value n2 = RmsNormOp::create(builder, loc, h, *ffnNorm, eps);
    SmallVector<Value> gateUp;
    if (failed(emitGroup({{LinearRole::gate, "mlp.gate_proj", inter},
                          {LinearRole::up, "mlp.up_proj", inter}},
                         n2, gateUp)))
      return failure();
    Value act = SwiGluOp::create(builder, loc, gateUp[0], gateUp[1]);
    Value down = linear(act, block, LinearRole::down, "mlp.down_proj", hidden);
    if (!down)
      return failure();
    h = AddOp::create(builder, loc, h, down);
  }
  FailureOr<FlatSymbolRefAttr> finalNorm =
      declare("model.norm.weight", {hidden});
  if (failed(finalNorm))
    return failure();
  Value hn = RmsNormOp::create(builder, loc, h, *finalNorm, eps);
  FailureOr<FlatSymbolRefAttr> head =
      config.tiedEmbeddings
          ? table
          : declare("lm_head.weight", {config.vocabSize, hidden});
  if (failed(head))
    return failure();
  Value logits =
      LmHeadOp::create(builder, loc, activation(config.vocabSize), hn, *head);
  func::ReturnOp::create(builder, loc, logits);
  return std::move(owned);
}

Value ModelImporter::linear(Value input, int64_t block, LinearRole role,
                            StringRef proj, int64_t rows) {
  int64_t cols = cast<RankedTensorType>(input.getType()).getDimSize(1);
  FailureOr<FlatSymbolRefAttr> weight =
      declare(model::getLinearWeightName(block, proj), {rows, cols});
  if (failed(weight))
    return Value();
  auto op = LinearOp::create(builder, loc, activation(rows), input, *weight,
                             /*quantizer=*/nullptr, /*sensitivity=*/nullptr,
                             builder.getI64IntegerAttr(block),
                             LinearRoleAttr::get(builder.getContext(), role));
  return op.getResult();
}

} // namespace

FailureOr<OwningOpRef<ModuleOp>>
qpal::driver::importModel(MLIRContext &context, const model::ModelFile &file,
                          bool fuse, bool palette, std::string &error) {
  context.loadDialect<QPalDialect, func::FuncDialect>();
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    diagnostics += diag.str() + "\n";
    return success();
  });
  ModelImporter importer(context, file, fuse, palette);
  FailureOr<OwningOpRef<ModuleOp>> module = importer.run();
  if (failed(module)) {
    error = importer.getError() + diagnostics;
    return failure();
  }
  if (failed(verify(**module))) {
    error = "the imported module does not verify: " + diagnostics;
    return failure();
  }
  return module;
}

static int runImport() {
  Expected<std::unique_ptr<model::ModelFile>> file =
      model::openModel(modelPath);
  if (!file)
    return driver::reportError(kCommand, toString(file.takeError()));
  MLIRContext context;
  std::string message;
  FailureOr<OwningOpRef<ModuleOp>> module =
      driver::importModel(context, **file, fuse, withPalette, message);
  if (failed(module))
    return driver::reportError(kCommand, message);
  if (Error err = writeOutputFile(outputPath, [&](raw_pwrite_stream &os) {
        (*module)->print(os);
        os << "\n";
        return Error::success();
      }))
    return driver::reportError(kCommand, toString(std::move(err)));
  return 0;
}

static driver::CommandRegistration registerImport(importCommand, runImport);
