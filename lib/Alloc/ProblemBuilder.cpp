//===- ProblemBuilder.cpp - One MSQ problem from a user's choices ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/ProblemBuilder.h"

#include "qpal/Alloc/Inputs.h"
#include "qpal/Alloc/LatencyModel.h"
#include "qpal/Alloc/Plan.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;
using namespace qpal;
using namespace qpal::alloc;

/// `name` as the user wrote it.
static std::string spell(const MsqRequest &request, StringRef name) {
  return request.spelling == OptionSpelling::CommandLine
             ? ("--" + name).str()
             : ("'" + name + "'").str();
}

static Error error(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

Error qpal::alloc::configureMsqProblem(MsqProblem &problem,
                                       const MsqRequest &request) {
  auto name = [&](StringRef option) { return spell(request, option); };
  if (!request.budgetBits && !request.tokensPerSecond)
    return error(formatv("a budget is required: {0} (average bits per "
                         "weight), {1}, or both",
                         name("budget-bits"),
                         name("target-tokens-per-second")));
  problem.maxBitsPerWeight = request.budgetBits;
  problem.minTokensPerSecond = request.tokensPerSecond;

  if (!request.latencyTable.empty() && !request.roofline.empty())
    return error(formatv("{0} and {1} are two latency models; give one",
                         name("latency-table"), name("roofline")));
  if (!request.latencyTable.empty()) {
    auto table = loadLatencyTable(request.latencyTable);
    if (!table)
      return table.takeError();
    problem.latency = std::move(*table);
  } else if (!request.roofline.empty()) {
    RooflineParams params;
    if (request.roofline == "rtx4090")
      params = RooflineParams::rtx4090();
    else if (request.roofline == "h100")
      params = RooflineParams::h100();
    else
      return error(formatv("unknown {0} '{1}': expected rtx4090 or h100",
                           name("roofline"), request.roofline));
    problem.latency = std::make_shared<RooflineModel>(problem.model, params);
  } else if (request.tokensPerSecond) {
    return error(formatv("{0} needs a latency model: {1} or {2}",
                         name("target-tokens-per-second"),
                         name("latency-table"), name("roofline")));
  }

  if (!request.palette.empty()) {
    auto palette = parsePalette(request.palette);
    if (!palette)
      return palette.takeError();
    problem.palette = std::move(*palette);
  } else if (!request.fallbackPalette.empty()) {
    problem.palette = request.fallbackPalette;
  } else {
    auto defaults =
        parsePalette(request.tokensPerSecond ? "reference-latency-simt"
                                             : "reference-memory");
    if (!defaults)
      return defaults.takeError();
    problem.palette = std::move(*defaults);
  }

  if (!request.distortion.empty()) {
    auto table = loadDistortionTable(request.distortion);
    if (!table)
      return table.takeError();
    problem.distortion = std::move(*table);
  }
  if (!request.layerErrors.empty()) {
    auto layerErrors = loadLayerErrors(request.layerErrors);
    if (!layerErrors)
      return layerErrors.takeError();
    problem.layerErrors =
        std::make_shared<const LayerErrorModel>(std::move(*layerErrors));
  }
  auto memoryModel = parseMemoryModel(request.memoryModel);
  if (!memoryModel)
    return memoryModel.takeError();
  problem.memoryModel = *memoryModel;
  // Fusion only changes latency: without a latency model the planner would
  // merely restrict itself.
  if (request.fusion && problem.latency)
    problem.allowAllFusion();
  return Error::success();
}
