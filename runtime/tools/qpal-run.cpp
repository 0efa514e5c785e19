//===- qpal-run.cpp - Run a compiled-model package ------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Runs a package that `qpal compile` wrote, with the runtime alone (no MLIR,
// no LLVM):
//
//   qpal-run PKG --info [--json]
//   qpal-run PKG --prompt TEXT [-n 64] [--temperature 0 --top-p 1 --seed 0]
//                [--chat] [--tokens]
//   qpal-run PKG --perplexity [--text FILE]... [--ctx 512]
//                [--max-tokens 8192] [--json]
//   qpal-run PKG --bench [--prompt-tokens 128] [--decode-tokens 64]
//                [--repeats 3] [--json]
//
// Generation and perplexity follow `qpal generate` and `qpal eval` exactly
// (lib/Model/Generate.cpp, lib/Model/Perplexity.cpp and
// Evaluator::scoreSequence), so that a package gives the same tokens and the
// same perplexity as the compiler's reference evaluator on the same weights.
// Every failure is one line `qpal-run: error: ...` and exit code 1; a usage
// error exits with 2.
//
//===----------------------------------------------------------------------===//

#include "Evaluate.h"
#include "Json.h"

#include "qpalpkg.h"
#include "qpalrt.h"
#include "qpaltok/Tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

const char *const kUsage =
    "usage: qpal-run PACKAGE (--info [--json] | --prompt TEXT [-n N] "
    "[--temperature T] [--top-p P] [--seed S] [--chat] [--tokens] | "
    "--perplexity [--text FILE]... [--ctx N] [--json] | --bench "
    "[--prompt-tokens N] [--decode-tokens N] [--repeats N] [--json]) "
    "[--max-tokens N] [--threads N]";

const char *const kHelp = R"(
  --version            print qpal-run's version and the package format
  --info               describe the model, the plan, the sections
  --prompt TEXT        generate from TEXT (control tokens such as
                       <|im_start|> are parsed), streaming the text
    -n N               tokens to generate at most (64)
    --temperature T    0 (the default) is greedy, as `qpal generate`
    --top-p P          nucleus sampling: the fewest tokens whose
                       probabilities reach P (1)
    --seed S           the sampler's seed (0)
    --chat             wrap TEXT in the ChatML turn of a user
    --tokens           print the generated token ids instead of the text
  --perplexity         `qpal eval`'s protocol: State of the Union 2010-2021
                       from $QPAL_SHARED_DIR/data/sotu, no BOS, windows of
                       --ctx, the first --max-tokens (8192) tokens
    --text FILE        score FILE instead (repeatable; joined by a blank line)
    --ctx N            the window (512)
  --bench              time P prompt tokens and D decode steps, median of R
    --prompt-tokens N  P (128)
    --decode-tokens N  D (64)
    --repeats N        R (3), after one warm-up
  --json               print one JSON object (--info, --perplexity, --bench)
  --max-tokens N       the KV cache's positions (--prompt: min(context,
                       4096); --bench: P + D)
  --threads N          threads of the compiled code (0: one per core)
)";

/// A failure: the message of `qpal-run: error: <message>`.
struct Failure {
  std::string message;
};

/// A usage error: exit code 2, with the usage line.
struct UsageError {
  std::string message;
};

std::string format(const char *format, ...)
    __attribute__((format(printf, 1, 2)));
std::string format(const char *format, ...) {
  va_list args, argsCopy;
  va_start(args, format);
  va_copy(argsCopy, args);
  int length = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string text(length > 0 ? size_t(length) : 0, '\0');
  std::vsnprintf(text.data(), text.size() + 1, format, argsCopy);
  va_end(argsCopy);
  return text;
}

/// Throws a Failure with the runtime's message unless `status` is success.
/// Warns, when `dropped` > 0, that that many bytes of `what` have no token
/// in the package's vocabulary and were left out of its tokens.
void warnDroppedBytes(size_t dropped, const std::string &what) {
  if (dropped)
    std::fprintf(stderr,
                 "qpal-run: warning: %zu byte%s of %s have no token in the "
                 "model's vocabulary and were dropped (llama.cpp drops them "
                 "too)\n",
                 dropped, dropped == 1 ? "" : "s", what.c_str());
}

void check(qpalrtStatus status) {
  if (status != QPALRT_SUCCESS)
    throw Failure{qpalrtGetLastError()};
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

enum class Mode { None, Info, Generate, Perplexity, Bench };

struct Options {
  std::string package;
  Mode mode = Mode::None;
  bool json = false;
  // --prompt
  std::string prompt;
  int64_t newTokens = 64;
  double temperature = 0.0, topP = 1.0;
  uint64_t seed = 0;
  bool chat = false, printTokens = false;
  // --perplexity
  std::vector<std::string> textFiles;
  int64_t context = 512;
  // --bench
  int64_t promptTokens = 128, decodeTokens = 64, repeats = 3;
  // All.
  std::optional<int64_t> maxTokens;
  int threads = 0;
};

int64_t parseInteger(const std::string &option, const std::string &text) {
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0)
    throw UsageError{option + " expects an integer, got '" + text + "'"};
  return value;
}

double parseNumber(const std::string &option, const std::string &text) {
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value))
    throw UsageError{option + " expects a number, got '" + text + "'"};
  return value;
}

Options parseOptions(int argc, char **argv) {
  Options options;
  std::set<std::string> given;
  auto setMode = [&](Mode mode, const std::string &option) {
    if (options.mode != Mode::None)
      throw UsageError{"give one of --info, --prompt, --perplexity and "
                       "--bench, not several (" +
                       option + ")"};
    options.mode = mode;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    bool hasValue = false;
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      size_t equals = arg.find('=');
      if (equals != std::string::npos) {
        value = arg.substr(equals + 1);
        arg = arg.substr(0, equals);
        hasValue = true;
      }
    }
    auto takeValue = [&]() -> std::string {
      if (hasValue)
        return value;
      if (i + 1 >= argc)
        throw UsageError{arg + " expects a value"};
      return argv[++i];
    };
    auto noValue = [&]() {
      if (hasValue)
        throw UsageError{arg + " takes no value"};
    };
    if (arg == "-h" || arg == "--help") {
      std::printf("%s\n%s", kUsage, kHelp);
      std::exit(0);
    }
    if (arg == "--version") {
      std::printf("qpal-run %s (package format %u)\n", QPAL_VERSION_STRING,
                  QPALPKG_FORMAT_VERSION);
      std::exit(0);
    }
    if (arg.empty() || arg[0] != '-' || arg == "-") {
      if (!options.package.empty())
        throw UsageError{"one package expected, got '" + options.package +
                         "' and '" + arg + "'"};
      options.package = arg;
      continue;
    }
    given.insert(arg);
    if (arg == "--info") {
      noValue();
      setMode(Mode::Info, arg);
    } else if (arg == "--prompt") {
      setMode(Mode::Generate, arg);
      options.prompt = takeValue();
    } else if (arg == "--perplexity") {
      noValue();
      setMode(Mode::Perplexity, arg);
    } else if (arg == "--bench") {
      noValue();
      setMode(Mode::Bench, arg);
    } else if (arg == "--json") {
      noValue();
      options.json = true;
    } else if (arg == "-n") {
      options.newTokens = parseInteger(arg, takeValue());
    } else if (arg == "--temperature") {
      options.temperature = parseNumber(arg, takeValue());
    } else if (arg == "--top-p") {
      options.topP = parseNumber(arg, takeValue());
    } else if (arg == "--seed") {
      options.seed = uint64_t(parseInteger(arg, takeValue()));
    } else if (arg == "--chat") {
      noValue();
      options.chat = true;
    } else if (arg == "--tokens") {
      noValue();
      options.printTokens = true;
    } else if (arg == "--text") {
      options.textFiles.push_back(takeValue());
    } else if (arg == "--ctx") {
      options.context = parseInteger(arg, takeValue());
    } else if (arg == "--prompt-tokens") {
      options.promptTokens = parseInteger(arg, takeValue());
    } else if (arg == "--decode-tokens") {
      options.decodeTokens = parseInteger(arg, takeValue());
    } else if (arg == "--repeats") {
      options.repeats = parseInteger(arg, takeValue());
    } else if (arg == "--max-tokens") {
      options.maxTokens = parseInteger(arg, takeValue());
    } else if (arg == "--threads") {
      int64_t threads = parseInteger(arg, takeValue());
      if (threads < 0 || threads > 4096)
        throw UsageError{"--threads must be in [0, 4096], got " +
                         std::to_string(threads)};
      options.threads = int(threads);
    } else {
      throw UsageError{"unknown option '" + arg + "'"};
    }
  }
  if (options.package.empty())
    throw UsageError{"no package given"};
  if (options.mode == Mode::None)
    throw UsageError{"give one of --info, --prompt, --perplexity and --bench"};

  // Options of one mode are refused in another, rather than ignored.
  const std::map<std::string, std::set<Mode>> modesOf = {
      {"--json", {Mode::Info, Mode::Perplexity, Mode::Bench}},
      {"-n", {Mode::Generate}},
      {"--temperature", {Mode::Generate}},
      {"--top-p", {Mode::Generate}},
      {"--seed", {Mode::Generate}},
      {"--chat", {Mode::Generate}},
      {"--tokens", {Mode::Generate}},
      {"--text", {Mode::Perplexity}},
      {"--ctx", {Mode::Perplexity}},
      {"--prompt-tokens", {Mode::Bench}},
      {"--decode-tokens", {Mode::Bench}},
      {"--repeats", {Mode::Bench}},
      {"--max-tokens", {Mode::Generate, Mode::Perplexity, Mode::Bench}},
      {"--threads", {Mode::Generate, Mode::Perplexity, Mode::Bench}}};
  for (const auto &[option, modes] : modesOf)
    if (given.count(option) && !modes.count(options.mode))
      throw UsageError{option + " does not apply to this mode"};

  if (options.mode == Mode::Generate) {
    if (options.newTokens < 1)
      throw UsageError{"-n must be positive, got " +
                       std::to_string(options.newTokens)};
    if (options.temperature < 0)
      throw UsageError{format("--temperature must not be negative, got %g",
                              options.temperature)};
    if (!(options.topP > 0 && options.topP <= 1))
      throw UsageError{
          format("--top-p must be in (0, 1], got %g", options.topP)};
  }
  if (options.mode == Mode::Bench &&
      (options.promptTokens < 1 || options.decodeTokens < 1 ||
       options.repeats < 1))
    throw UsageError{format(
        "--prompt-tokens, --decode-tokens and --repeats must be positive, "
        "got %lld, %lld and %lld",
        static_cast<long long>(options.promptTokens),
        static_cast<long long>(options.decodeTokens),
        static_cast<long long>(options.repeats))};
  return options;
}

//===----------------------------------------------------------------------===//
// The package
//===----------------------------------------------------------------------===//

/// An opened package with its tokenizer.
struct Model {
  qpalrtPackage *package = nullptr;
  qpalrtModelInfo info;
  std::unique_ptr<qpaltok::Tokenizer> tokenizer;
  double loadSeconds = 0.0;

  ~Model() { qpalrtClosePackage(package); }

  /// The bytes of section `name`.
  std::string_view section(const char *name) const {
    const void *data = nullptr;
    size_t bytes = 0;
    check(qpalrtGetPackageSection(package, name, &data, &bytes));
    return std::string_view(static_cast<const char *>(data), bytes);
  }
};

/// Opens the package, and builds its tokenizer if `withTokenizer`.
void openModel(const Options &options, Model &model, bool withTokenizer) {
  Clock::time_point start = Clock::now();
  check(qpalrtOpenPackage(options.package.c_str(), &model.package));
  check(qpalrtGetModelInfo(model.package, &model.info));
  check(qpalrtSetThreads(model.package, options.threads));
  if (withTokenizer) {
    std::string_view bytes = model.section("tokenizer");
    qpaltok::Vocabulary vocabulary;
    std::string error;
    if (!qpaltok::parseVocabulary(bytes.data(), bytes.size(), vocabulary,
                                  error) ||
        !(model.tokenizer =
              qpaltok::Tokenizer::create(std::move(vocabulary), error)))
      throw Failure{options.package + ": section 'tokenizer': " + error};
  }
  model.loadSeconds = secondsSince(start);
}

/// A session that is destroyed with the scope.
struct Session {
  qpalrtSession *session = nullptr;
  Session(const Model &model, int64_t maxTokens) {
    check(qpalrtCreateSession(model.package, maxTokens, &session));
  }
  ~Session() { qpalrtDestroySession(session); }
  operator qpalrtSession *() const { return session; }
};

//===----------------------------------------------------------------------===//
// JSON output
//===----------------------------------------------------------------------===//

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\')
      out += std::string("\\") + c;
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (u < 0x20 || u == 0x7f)
      out += format("\\u%04x", u);
    else
      out += c;
  }
  return out + "\"";
}

std::string number(double value) {
  if (!std::isfinite(value))
    return "null";
  return format("%.17g", value);
}

/// Writes a JSON object member by member, indented by two spaces.
class ObjectWriter {
public:
  explicit ObjectWriter(int indent = 0) : indent(indent) {}
  ObjectWriter &raw(const std::string &key, const std::string &value) {
    members.push_back(quote(key) + ": " + value);
    return *this;
  }
  ObjectWriter &string(const std::string &key, std::string_view value) {
    return raw(key, quote(value));
  }
  ObjectWriter &integer(const std::string &key, int64_t value) {
    return raw(key, std::to_string(value));
  }
  ObjectWriter &real(const std::string &key, double value) {
    return raw(key, number(value));
  }
  std::string str() const {
    std::string pad(size_t(indent) + 2, ' '), text = "{\n";
    for (size_t i = 0; i < members.size(); ++i)
      text += pad + members[i] + (i + 1 < members.size() ? ",\n" : "\n");
    return text + std::string(size_t(indent), ' ') + "}";
  }

private:
  int indent;
  std::vector<std::string> members;
};

//===----------------------------------------------------------------------===//
// --info
//===----------------------------------------------------------------------===//

/// What the manifest's "plan" says: layers, groups and quantizers.
struct PlanSummary {
  int64_t layers = 0;
  std::set<std::string> groups;
  std::map<std::string, int64_t> quantizers;
};

PlanSummary summarizePlan(const qpalrt::json::Value &manifest) {
  PlanSummary summary;
  const qpalrt::json::Value *plan = manifest.get("plan");
  if (!plan)
    return summary;
  for (const qpalrt::json::Value &entry : plan->getArray()) {
    ++summary.layers;
    const qpalrt::json::Value *quantizer = entry.get("quantizer");
    const qpalrt::json::Value *group = entry.get("group");
    ++summary.quantizers[quantizer && quantizer->isString()
                             ? quantizer->getString()
                             : "?"];
    if (group && group->isString())
      summary.groups.insert(group->getString());
  }
  return summary;
}

/// The quantizers by use, most used first.
std::vector<std::pair<std::string, int64_t>>
byUse(const std::map<std::string, int64_t> &quantizers) {
  std::vector<std::pair<std::string, int64_t>> sorted(quantizers.begin(),
                                                      quantizers.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  return sorted;
}

std::string stringMember(const qpalrt::json::Value &object, const char *key) {
  const qpalrt::json::Value *value = object.get(key);
  return value && value->isString() ? value->getString() : "";
}

/// The decode speed `qpal compile --latency-table` predicted for the
/// package (its manifest's allocation), or 0 when it predicted none.
double predictedTokensPerSecond(const qpalrt::json::Value &manifest) {
  const qpalrt::json::Value *allocation = manifest.get("allocation");
  const qpalrt::json::Value *predicted =
      allocation && allocation->isObject()
          ? allocation->get("predicted_tokens_per_second")
          : nullptr;
  return predicted && predicted->isNumber() ? predicted->getNumber() : 0.0;
}

int runInfo(const Options &options) {
  Model model;
  // The package is loaded as for a run, so --info checks all of it; where
  // it cannot run for want of a device (an nvptx package on a machine
  // without a GPU), it is still described, with a note saying so.
  qpalrtStatus opened =
      qpalrtOpenPackage(options.package.c_str(), &model.package);
  if (opened == QPALRT_ERROR_NO_DEVICE) {
    std::fprintf(stderr, "qpal-run: note: %s\n", qpalrtGetLastError());
    opened = qpalrtInspectPackage(options.package.c_str(), &model.package);
  }
  check(opened);
  check(qpalrtGetModelInfo(model.package, &model.info));
  qpalrt::json::Value manifest;
  std::string error;
  if (!qpalrt::json::parse(model.section("manifest"), manifest, error))
    throw Failure{"manifest: " + error};
  const qpalrtModelInfo &info = model.info;
  PlanSummary plan = summarizePlan(manifest);
  const qpalrt::json::Value *weights = manifest.get("weights");
  int64_t weightCount =
      weights ? static_cast<int64_t>(weights->getArray().size()) : 0;
  const qpalrt::json::Value *model_ = manifest.get("model");
  std::string architecture = stringMember(*model_, "architecture");
  std::vector<std::pair<int64_t, std::string>> entries;
  for (const qpalrt::json::Value &entry :
       manifest.get("entry_points")->getArray())
    entries.emplace_back(entry.get("batch")->getInteger(),
                         entry.get("symbol")->getString());
  size_t sectionCount = 0;
  check(qpalrtGetPackageSectionCount(model.package, &sectionCount));
  std::vector<std::pair<std::string, size_t>> sections;
  for (size_t i = 0; i < sectionCount; ++i) {
    const char *name;
    const void *data;
    size_t bytes;
    check(qpalrtGetPackageSectionAt(model.package, i, &name, &data, &bytes));
    sections.emplace_back(name, bytes);
  }

  if (options.json) {
    ObjectWriter modelJson(2), kvJson(2), planJson(2), quantizers(4);
    modelJson.string("name", info.name)
        .string("architecture", architecture)
        .integer("vocab_size", info.vocabSize)
        .integer("hidden_size", info.hiddenSize)
        .integer("layers", info.layers)
        .integer("heads", info.heads)
        .integer("kv_heads", info.kvHeads)
        .integer("head_dim", info.headDim)
        .integer("context_length", info.contextLength);
    kvJson.integer("planes", 2 * info.layers)
        .integer("width", info.kvHeads * info.headDim);
    for (const auto &[name, count] : byUse(plan.quantizers))
      quantizers.integer(name, count);
    planJson.integer("layers", plan.layers)
        .integer("groups", int64_t(plan.groups.size()))
        .raw("quantizers", quantizers.str());
    std::string entryJson = "[", sectionJson = "[";
    for (size_t i = 0; i < entries.size(); ++i)
      entryJson += std::string(i ? ", " : "") +
                   "{\"batch\": " + std::to_string(entries[i].first) +
                   ", \"symbol\": " + quote(entries[i].second) + "}";
    for (size_t i = 0; i < sections.size(); ++i)
      sectionJson += std::string(i ? ", " : "") +
                     "{\"name\": " + quote(sections[i].first) +
                     ", \"bytes\": " + std::to_string(sections[i].second) + "}";
    ObjectWriter root;
    root.string("package", options.package)
        .integer("package_bytes", int64_t(info.packageBytes))
        .integer("format_version", manifest.get("format_version")->getInteger())
        .string("qpal_version", stringMember(manifest, "qpal_version"))
        .string("target", info.target)
        .string("chip", stringMember(manifest, "chip"))
        .raw("model", modelJson.str())
        .raw("kv_cache", kvJson.str())
        .raw("entry_points", entryJson + "]")
        .real("bits_per_weight", info.bitsPerWeight)
        .integer("weight_bytes", int64_t(info.weightBytes))
        .integer("weights", weightCount)
        .raw("plan", planJson.str())
        .real("predicted_decode_tokens_per_second",
              predictedTokensPerSecond(manifest))
        .raw("sections", sectionJson + "]");
    std::printf("%s\n", root.str().c_str());
    return 0;
  }

  std::printf("package: %s (%" PRIu64 " bytes, qpal %s)\n",
              options.package.c_str(), info.packageBytes,
              stringMember(manifest, "qpal_version").c_str());
  std::printf("model: %s%s%s%s: vocabulary %" PRId64 ", hidden %" PRId64
              ", %" PRId64 " layers, %" PRId64 " heads, %" PRId64
              " KV heads, head dim %" PRId64 ", context %" PRId64 "\n",
              info.name[0] ? info.name : "(unnamed)",
              architecture.empty() ? "" : " (", architecture.c_str(),
              architecture.empty() ? "" : ")", info.vocabSize, info.hiddenSize,
              info.layers, info.heads, info.kvHeads, info.headDim,
              info.contextLength);
  std::string chip = stringMember(manifest, "chip");
  std::printf("target: %s%s%s%s\n", info.target, chip.empty() ? "" : " (",
              chip.c_str(), chip.empty() ? "" : ")");
  std::printf("entry points:");
  for (size_t i = 0; i < entries.size(); ++i)
    std::printf("%s batch %" PRId64 " (%s)", i ? "," : "", entries[i].first,
                entries[i].second.c_str());
  std::printf("\nweights: %.2f bits per weight, %" PRId64
              " weights in an arena of %" PRIu64 " bytes\n",
              info.bitsPerWeight, weightCount, info.weightBytes);
  std::printf("plan: %" PRId64 " layers in %zu groups", plan.layers,
              plan.groups.size());
  std::vector<std::pair<std::string, int64_t>> used = byUse(plan.quantizers);
  for (size_t i = 0; i < used.size(); ++i)
    std::printf("%s %" PRId64 " x %s", i ? "," : ":", used[i].second,
                used[i].first.c_str());
  if (double predicted = predictedTokensPerSecond(manifest))
    std::printf("\npredicted decode: %.1f tokens/s (qpal compile "
                "--latency-table)",
                predicted);
  std::printf("\nsections:\n");
  for (const auto &[name, bytes] : sections)
    std::printf("  %-12s %12zu bytes\n", name.c_str(), bytes);
  return 0;
}

//===----------------------------------------------------------------------===//
// --prompt
//===----------------------------------------------------------------------===//

int runGenerate(const Options &options) {
  Model model;
  openModel(options, model, /*withTokenizer=*/true);
  const qpaltok::Tokenizer &tokenizer = *model.tokenizer;
  std::string prompt = options.prompt;
  if (options.chat)
    prompt =
        "<|im_start|>user\n" + prompt + "<|im_end|>\n<|im_start|>assistant\n";
  size_t dropped = 0;
  std::vector<int32_t> promptTokens = tokenizer.encode(
      prompt, tokenizer.getAddBos(), /*parseSpecial=*/true, &dropped);
  warnDroppedBytes(dropped, "the prompt");
  if (promptTokens.empty())
    throw Failure{"the prompt is empty"};
  // `qpal generate`'s evaluator holds min(context, 4096) positions.
  int64_t maxContext = options.maxTokens.value_or(
      std::min<int64_t>(model.info.contextLength, 4096));
  if (int64_t(promptTokens.size()) >= maxContext)
    throw Failure{format("the prompt's %zu tokens fill the context of %lld",
                         promptTokens.size(),
                         static_cast<long long>(maxContext))};
  Session session(model, maxContext);
  std::vector<int32_t> stops;
  if (std::optional<int32_t> eos = tokenizer.getEosToken())
    stops.push_back(*eos);

  qpalrun::Sampler sampler(options.temperature, options.topP, options.seed);
  std::vector<float> logits(size_t(model.info.vocabSize));
  std::vector<int32_t> tokens;
  std::string printed;
  auto stream = [&](bool final) {
    if (options.printTokens)
      return;
    std::string text = tokenizer.decode(tokens.data(), tokens.size());
    // Decoding is by concatenation: print what the new tokens added, but
    // not half a UTF-8 character.
    if (text.compare(0, printed.size(), printed) != 0)
      return;
    size_t end = final ? text.size() : qpalrun::completeUtf8Prefix(text);
    if (end <= printed.size())
      return;
    std::fwrite(text.data() + printed.size(), 1, end - printed.size(), stdout);
    std::fflush(stdout);
    printed.assign(text, 0, end);
  };

  Clock::time_point start = Clock::now();
  check(qpalrtSessionRun(session, promptTokens.data(),
                         int64_t(promptTokens.size()), logits.data(), 1));
  Clock::time_point prefilled = Clock::now();
  int64_t position = int64_t(promptTokens.size());
  while (int64_t(tokens.size()) < options.newTokens) {
    int32_t next = sampler.next(logits);
    tokens.push_back(next);
    stream(false);
    if (std::find(stops.begin(), stops.end(), next) != stops.end() ||
        int64_t(tokens.size()) >= options.newTokens || position >= maxContext)
      break;
    check(qpalrtSessionRun(session, &next, 1, logits.data(), 1));
    ++position;
  }
  double prefillSeconds =
      std::chrono::duration<double>(prefilled - start).count();
  double decodeSeconds = secondsSince(prefilled);
  if (options.printTokens) {
    for (size_t i = 0; i < tokens.size(); ++i)
      std::printf("%s%d", i ? " " : "", tokens[i]);
    std::printf("\n");
  } else {
    stream(true);
    std::printf("\n");
  }
  std::fflush(stdout);
  std::fprintf(stderr,
               "[%zu prompt tokens in %.2f s, %zu new tokens in %.2f s; "
               "weights: package, %.2f bits per weight]\n",
               promptTokens.size(), prefillSeconds, tokens.size(),
               decodeSeconds, model.info.bitsPerWeight);
  return 0;
}

//===----------------------------------------------------------------------===//
// --perplexity
//===----------------------------------------------------------------------===//

bool readFile(const std::string &path, std::string &bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return false;
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad())
    return false;
  bytes = contents.str();
  return true;
}

/// Whether `name` is `<year>_<...>.txt` with a year in [first, last].
bool isSpeech(const std::string &name, int first, int last) {
  if (name.size() < 5 || name[4] != '_' ||
      name.compare(name.size() - 4, 4, ".txt") != 0)
    return false;
  // As llvm::StringRef::getAsInteger: an optional '-', then digits only.
  std::string year = name.substr(0, 4);
  size_t digits = year[0] == '-' ? 1 : 0;
  if (digits == year.size() ||
      year.find_first_not_of("0123456789", digits) != std::string::npos)
    return false;
  int value = std::atoi(year.c_str());
  return value >= first && value <= last;
}

/// The protocol's text: the speeches of 2010 to 2021 in file-name order,
/// joined by a blank line (qpal::model::loadProtocolText).
std::string loadProtocolText(std::string &textName) {
  const char *shared = std::getenv("QPAL_SHARED_DIR");
#ifdef QPAL_DEFAULT_SHARED_DIR
  if (!shared)
    shared = QPAL_DEFAULT_SHARED_DIR;
#endif
  if (!shared)
    throw Failure{"no --text given and QPAL_SHARED_DIR is not set"};
  std::string dir = std::string(shared) + "/data/sotu";
  const int firstYear = 2010, lastYear = 2021;
  std::vector<std::string> names;
  DIR *listing = opendir(dir.c_str());
  if (!listing)
    throw Failure{"cannot list '" + dir + "': " + std::strerror(errno)};
  while (const dirent *entry = readdir(listing))
    if (isSpeech(entry->d_name, firstYear, lastYear))
      names.push_back(entry->d_name);
  closedir(listing);
  if (names.empty())
    throw Failure{format("no speeches of %d..%d in '%s'", firstYear, lastYear,
                         dir.c_str())};
  std::sort(names.begin(), names.end());
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string bytes, path = dir + "/" + names[i];
    if (!readFile(path, bytes))
      throw Failure{"cannot read '" + path + "'"};
    if (i > 0)
      text += "\n\n";
    text += bytes;
  }
  textName = format("State of the Union %d-%d", firstYear, lastYear);
  return text;
}

int runPerplexity(const Options &options) {
  int64_t maxTokens = options.maxTokens.value_or(8192);
  if (options.context < 2 || maxTokens < 2)
    throw Failure{format("--ctx and --max-tokens must be at least 2, got "
                         "%lld and %lld",
                         static_cast<long long>(options.context),
                         static_cast<long long>(maxTokens))};
  Model model;
  openModel(options, model, /*withTokenizer=*/true);
  std::string text, textName;
  if (options.textFiles.empty()) {
    text = loadProtocolText(textName);
  } else {
    // As `qpal eval --text`: a blank line between non-empty texts.
    for (const std::string &file : options.textFiles) {
      std::string bytes;
      if (!readFile(file, bytes))
        throw Failure{"cannot read '" + file + "': " + std::strerror(errno)};
      if (!text.empty())
        text += "\n\n";
      text += bytes;
      textName += (textName.empty() ? "" : ", ") + file;
    }
  }
  size_t dropped = 0;
  std::vector<int32_t> tokens =
      model.tokenizer->encode(text, false, /*parseSpecial=*/false, &dropped);
  warnDroppedBytes(dropped, textName);
  if (int64_t(tokens.size()) > maxTokens)
    tokens.resize(size_t(maxTokens));

  Session session(model, options.context);
  Clock::time_point start = Clock::now();
  qpalrun::Perplexity measured = qpalrun::measurePerplexity(
      session, tokens, options.context, model.info.vocabSize);
  double seconds = secondsSince(start);
  int64_t scored = measured.scored, windows = measured.windows;
  double perplexity = measured.perplexity;
  double tokensPerSecond = double(scored) / seconds;
  if (options.json) {
    ObjectWriter root;
    root.string("package", options.package)
        .string("text", textName)
        .real("perplexity", perplexity)
        .integer("tokens_scored", scored)
        .integer("windows", windows)
        .integer("context", options.context)
        .real("seconds", seconds)
        .real("tokens_per_second", tokensPerSecond)
        .real("load_seconds", model.loadSeconds);
    std::printf("%s\n", root.str().c_str());
    return 0;
  }
  std::printf("%s\n  weights: package, %.2f bits per weight (compiled %s "
              "code)\n  text: %s\n  perplexity %.4f over %lld tokens (%lld "
              "windows of %lld) in %.1f s (%.0f tokens/s); loading took "
              "%.1f s\n",
              options.package.c_str(), model.info.bitsPerWeight,
              model.info.target, textName.c_str(), perplexity,
              static_cast<long long>(scored), static_cast<long long>(windows),
              static_cast<long long>(options.context), seconds, tokensPerSecond,
              model.loadSeconds);
  return 0;
}

//===----------------------------------------------------------------------===//
// --bench
//===----------------------------------------------------------------------===//

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string list(const std::vector<double> &values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + number(values[i]);
  return text + "]";
}

int runBench(const Options &options) {
  Model model;
  openModel(options, model, /*withTokenizer=*/false);
  const int64_t vocab = model.info.vocabSize;
  const int64_t prompt = options.promptTokens, decode = options.decodeTokens;
  int64_t maxTokens = options.maxTokens.value_or(prompt + decode);
  if (prompt + decode > maxTokens)
    throw Failure{format("%lld prompt and %lld decode tokens do not fit in "
                         "--max-tokens %lld",
                         static_cast<long long>(prompt),
                         static_cast<long long>(decode),
                         static_cast<long long>(maxTokens))};
  Session session(model, maxTokens);
  // Any ids do: the time does not depend on them.
  std::vector<int32_t> tokens(static_cast<size_t>(prompt));
  for (int64_t i = 0; i < prompt; ++i)
    tokens[size_t(i)] = int32_t((1 + 31 * i) % vocab);
  std::vector<float> logits(static_cast<size_t>(vocab));
  std::vector<double> prefillSeconds, decodeSeconds;
  for (int64_t repeat = 0; repeat <= options.repeats; ++repeat) {
    check(qpalrtSessionReset(session));
    Clock::time_point start = Clock::now();
    check(qpalrtSessionRun(session, tokens.data(), prompt, logits.data(), 1));
    Clock::time_point prefilled = Clock::now();
    for (int64_t i = 0; i < decode; ++i) {
      int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) -
                             logits.begin());
      check(qpalrtSessionRun(session, &next, 1, logits.data(), 1));
    }
    if (repeat == 0)
      continue; // the warm-up
    prefillSeconds.push_back(
        std::chrono::duration<double>(prefilled - start).count());
    decodeSeconds.push_back(secondsSince(prefilled));
  }
  double prefill = median(prefillSeconds), decoded = median(decodeSeconds);
  double prefillRate = double(prompt) / prefill;
  double decodeRate = double(decode) / decoded;
  qpalrt::json::Value manifest;
  std::string error;
  if (!qpalrt::json::parse(model.section("manifest"), manifest, error))
    throw Failure{"manifest: " + error};
  double predicted = predictedTokensPerSecond(manifest);
  if (options.json) {
    ObjectWriter root;
    root.string("package", options.package)
        .integer("prompt_tokens", prompt)
        .integer("decode_tokens", decode)
        .integer("repeats", options.repeats)
        .integer("threads", options.threads)
        .real("prefill_tokens_per_second", prefillRate)
        .real("decode_tokens_per_second", decodeRate)
        .real("predicted_decode_tokens_per_second", predicted)
        .real("prefill_seconds_median", prefill)
        .real("decode_seconds_median", decoded)
        .raw("prefill_seconds", list(prefillSeconds))
        .raw("decode_seconds", list(decodeSeconds));
    std::printf("%s\n", root.str().c_str());
    return 0;
  }
  std::printf("%s (median of %lld after a warm-up)\n  prefill: %lld tokens "
              "in %.2f ms, %.1f tokens/s\n  decode:  %lld tokens in %.2f ms, "
              "%.1f tokens/s (%.3f ms/token)\n",
              options.package.c_str(), static_cast<long long>(options.repeats),
              static_cast<long long>(prompt), prefill * 1e3, prefillRate,
              static_cast<long long>(decode), decoded * 1e3, decodeRate,
              decoded * 1e3 / double(decode));
  if (predicted > 0)
    std::printf("  predicted decode (qpal compile --latency-table): %.1f "
                "tokens/s, measured/predicted %.3f\n",
                predicted, decodeRate / predicted);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  try {
    options = parseOptions(argc, argv);
  } catch (const UsageError &error) {
    std::fprintf(stderr, "qpal-run: error: %s\n%s\n", error.message.c_str(),
                 kUsage);
    return 2;
  }
  try {
    switch (options.mode) {
    case Mode::Info:
      return runInfo(options);
    case Mode::Generate:
      return runGenerate(options);
    case Mode::Perplexity:
      return runPerplexity(options);
    case Mode::Bench:
      return runBench(options);
    case Mode::None:
      break;
    }
  } catch (const Failure &failure) {
    std::fflush(stdout);
    std::fprintf(stderr, "qpal-run: error: %s\n", failure.message.c_str());
    return 1;
  } catch (const qpalrun::Error &error) {
    std::fflush(stdout);
    std::fprintf(stderr, "qpal-run: error: %s\n", error.what());
    return 1;
  } catch (const std::bad_alloc &) {
    std::fflush(stdout);
    std::fprintf(stderr, "qpal-run: error: out of memory\n");
    return 1;
  }
  return 1;
}
