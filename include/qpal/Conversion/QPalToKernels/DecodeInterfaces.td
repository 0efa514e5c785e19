//===- DecodeInterfaces.td - How kernels decode codes ---- -*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The capabilities a quantizer attribute needs to be lowered to kernels. The
// dialect's quantizer attributes only describe themselves
// (QuantizerAttrInterface); the conversion library attaches these
// interfaces to them as external models (registerDecodeInterfaceModels),
// the way upstream dialects attach bufferization or lowering interfaces.
// Layout geometry (segment bytes, part offsets, chunk widths, pair-table
// sizes) is lib/Quant's, through QuantizerSpec.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_DECODEINTERFACES_TD
#define QPAL_CONVERSION_QPALTOKERNELS_DECODEINTERFACES_TD

include "mlir/IR/OpBase.td"

def QPal_LaneDecodeAttrInterface : AttrInterface<"LaneDecodeAttrInterface"> {
  let cppNamespace = "::qpal";
  let description = [{
    The decode of a tensor-core code layout: per 32 x 32 supertile, the 16
    weight pairs one lane of a warp owns (KernelDecode.h). Written once, it
    serves the GPU kernels (one lane) and the CPU kernels (the 32 lanes of a
    supertile as `vector<32x...>` values).
  }];
  let methods = [
    InterfaceMethod<
      "Emits, at the builder's insertion point, the decode of the 16 weight "
      "pairs one lane owns in one supertile, reading the codes and codebook "
      "of `args`; fails with a diagnostic at `loc`.",
      "::llvm::LogicalResult", "emitLaneDecode",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "const ::qpal::LaneDecodeArgs &":$args,
           "::llvm::SmallVectorImpl<::qpal::DecodedPair> &":$pairs)>,
  ];
}

def QPal_PackedPairTableAttrInterface
    : AttrInterface<"PackedPairTableAttrInterface"> {
  let cppNamespace = "::qpal";
  let description = [{
    The packed pair table of a tensor-core layout: entry e is one weight pair
    as two f16 values in an i32 (the first in the low half), so that a lane
    decodes a pair with one lookup, ready for `mma.sync`.
    `QuantizerSpec::packedPairEntries` gives its size.
  }];
  let methods = [
    InterfaceMethod<
      "Emits entry `entry` (an index) of the packed pair table (an i32), "
      "computed from the f32 `codebook`: codebook entry e of a 2-D codebook "
      "(TCQ, VQ), or the pair (code e mod 2^b, code e / 2^b) of a scalar one.",
      "::mlir::Value", "emitPackedPairEntry",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$codebook, "::mlir::Value":$entry)>,
  ];
}

def QPal_SimtDecodeAttrInterface : AttrInterface<"SimtDecodeAttrInterface"> {
  let cppNamespace = "::qpal";
  let description = [{
    The decode of a CUDA-core (SIMT) code layout: the 32 codes one lane owns
    in one row chunk (quantizers.md section 6.6).
  }];
  let methods = [
    InterfaceMethod<
      "Emits the decode of the 32 codes one lane owns in one row chunk; fails "
      "with a diagnostic at `loc`.",
      "::llvm::LogicalResult", "emitSimtDecode",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "const ::qpal::SimtDecodeArgs &":$args,
           "::llvm::SmallVectorImpl<::qpal::DecodedSimtCode> &":$codes)>,
  ];
}

#endif // QPAL_CONVERSION_QPALTOKERNELS_DECODEINTERFACES_TD
