//===- DecodeInterfaces.cpp - The decode interfaces and their models ------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"

#include "DecodeModels.h"

using namespace mlir;
using namespace qpal;

#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.cpp.inc"

void qpal::registerDecodeInterfaceModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, QPalDialect *) {
#define QPAL_CODED_FAMILY(Name, Value, Mnemonic)                               \
  detail::attach##Name##DecodeModels(context);
#include "qpal/Quant/Families.def"
  });
}
