//===- LegalizeFusion.cpp - Split fusion groups a kernel cannot run -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <optional>

namespace qpal {
#define GEN_PASS_DEF_LEGALIZEFUSIONPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

/// The group kinds a Llama block can fuse, in the reference's naming.
constexpr llvm::StringLiteral kAllGroupKinds[] = {"qk", "kv", "qv", "qkv",
                                                  "ug"};

/// Returns the group's kind (`qkv`, `ug`, ...) or the reason it has none.
FailureOr<std::string> classifyGroup(FusionGroupOp group, std::string &reason) {
  SmallVector<LinearOp, 4> members = group.getMembers();
  std::optional<int64_t> block = members.front().getBlock();
  bool attention = false, mlp = false;
  unsigned seen = 0;
  for (auto [index, member] : llvm::enumerate(members)) {
    std::optional<LinearRole> role = member.getRole();
    if (!role) {
      reason = llvm::formatv("member #{0} has no role, so its rotation "
                             "domain is unknown",
                             index)
                   .str();
      return failure();
    }
    if (member.getBlock() != block) {
      reason =
          llvm::formatv("member #{0} belongs to another block", index).str();
      return failure();
    }
    unsigned bit = 1u << static_cast<unsigned>(*role);
    if (seen & bit) {
      reason =
          llvm::formatv("role '{0}' appears twice", stringifyLinearRole(*role))
              .str();
      return failure();
    }
    seen |= bit;
    switch (*role) {
    case LinearRole::q:
    case LinearRole::k:
    case LinearRole::v:
      attention = true;
      break;
    case LinearRole::gate:
    case LinearRole::up:
      mlp = true;
      break;
    case LinearRole::o:
    case LinearRole::down:
    case LinearRole::lm_head:
      reason = llvm::formatv("'{0}' has an input of its own and is never "
                             "fused",
                             stringifyLinearRole(*role))
                   .str();
      return failure();
    }
  }
  if (attention && mlp) {
    reason = "members mix the attention (q/k/v) and MLP (gate/up) rotation "
             "domains";
    return failure();
  }
  if (mlp)
    return std::string("ug");
  std::string kind;
  for (LinearRole role : {LinearRole::q, LinearRole::k, LinearRole::v})
    if (seen & (1u << static_cast<unsigned>(role)))
      kind += stringifyLinearRole(role);
  return kind;
}

struct LegalizeFusionPass final
    : qpal::impl::LegalizeFusionPassBase<LegalizeFusionPass> {
  using LegalizeFusionPassBase::LegalizeFusionPassBase;

  void runOnOperation() override {
    llvm::StringSet<> allowed;
    for (const std::string &kind : allowedGroups) {
      if (!llvm::is_contained(kAllGroupKinds, kind)) {
        getOperation().emitError()
            << "unknown group kind '" << kind
            << "' in allowed-groups, expected qk, kv, qv, qkv or ug";
        return signalPassFailure();
      }
      allowed.insert(kind);
    }
    if (allowed.empty())
      for (StringRef kind : kAllGroupKinds)
        allowed.insert(kind);

    SmallVector<FusionGroupOp> groups;
    getOperation().walk([&](FusionGroupOp group) { groups.push_back(group); });
    IRRewriter rewriter(&getContext());
    for (FusionGroupOp group : groups) {
      std::string reason;
      FailureOr<std::string> kind = classifyGroup(group, reason);
      if (succeeded(kind) && !allowed.contains(*kind))
        reason = llvm::formatv("the target has no '{0}' kernel", *kind).str();
      if (reason.empty())
        continue;
      group.emitRemark() << "split fusion group: " << reason;
      rewriter.setInsertionPoint(group);
      group.inlineMembers(rewriter);
    }
  }
};

} // namespace
