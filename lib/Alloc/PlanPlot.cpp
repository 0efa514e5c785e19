//===- PlanPlot.cpp - A plan as a picture
//----------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The paper's Figure-1 view of an MSQ plan: one column per block, one row per
// layer role, each cell coloured by the bits per weight of its quantizer
// (viridis from 1 to 8 bits, grey for f16), a ring for SIMT kernels, fused
// groups outlined, and the budget, prediction and objective in the title.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/Plan.h"
#include "qpal/Support/Svg.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

using namespace qpal;
using namespace qpal::alloc;

namespace {
constexpr double kCell = 20, kRowHeight = 22;
constexpr double kLeft = 64, kTop = 66;
constexpr double kMinBits = 1, kMaxBits = 8;
constexpr llvm::StringLiteral kF16Colour = "#bdbdbd";

std::string cellColour(const QuantizerSpec &quantizer) {
  if (quantizer.family == QuantizerFamily::F16)
    return kF16Colour.str();
  return svg::viridis((quantizer.bitsPerWeight() - kMinBits) /
                      (kMaxBits - kMinBits));
}
} // namespace

std::string alloc::renderPlanSvg(const Plan &plan) {
  size_t blocks = plan.blocks.size();
  double gridWidth = kCell * double(std::max<size_t>(blocks, 1));
  double gridHeight = kRowHeight * kNumProjections;
  double width = std::max(kLeft + gridWidth + 24, 560.0);
  double height = kTop + gridHeight + 110;
  svg::Document doc(width, height);

  // Title: the model, the average rate, what the plan was solved for.
  std::string title =
      llvm::formatv("{0}: MSQ plan, {1} bits per weight",
                    plan.model.name.empty() ? "model" : plan.model.name,
                    svg::number(plan.memory.avgBits(MemoryModel::Full), 3))
          .str();
  doc.text(kLeft, 22, title, 15, "start", "bold");
  std::string subtitle;
  auto add = [&](const std::string &part) {
    subtitle += (subtitle.empty() ? "" : "; ") + part;
  };
  if (plan.budgetBitsPerWeight)
    add("budget " + svg::number(*plan.budgetBitsPerWeight, 3) + " bits");
  if (plan.budgetTokensPerSecond)
    add("target " + svg::number(*plan.budgetTokensPerSecond, 1) + " tokens/s");
  if (std::optional<double> speed = plan.tokensPerSecond())
    add("predicted " + svg::number(*speed, 1) + " tokens/s");
  if (plan.status != SolveStatus::Unsolved)
    add(llvm::formatv("objective {0:e3} ({1}, gap {2}%)", plan.objective,
                      stringifySolveStatus(plan.status),
                      svg::number(plan.gap * 100, 4))
            .str());
  if (!subtitle.empty())
    doc.text(kLeft, 42, subtitle, 12);

  // Row labels and block numbers.
  for (Projection projection : kAllProjections) {
    double y = kTop + kRowHeight * static_cast<unsigned>(projection);
    doc.text(kLeft - 8, y + kRowHeight * 0.68, projectionShortName(projection),
             12, "end");
  }
  for (size_t b = 0; b < blocks; b += (blocks > 12 ? 5 : 1))
    doc.text(kLeft + kCell * (double(b) + 0.5), kTop + gridHeight + 16,
             std::to_string(b), 11, "middle");
  doc.text(kLeft + gridWidth / 2, kTop + gridHeight + 32, "block", 12,
           "middle");

  // The cells.
  for (size_t b = 0; b < blocks; ++b) {
    const BlockPlan &block = plan.blocks[b];
    double x = kLeft + kCell * double(b);
    for (Projection projection : kAllProjections) {
      const QuantizerSpec &quantizer = block.quantizer(projection);
      double y = kTop + kRowHeight * static_cast<unsigned>(projection);
      doc.rect(x, y, kCell, kRowHeight, cellColour(quantizer), "#ffffff", 1);
      if (quantizer.kernel == KernelKind::Simt)
        doc.circle(x + kCell / 2, y + kRowHeight / 2, 3.5, "#ffffff",
                   "#000000");
    }
    // Fused groups: an outline around each run of adjacent members.
    for (FusionGroup group : block.fusedGroups()) {
      llvm::SmallVector<unsigned> rows;
      for (Projection member : fusionGroupMembers(group))
        rows.push_back(static_cast<unsigned>(member));
      llvm::sort(rows);
      size_t start = 0;
      for (size_t i = 1; i <= rows.size(); ++i) {
        if (i < rows.size() && rows[i] == rows[i - 1] + 1)
          continue;
        double top = kTop + kRowHeight * rows[start];
        double bottom = kTop + kRowHeight * (rows[i - 1] + 1);
        doc.rect(x + 1.5, top + 1.5, kCell - 3, bottom - top - 3, "none",
                 "#d62728", 2);
        start = i;
      }
    }
  }

  // Legend: the colour scale, f16, SIMT and fusion marks.
  double legendY = kTop + gridHeight + 52;
  doc.text(kLeft, legendY - 6, "bits per weight", 11);
  double swatch = 28;
  for (int bits = int(kMinBits); bits <= int(kMaxBits); ++bits) {
    double x = kLeft + swatch * (bits - kMinBits);
    doc.rect(x, legendY, swatch, 12,
             svg::viridis((bits - kMinBits) / (kMaxBits - kMinBits)));
    doc.text(x + swatch / 2, legendY + 26, std::to_string(bits), 10, "middle");
  }
  double x = kLeft + swatch * (kMaxBits - kMinBits + 1) + 10;
  doc.rect(x, legendY, swatch, 12, kF16Colour);
  doc.text(x + swatch / 2, legendY + 26, "f16", 10, "middle");
  x += swatch + 24;
  doc.rect(x, legendY - 4, kCell, kRowHeight - 2, svg::viridis(0.5));
  doc.circle(x + kCell / 2, legendY + 7, 3.5, "#ffffff", "#000000");
  doc.text(x + kCell + 6, legendY + 11, "SIMT kernel", 11);
  x += kCell + 86;
  doc.rect(x, legendY - 4, kCell, kRowHeight - 2, "none", "#d62728", 2);
  doc.text(x + kCell + 6, legendY + 11, "fused group", 11);
  return doc.str();
}
