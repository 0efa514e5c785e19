//===- QPalAttrs.cpp - qpal attributes ------------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"
#include "qpal/Quant/QuantizerFamily.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

#include <array>
#include <mutex>
#include <optional>

using namespace mlir;
using namespace qpal;

#include "qpal/Dialect/QPal/QPalAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qpal/Dialect/QPal/QPalAttrs.cpp.inc"

void QPalDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qpal/Dialect/QPal/QPalAttrs.cpp.inc"
      >();
}

Attribute PaletteAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<QuantizerAttrInterface> quantizers;
  auto parseQuantizer = [&]() -> ParseResult {
    SMLoc attrLoc = parser.getCurrentLocation();
    Attribute attr;
    if (parser.parseAttribute(attr))
      return failure();
    auto quantizer = dyn_cast<QuantizerAttrInterface>(attr);
    if (!quantizer)
      return parser.emitError(attrLoc)
             << "expected a quantizer attribute in #qpal.palette, got " << attr;
    quantizers.push_back(quantizer);
    return success();
  };
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     parseQuantizer) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    quantizers);
}

void PaletteAttr::print(AsmPrinter &printer) const {
  printer << "<[";
  llvm::interleaveComma(getQuantizers(), printer);
  printer << "]>";
}

LogicalResult PaletteAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<QuantizerAttrInterface> quantizers) {
  if (quantizers.empty())
    return emitError() << "#qpal.palette expects at least one quantizer";
  llvm::SmallPtrSet<Attribute, 16> seen;
  for (QuantizerAttrInterface quantizer : quantizers)
    if (!seen.insert(quantizer).second)
      return emitError() << "#qpal.palette lists " << quantizer << " twice";
  return success();
}

//===----------------------------------------------------------------------===//
// Plug-in quantizers
//===----------------------------------------------------------------------===//

namespace {
/// The attributes of the plug-in families, by family value. Written while
/// plug-ins load, before any context exists; read without a lock.
struct PluginAttrRegistry {
  std::mutex mutex;
  std::array<std::optional<PluginQuantizerAttr>, 256> byValue;
};
PluginAttrRegistry &pluginAttrs() {
  static PluginAttrRegistry registry;
  return registry;
}
} // namespace

llvm::Error qpal::registerPluginQuantizer(const QuantizerFamilyInfo &info,
                                          PluginQuantizerAttr attr) {
  if (!attr.fromSpec || !attr.loadDialect)
    return llvm::createStringError(
        llvm::formatv("quantizer family '{0}': the plug-in gives no "
                      "attribute builder or dialect loader",
                      info.mnemonic()));
  if (llvm::Error err = registerQuantizerFamily(info))
    return err;
  PluginAttrRegistry &registry = pluginAttrs();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.byValue[static_cast<unsigned>(info.family())] = attr;
  return llvm::Error::success();
}

void qpal::detail::loadPluginQuantizerDialects(MLIRContext *context) {
  for (const std::optional<PluginQuantizerAttr> &attr : pluginAttrs().byValue)
    if (attr)
      attr->loadDialect(context);
}

QuantizerAttrInterface qpal::getQuantizerAttr(MLIRContext *context,
                                              const QuantizerSpec &spec) {
  switch (spec.family) {
#define QPAL_FAMILY(Name, Value, Mnemonic)                                     \
  case QuantizerFamily::Name:                                                  \
    return Name##Attr::fromSpec(context, spec);
#include "qpal/Quant/Families.def"
  }
  // Not one of Families.def: a plug-in's family.
  const std::optional<PluginQuantizerAttr> &attr =
      pluginAttrs().byValue[static_cast<unsigned>(spec.family)];
  if (!attr)
    llvm::report_fatal_error(llvm::formatv(
        "quantizer family '{0}' has no attribute: a plug-in registers its "
        "family with registerPluginQuantizer (QPalDialect.h)",
        spec.familyInfo().mnemonic()));
  return attr->fromSpec(context, spec);
}

llvm::Expected<QuantizerAttrInterface>
qpal::parseQuantizerName(MLIRContext *context, StringRef name) {
  llvm::Expected<QuantizerSpec> spec = QuantizerSpec::parse(name);
  if (!spec)
    return spec.takeError();
  return getQuantizerAttr(context, *spec);
}

PaletteAttr qpal::getModulePalette(ModuleOp module) {
  return module->getAttrOfType<PaletteAttr>(QPalDialect::kPaletteAttrName);
}

PaletteAttr qpal::getReferencePalette(MLIRContext *context) {
  SmallVector<QuantizerAttrInterface> quantizers;
  for (const QuantizerSpec &spec : referencePalette())
    quantizers.push_back(getQuantizerAttr(context, spec));
  return PaletteAttr::get(context, quantizers);
}
