//===- JsonReaderFuzzer.cpp - libFuzzer harness for the JSON readers ------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// One harness for the JSON inputs a user hands qpal, built once per reader
// (QPAL_FUZZ_READER_*): plans (`--plan`), sensitivities (`--sensitivity`),
// latency tables (`--latency-table`) and distortion tables. Arbitrary bytes
// go through the bounded JSON reader and the schema reader. Any error is
// fine; a crash, a sanitizer report or a broken round trip is a finding:
//
//  - plan: every quantizer name read prints back to a name that reads to the
//    same quantizer; the layer check against a 30-block model runs;
//  - sensitivities: a table that reads passes its own verifier, and every
//    group sum is finite;
//  - latency tables: written back (toJson) and read again, the table writes
//    the same JSON;
//  - distortion tables: every value read is finite and >= 0.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/Inputs.h"
#include "qpal/Alloc/LatencyModel.h"
#include "qpal/Alloc/ModelShape.h"
#include "qpal/Model/FakeQuant.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Support/Json.h"

#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace qpal;

namespace {

[[noreturn]] void finding(const llvm::Twine &what) {
  std::fprintf(stderr, "finding: %s\n", what.str().c_str());
  std::abort();
}

template <typename T> bool ok(llvm::Expected<T> &value) {
  if (value)
    return true;
  llvm::consumeError(value.takeError());
  return false;
}

[[maybe_unused]] void fuzzPlan(llvm::StringRef text) {
  llvm::Expected<model::QuantPlan> plan = model::parseQuantPlan(text, "fuzz");
  if (!ok(plan))
    return;
  for (const auto &[key, spec] : plan->layers) {
    std::string name = spec.referenceName();
    llvm::Expected<QuantizerSpec> again = QuantizerSpec::parse(name);
    if (!again)
      finding("plan layer '" + key + "': the name '" + name +
              "' printed from a parsed quantizer does not parse: " +
              llvm::toString(again.takeError()));
    if (again->referenceName() != name)
      finding("plan layer '" + key + "': '" + name + "' reads back as '" +
              again->referenceName() + "'");
  }
  llvm::consumeError(model::checkPlanLayers(*plan, 30));
}

[[maybe_unused]] void fuzzSensitivities(const llvm::json::Value &json) {
  llvm::Expected<alloc::Sensitivities> table = alloc::parseSensitivities(json);
  if (!ok(table))
    return;
  if (llvm::Error error = table->verify())
    finding("a sensitivity table that parsed fails its verifier: " +
            llvm::toString(std::move(error)));
  for (unsigned block = 0; block < table->numBlocks(); ++block)
    for (alloc::FusionGroup group : alloc::kAllFusionGroups)
      if (!std::isfinite(table->groupSum(block, group)))
        finding("a group sum of a verified table is not finite");
}

[[maybe_unused]] void fuzzLatency(const llvm::json::Value &json) {
  auto table = alloc::LatencyTable::fromJson(json, "fuzz");
  if (!ok(table))
    return;
  llvm::json::Value written = (*table)->toJson();
  auto again = alloc::LatencyTable::fromJson(written, "fuzz (written)");
  if (!again)
    finding("a latency table written by toJson does not read back: " +
            llvm::toString(again.takeError()));
  std::string first, second;
  llvm::raw_string_ostream(first) << written;
  llvm::raw_string_ostream(second) << (*again)->toJson();
  if (first != second)
    finding("a latency table changes on a round trip:\n" + first + "\n" +
            second);
}

[[maybe_unused]] void fuzzDistortion(const llvm::json::Value &json) {
  llvm::Expected<alloc::DistortionTable> table =
      alloc::DistortionTable::fromJson(json, "fuzz");
  if (!ok(table))
    return;
  for (const QuantizerSpec &spec : allCodedQuantizers()) {
    llvm::Expected<double> value = table->lookup(spec);
    if (!ok(value))
      continue;
    if (!std::isfinite(*value) || *value < 0)
      finding("a distortion table holds " + std::to_string(*value));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
#if defined(QPAL_FUZZ_READER_PLAN)
  fuzzPlan(text);
#else
  llvm::Expected<llvm::json::Value> json = parseJsonBounded(text, "fuzz");
  if (!ok(json))
    return 0;
#if defined(QPAL_FUZZ_READER_SENSITIVITY)
  fuzzSensitivities(*json);
#elif defined(QPAL_FUZZ_READER_LATENCY)
  fuzzLatency(*json);
#elif defined(QPAL_FUZZ_READER_DISTORTION)
  fuzzDistortion(*json);
#else
#error "define one QPAL_FUZZ_READER_*"
#endif
#endif
  return 0;
}
