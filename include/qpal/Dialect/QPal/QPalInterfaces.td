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

    The interface describes; it emits no code. The conversion library
    attaches the decode capabilities (lane decode, packed pair table, SIMT
    decode) as external models, and the layout geometry is lib/Quant's.
    A new quantizer family is an attribute implementing `getSpec`, its codec
    and geometry in `lib/Quant` and its decode models in the conversion
    library; docs/NewQuantizer.md lists every file it touches.
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
  ];
}

#endif // QPAL_DIALECT_QPAL_QPALINTERFACES_TD
