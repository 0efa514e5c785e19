//===- QPalInterfaces.td - qpal attribute interfaces -------*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_DIALECT_QPAL_QPALINTERFACES_TD
#define QPAL_DIALECT_QPAL_QPALINTERFACES_TD

include "mlir/IR/OpBase.td"

def QPal_QuantizerAttrInterface : AttrInterface<"QuantizerAttrInterface"> {
  let cppNamespace = "::qpal";
  let description = [{
    A quantizer of the palette. Every quantizer attribute describes itself as
    a `::qpal::QuantizerSpec` (lib/Quant), and the interface derives every
    property a pass needs from it: bits per weight, the bytes an M x K weight
    occupies, the shapes the packed layout accepts, the expected distortion on
    a Gaussian source, the kernel family and the reference name.

    A new quantizer is one new attribute implementing `getSpec` plus its codec
    in `lib/Quant` (see docs/NewQuantizer.md).
  }];
  let methods = [
    InterfaceMethod<
      "Returns the MLIR-free description of this quantizer.",
      "::qpal::QuantizerSpec", "getSpec">,
    InterfaceMethod<
      "Returns the code bits per weight (codebook, scales and signs excluded).",
      "double", "getBitsPerWeight", (ins), [{}],
      [{ return $_attr.getSpec().bitsPerWeight(); }]>,
    InterfaceMethod<
      "Returns the bytes an M x K weight occupies: packed codes, the fp16 "
      "codebook and the per-row fp16 scales.",
      "uint64_t", "getStorageBytes", (ins "int64_t":$rows, "int64_t":$cols),
      [{}], [{ return $_attr.getSpec().storageBytes(rows, cols); }]>,
    InterfaceMethod<
      "Checks that an M x K weight fits this quantizer's packed layout; on "
      "failure reports the violated rule through `emitError`.",
      "::llvm::LogicalResult", "verifyShape",
      (ins "int64_t":$rows, "int64_t":$cols,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError),
      [{}], [{
        if (auto message = $_attr.getSpec().checkShape(rows, cols))
          return emitError() << *message;
        return ::mlir::success();
      }]>,
    InterfaceMethod<
      "Returns the normalized MSE expected on an i.i.d. Gaussian source.",
      "double", "getExpectedDistortion", (ins), [{}],
      [{ return $_attr.getSpec().expectedDistortion(); }]>,
    InterfaceMethod<
      "Returns the kernel family that implements the dequant-matmul.",
      "::qpal::KernelFamily", "getKernelFamily", (ins), [{}],
      [{ return $_attr.getSpec().kernelFamily(); }]>,
    InterfaceMethod<
      "Returns the Q-Palette reference name (`tcq_6_none_0.9`, ...).",
      "std::string", "getReferenceName", (ins), [{}],
      [{ return $_attr.getSpec().referenceName(); }]>,

    // Code generation. The tensor-core layouts store, per 32 x 32 supertile,
    // one segment of codes per lane (see KernelDecode.h); a column split has
    // one such matrix per part.
    InterfaceMethod<
      "Returns the number of column parts the weight is packed in (2 for a "
      "column split, else 1).",
      "unsigned", "getNumColumnParts", (ins), [{}], [{ return 1; }]>,
    InterfaceMethod<
      "Returns the bytes one lane's segment of one supertile occupies in "
      "`part`, or 0 when the quantizer has no tensor-core code layout.",
      "unsigned", "getLaneSegmentBytes", (ins "unsigned":$part), [{}],
      [{ return 0; }]>,
    InterfaceMethod<
      "Returns the byte offset of `part`'s packed matrix in the code buffer "
      "of an M x K weight.",
      "uint64_t", "getPartByteOffset",
      (ins "int64_t":$rows, "int64_t":$cols, "unsigned":$part), [{}],
      [{ return 0; }]>,
    InterfaceMethod<
      "Emits, at the builder's insertion point, the decode of the 16 weight "
      "pairs one lane owns in one supertile, reading the codes and codebook "
      "of `args`; fails (with a diagnostic at `loc`) when the quantizer has "
      "no tensor-core code layout.",
      "::llvm::LogicalResult", "emitLaneDecode",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "const ::qpal::LaneDecodeArgs &":$args,
           "::llvm::SmallVectorImpl<::qpal::DecodedPair> &":$pairs), [{}],
      [{
        return ::mlir::emitError(loc)
               << $_attr.getSpec().referenceName()
               << " has no tensor-core code layout to decode";
      }]>,
    InterfaceMethod<
      "Returns the entries of the quantizer's packed pair table, or 0 when "
      "it has none. Entry e is one weight pair as two f16 values in an i32 "
      "(the first in the low half): codebook entry e of a 2-D codebook "
      "(TCQ, VQ), or the pair (code e mod 2^b, code e / 2^b) of a scalar "
      "one. Given `LaneDecodeArgs::packedPairs`, `emitLaneDecode` returns "
      "its pairs packed, one lookup each, ready for `mma.sync`.",
      "unsigned", "getPackedPairEntries", (ins), [{}], [{ return 0; }]>,
    InterfaceMethod<
      "Emits entry `entry` (an index) of the packed pair table (an i32), "
      "computed from the f32 `codebook`.",
      "::mlir::Value", "emitPackedPairEntry",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$codebook, "::mlir::Value":$entry), [{}],
      [{ return {}; }]>,
    InterfaceMethod<
      "Returns the columns of one row chunk of the CUDA-core (SIMT) layout "
      "(1024 times the vector dimension), or 0 when the quantizer has none.",
      "unsigned", "getSimtChunkColumns", (ins), [{}], [{ return 0; }]>,
    InterfaceMethod<
      "Emits the decode of the 32 codes one lane owns in one row chunk of "
      "the SIMT layout; fails (with a diagnostic at `loc`) without one.",
      "::llvm::LogicalResult", "emitSimtDecode",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "const ::qpal::SimtDecodeArgs &":$args,
           "::llvm::SmallVectorImpl<::qpal::DecodedSimtCode> &":$codes), [{}],
      [{
        return ::mlir::emitError(loc)
               << $_attr.getSpec().referenceName()
               << " has no CUDA-core (SIMT) code layout to decode";
      }]>,
  ];
}

#endif // QPAL_DIALECT_QPAL_QPALINTERFACES_TD
