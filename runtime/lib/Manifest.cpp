//===- Manifest.cpp - The manifest of a package ---------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Reads the "manifest" section (JSON, docs/Package.md) and checks the fields
// the runtime relies on before any of them sizes a buffer or picks code:
// the version and target (and an nvptx package's chip), the model's sizes, the
// KV-cache geometry derived from them, and the entry points.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"
#include "Json.h"
#include "Package.h"

#include <cstdio>

using namespace qpalrt;

namespace {

/// The largest model size the runtime accepts: token ids are int32, and
/// products of two sizes must not overflow int64.
constexpr int64_t kMaxSize = INT32_MAX;
/// The largest entry-point batch.
constexpr int64_t kMaxBatch = 65536;

/// Describes a JSON value for a message: a number or a short string as
/// written, anything else by its kind.
std::string describe(const json::Value &value) {
  char text[64];
  if (value.isInteger()) {
    std::snprintf(text, sizeof(text), "%lld",
                  static_cast<long long>(value.getInteger()));
    return text;
  }
  if (value.isNumber()) {
    std::snprintf(text, sizeof(text), "%g", value.getNumber());
    return text;
  }
  if (value.isString()) {
    const std::string &string = value.getString();
    if (string.size() <= 40 && string.find('\0') == std::string::npos)
      return "\"" + string + "\"";
    return "a string of " + std::to_string(string.size()) + " bytes";
  }
  return std::string(value.isArray() || value.isObject() ? "an " : "") +
         value.getKindName();
}

qpalrtStatus formatError(const char *format, const std::string &key,
                         const std::string &detail = "") {
  return fail(QPALRT_ERROR_FORMAT, format, key.c_str(), detail.c_str());
}

/// Reads the integer member `key` of `object` (named `where.key` in
/// messages) into `out`: it must lie in [1, max]. An absent member is an
/// error when `required`, else leaves `out` at 0.
qpalrtStatus readSize(const json::Value &object, const char *where,
                      const char *key, int64_t max, bool required,
                      int64_t &out) {
  std::string name = std::string(where) + key;
  const json::Value *value = object.get(key);
  if (!value) {
    if (!required)
      return QPALRT_SUCCESS;
    return formatError("manifest: %s is missing", name);
  }
  if (!value->isInteger() || value->getInteger() < 1 ||
      value->getInteger() > max)
    return fail(QPALRT_ERROR_FORMAT,
                "manifest: %s must be an integer in [1, %lld], got %s",
                name.c_str(), static_cast<long long>(max),
                describe(*value).c_str());
  out = value->getInteger();
  return QPALRT_SUCCESS;
}

/// Reads the optional string member `key` of `object` into `out`.
qpalrtStatus readString(const json::Value &object, const char *where,
                        const char *key, std::string &out) {
  const json::Value *value = object.get(key);
  if (!value)
    return QPALRT_SUCCESS;
  if (!value->isString())
    return formatError("manifest: %s must be a string, got %s",
                       std::string(where) + key, describe(*value));
  out = value->getString();
  return QPALRT_SUCCESS;
}

/// Reads the required object member `key` of the manifest.
qpalrtStatus readObject(const json::Value &root, const char *key,
                        const json::Value *&out) {
  out = root.get(key);
  if (!out)
    return formatError("manifest: %s is missing", key);
  if (!out->isObject())
    return formatError("manifest: %s must be an object, got %s", key,
                       describe(*out));
  return QPALRT_SUCCESS;
}

/// Checks "format_version" and "target".
qpalrtStatus readVersionAndTarget(const json::Value &root,
                                  uint32_t formatVersion, Manifest &out) {
  const json::Value *version = root.get("format_version");
  if (!version)
    return formatError("manifest: %s is missing", "format_version");
  if (!version->isInteger() || version->getInteger() != int64_t(formatVersion))
    return fail(QPALRT_ERROR_FORMAT,
                "manifest: format_version %s differs from the header's %u",
                describe(*version).c_str(), formatVersion);
  out.formatVersion = version->getInteger();

  const json::Value *target = root.get("target");
  if (!target)
    return formatError("manifest: %s is missing", "target");
  if (!target->isString())
    return formatError("manifest: %s must be a string, got %s", "target",
                       describe(*target));
  out.target = target->getString();
  if (out.target != "cpu" && out.target != "nvptx")
    return formatError("manifest: unknown target %s (known: \"cpu\", "
                       "\"nvptx\")",
                       describe(*target));
  return QPALRT_SUCCESS;
}

/// Checks the "chip" of an nvptx package, the GPU its PTX was compiled for,
/// and records its compute capability.
qpalrtStatus readChip(const json::Value &root, Manifest &out) {
  static const struct {
    const char *name;
    int capability;
  } chips[] = {{"sm_80", 80}, {"sm_86", 86}, {"sm_89", 89}, {"sm_90", 90}};
  const json::Value *chip = root.get("chip");
  if (!chip)
    return formatError("manifest: %s is missing (an nvptx package names its "
                       "GPU, e.g. \"sm_90\")",
                       "chip");
  for (const auto &known : chips)
    if (chip->isString() && chip->getString() == known.name) {
      out.chipCapability = known.capability;
      return QPALRT_SUCCESS;
    }
  return formatError("manifest: chip %s is not a GPU nvptx packages run on "
                     "(known: \"sm_80\", \"sm_86\", \"sm_89\", \"sm_90\")",
                     describe(*chip));
}

/// Reads "model" and "kv_cache" and checks that they agree.
qpalrtStatus readModel(const json::Value &root, Manifest &out) {
  const json::Value *model, *cache;
  if (qpalrtStatus s = readObject(root, "model", model))
    return s;
  const char *m = "model.";
  struct {
    const char *key;
    bool required;
    int64_t &field;
  } sizes[] = {{"vocab_size", true, out.vocabSize},
               {"hidden_size", false, out.hiddenSize},
               {"layers", true, out.layers},
               {"heads", false, out.heads},
               {"kv_heads", true, out.kvHeads},
               {"head_dim", true, out.headDim},
               {"context_length", true, out.contextLength}};
  for (auto &size : sizes)
    if (qpalrtStatus s =
            readSize(*model, m, size.key, kMaxSize, size.required, size.field))
      return s;
  if (qpalrtStatus s = readString(*model, m, "name", out.name))
    return s;
  if (qpalrtStatus s = readString(*model, m, "architecture", out.architecture))
    return s;
  for (const char *key : {"rope_theta", "rms_epsilon"})
    if (const json::Value *value = model->get(key); value && !value->isNumber())
      return formatError("manifest: %s must be a number, got %s",
                         std::string(m) + key, describe(*value));

  if (qpalrtStatus s = readObject(root, "kv_cache", cache))
    return s;
  const char *c = "kv_cache.";
  if (qpalrtStatus s =
          readSize(*cache, c, "planes", 2 * kMaxSize, true, out.planes))
    return s;
  if (qpalrtStatus s =
          readSize(*cache, c, "width", kMaxSize * kMaxSize, true, out.width))
    return s;
  if (out.planes != 2 * out.layers)
    return fail(QPALRT_ERROR_FORMAT,
                "manifest: kv_cache.planes %lld differs from 2 x model.layers "
                "(%lld)",
                static_cast<long long>(out.planes),
                static_cast<long long>(2 * out.layers));
  if (out.width != out.kvHeads * out.headDim)
    return fail(QPALRT_ERROR_FORMAT,
                "manifest: kv_cache.width %lld differs from model.kv_heads x "
                "model.head_dim (%lld x %lld = %lld)",
                static_cast<long long>(out.width),
                static_cast<long long>(out.kvHeads),
                static_cast<long long>(out.headDim),
                static_cast<long long>(out.kvHeads * out.headDim));
  return QPALRT_SUCCESS;
}

/// Reads "entry_points": each a symbol and a distinct batch; batch 1 among
/// them.
qpalrtStatus readEntryPoints(const json::Value &root, Manifest &out) {
  const json::Value *entries = root.get("entry_points");
  if (!entries)
    return formatError("manifest: %s is missing", "entry_points");
  if (!entries->isArray() || entries->getArray().empty())
    return formatError("manifest: %s must be a non-empty array, got %s",
                       "entry_points", describe(*entries));
  bool hasSingle = false;
  for (size_t i = 0; i < entries->getArray().size(); ++i) {
    const json::Value &entry = entries->getArray()[i];
    std::string where = "entry_points[" + std::to_string(i) + "].";
    if (!entry.isObject())
      return formatError("manifest: %s must be an object, got %s",
                         where.substr(0, where.size() - 1), describe(entry));
    EntryPoint point;
    if (qpalrtStatus s = readSize(entry, where.c_str(), "batch", kMaxBatch,
                                  true, point.batch))
      return s;
    const json::Value *symbol = entry.get("symbol");
    if (!symbol)
      return formatError("manifest: %s is missing", where + "symbol");
    if (!symbol->isString() || symbol->getString().empty() ||
        symbol->getString().find('\0') != std::string::npos)
      return formatError("manifest: %s must be a symbol name, got %s",
                         where + "symbol", describe(*symbol));
    point.symbol = symbol->getString();
    for (const EntryPoint &earlier : out.entryPoints)
      if (earlier.batch == point.batch)
        return fail(QPALRT_ERROR_FORMAT,
                    "manifest: entry_points lists batch %lld twice ('%s' and "
                    "'%s')",
                    static_cast<long long>(point.batch), earlier.symbol.c_str(),
                    point.symbol.c_str());
    hasSingle |= point.batch == 1;
    out.entryPoints.push_back(std::move(point));
  }
  if (!hasSingle)
    return fail(QPALRT_ERROR_FORMAT,
                "manifest: entry_points has no entry point of batch 1");
  return QPALRT_SUCCESS;
}

} // namespace

qpalrtStatus qpalrt::parseManifest(std::string_view text,
                                   uint32_t formatVersion, Manifest &out) {
  json::Value root;
  std::string error;
  if (!json::parse(text, root, error))
    return fail(QPALRT_ERROR_FORMAT, "manifest: invalid JSON: %s",
                error.c_str());
  if (!root.isObject())
    return formatError("manifest: the manifest must be a JSON object, got %s",
                       describe(root));
  Manifest manifest;
  if (qpalrtStatus s = readVersionAndTarget(root, formatVersion, manifest))
    return s;
  if (qpalrtStatus s =
          readString(root, "", "qpal_version", manifest.qpalVersion))
    return s;
  if (qpalrtStatus s = readString(root, "", "chip", manifest.chip))
    return s;
  if (manifest.target == "nvptx")
    if (qpalrtStatus s = readChip(root, manifest))
      return s;
  if (qpalrtStatus s = readModel(root, manifest))
    return s;
  if (qpalrtStatus s = readEntryPoints(root, manifest))
    return s;
  if (const json::Value *bits = root.get("bits_per_weight")) {
    if (!bits->isNumber() || bits->getNumber() < 0)
      return formatError("manifest: %s must be a non-negative number, got %s",
                         "bits_per_weight", describe(*bits));
    manifest.bitsPerWeight = bits->getNumber();
  }
  for (const char *key : {"plan", "weights"})
    if (const json::Value *list = root.get(key); list && !list->isArray())
      return formatError("manifest: %s must be an array, got %s", key,
                         describe(*list));
  out = std::move(manifest);
  return QPALRT_SUCCESS;
}
