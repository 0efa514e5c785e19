//===- ModelOptions.cpp - What the model commands share -------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "ModelOptions.h"

#include "qpal/Model/ModelFile.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdlib>

using namespace llvm;
using namespace qpal;

std::string qpal::driver::getSharedDir() {
  if (const char *shared = std::getenv("QPAL_SHARED_DIR"))
    return shared;
  return QPAL_DEFAULT_SHARED_DIR;
}

Expected<std::optional<model::QuantPlan>>
qpal::driver::getQuantPlan(StringRef quantizer, StringRef planPath,
                           StringRef modelPath) {
  if (!quantizer.empty() && !planPath.empty())
    return createStringError("give --quantizer or --plan, not both");
  if (!planPath.empty()) {
    Expected<model::QuantPlan> plan = model::loadQuantPlan(planPath);
    if (!plan)
      return plan.takeError();
    // Checked before any weight is quantized: an entry for a layer the
    // model lacks would be ignored silently.
    Expected<std::unique_ptr<model::ModelFile>> file =
        model::openModel(modelPath);
    if (!file)
      return file.takeError();
    if (Error err =
            model::checkPlanLayers(*plan, (*file)->getConfig().numLayers))
      return createStringError(
          formatv("plan '{0}': {1}", planPath, toString(std::move(err))));
    return std::optional<model::QuantPlan>(std::move(*plan));
  }
  if (quantizer.empty() || quantizer == "fp")
    return std::optional<model::QuantPlan>();
  Expected<QuantizerSpec> spec = QuantizerSpec::parse(quantizer);
  if (!spec)
    return spec.takeError();
  model::QuantPlan plan;
  plan.uniform = *spec;
  return std::optional<model::QuantPlan>(std::move(plan));
}

std::string qpal::driver::describeWeights(StringRef quantizer,
                                          StringRef planPath) {
  if (!planPath.empty())
    return ("plan " + planPath).str();
  if (!quantizer.empty())
    return quantizer.str();
  return "fp (the model file's own weights)";
}

llvm::Expected<std::string>
qpal::driver::readTextFiles(llvm::ArrayRef<std::string> files) {
  std::string text;
  for (const std::string &file : files) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(file);
    if (!buffer)
      return llvm::createStringError(
          buffer.getError(), llvm::formatv("cannot read '{0}': {1}", file,
                                           buffer.getError().message()));
    if (!text.empty())
      text += "\n\n";
    text += (*buffer)->getBuffer();
  }
  return text;
}

Expected<alloc::ModelConfig>
driver::getPlannerModel(const model::ModelConfig &config, StringRef name) {
  alloc::ModelConfig model;
  model.name = name.str();
  model.hiddenSize = config.hiddenSize;
  model.intermediateSize = config.intermediateSize;
  model.numHeads = config.numHeads;
  model.numKvHeads = config.numKvHeads;
  model.headDim = config.headDim;
  model.numBlocks = config.numLayers;
  model.vocabSize = config.vocabSize;
  if (Error err = model.verify())
    return std::move(err);
  return model;
}
