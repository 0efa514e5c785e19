//===- QuantizerFamily.h - One descriptor per quantizer family --*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A `QuantizerFamilyInfo` is everything lib/Quant knows about one family, in
// the family's own file (lib/Quant/Families/<Name>Family.cpp): its name
// grammar, parameter ranges, rates and bytes, layout geometry, expected
// distortion, codebook and codec, and the members tests and tools
// enumerate. `QuantizerSpec`'s methods dispatch to it, so no code outside
// a family's file switches over families. The registry holds qpal's own
// families (Families.def) and those a plug-in registers at load time
// (`registerQuantizerFamily`; docs/NewQuantizer.md, "Out of tree").
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_QUANTIZERFAMILY_H
#define QPAL_QUANT_QUANTIZERFAMILY_H

#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Support/Limits.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qpal {

class TcqStateTable;

/// How a family's codes are produced and read back; the generic codec
/// (`QuantizerFamilyInfo::encode`/`decode`) and LDLQ (Ldlq.h) dispatch on
/// it.
enum class CodecKind {
  /// fp16 values, not quantized.
  Dense,
  /// Nearest codeword of a `codebook()` of dimension `vectorDim()`, packed
  /// with `indexBits` bits per code (LutQuantizers.h), in the tensor-core
  /// or the SIMT layout.
  Lut,
  /// Tail-biting Viterbi over a `trellisTable()` (Trellis.h), `kv1` bits
  /// per step, and `kv2` for the second half of the columns when
  /// `numColumnParts() == 2` (TcqSplit.h).
  Trellis,
};

/// A quantizer name split for parsing: `full` is what the user wrote,
/// `fields` its `_`-separated fields before the `:` suffix. A kernel suffix
/// (`:simt`, `:tc`) sets `kernel`; any other suffix is the `variant` a
/// family may read (the trellis codes `:1mad`, `:3inst`); one no family
/// consumes is an error.
struct QuantizerName {
  llvm::StringRef full;
  llvm::SmallVector<llvm::StringRef> fields;
  KernelKind kernel = KernelKind::TensorCore;
  llvm::StringRef variant;

  llvm::StringRef prefix() const { return fields.front(); }
  /// An error "quantizer '<full>': <message>".
  llvm::Error error(const llvm::Twine &message) const;
  /// Fails unless there are `count` fields, quoting `pattern`.
  llvm::Error expectFields(size_t count, llvm::StringRef pattern) const;
  /// Parses field `index` as an unsigned integer named `what`.
  llvm::Expected<unsigned> unsignedField(size_t index,
                                         llvm::StringRef what) const;
  /// Parses field `index` as the positive, finite input scale.
  llvm::Expected<double> scaleField(size_t index) const;
  /// Parses field `index` as the rounding field: `none` (false) or `hess`.
  llvm::Expected<bool> hessField(size_t index) const;
};

/// The reference's own measurement of the quantizer named `referenceName`
/// (data/quantizer_distortion.json: one 4096 x 4096 N(0, 1) matrix), if it
/// measured that quantizer.
std::optional<double> referenceDistortion(llvm::StringRef referenceName);

/// `none` or `hess`, the rounding field of a reference name.
inline const char *roundingField(const QuantizerSpec &spec) {
  return spec.hessian ? "hess" : "none";
}

/// One quantizer family. Methods that take a spec are only called with a
/// spec of this family.
class QuantizerFamilyInfo {
public:
  /// One of qpal's own families (Families.def), named by its mnemonic
  /// there.
  explicit QuantizerFamilyInfo(QuantizerFamily family)
      : family_(family), mnemonic_(stringifyQuantizerFamily(family)) {}
  /// A plug-in family: a value from `kFirstPluginFamily` on, and a
  /// mnemonic of its own (its attribute's, and the JSON name).
  QuantizerFamilyInfo(QuantizerFamily family, llvm::StringRef mnemonic)
      : family_(family), mnemonic_(mnemonic) {}
  virtual ~QuantizerFamilyInfo();

  QuantizerFamily family() const { return family_; }
  /// The attribute mnemonic and JSON name (`"tcq"`, `"sq"`).
  llvm::StringRef mnemonic() const { return mnemonic_; }

  virtual CodecKind codecKind() const = 0;

  //===--------------------------------------------------------------------===//
  // Names
  //===--------------------------------------------------------------------===//

  /// The first field of this family's names (`"tcq"`, `"ldlq"`), listed in
  /// the error for an unknown name.
  virtual llvm::StringRef namePrefix() const = 0;
  /// Parses `name` if it is this family's: std::nullopt when it belongs to
  /// another family, an error naming the offending field when it is this
  /// family's but malformed. Ranges are checked afterwards by `verify`.
  virtual std::optional<llvm::Expected<QuantizerSpec>>
  parse(const QuantizerName &name) const = 0;
  /// The reference name; `parse` reads it back to the same spec.
  virtual std::string referenceName(const QuantizerSpec &spec) const = 0;
  /// Reports a parameter outside its range (`checkBounds`,
  /// qpal/Support/Limits.h; the scale and the kernel kind are checked by
  /// `QuantizerSpec::verify`).
  virtual llvm::Error verify(const QuantizerSpec &spec) const = 0;

  //===--------------------------------------------------------------------===//
  // Rates and bytes
  //===--------------------------------------------------------------------===//

  /// Code bits per weight as an exact fraction {numerator, denominator};
  /// `codeBytes` rounds weights * numerator / denominator bits up to bytes.
  virtual std::pair<uint64_t, uint64_t>
  bitsPerWeightFraction(const QuantizerSpec &spec) const = 0;
  /// Weights per code word.
  virtual unsigned vectorDim(const QuantizerSpec &spec) const = 0;
  /// Bytes of the fp16 codebook the kernels read.
  virtual uint64_t codebookBytes(const QuantizerSpec &spec) const = 0;
  /// Bytes of per-row fp16 scales: 2 per row.
  virtual uint64_t scaleBytes(const QuantizerSpec &spec, int64_t rows) const {
    return static_cast<uint64_t>(rows) * 2;
  }
  /// The kernel family that runs the dequant-matmul.
  virtual KernelFamily kernelFamily(const QuantizerSpec &spec) const = 0;
  /// Whether the family also has a CUDA-core (SIMT) layout
  /// (`KernelKind::Simt`); false by default.
  virtual bool hasSimtLayout() const { return false; }

  //===--------------------------------------------------------------------===//
  // Layout geometry
  //===--------------------------------------------------------------------===//

  virtual unsigned requiredRowMultiple(const QuantizerSpec &spec) const;
  virtual unsigned requiredColMultiple(const QuantizerSpec &spec) const {
    return 32;
  }
  virtual unsigned numColumnParts(const QuantizerSpec &spec) const { return 1; }
  /// By default a lane's segment holds 32 weights at the family's rate in
  /// the tensor-core layout, and there is none in the SIMT layout.
  virtual unsigned laneSegmentBytes(const QuantizerSpec &spec,
                                    unsigned part) const;
  virtual uint64_t partByteOffset(const QuantizerSpec &spec, int64_t rows,
                                  int64_t cols, unsigned part) const {
    return 0;
  }
  /// Entries of the kernels' packed pair table; 0 (none) by default.
  virtual unsigned packedPairEntries(const QuantizerSpec &spec) const {
    return 0;
  }

  //===--------------------------------------------------------------------===//
  // Distortion and codec
  //===--------------------------------------------------------------------===//

  /// The normalized MSE on an i.i.d. Gaussian source (QuantizerSpec.h).
  virtual double expectedDistortion(const QuantizerSpec &spec) const = 0;
  /// The codebook of a `CodecKind::Lut` family (or the tlut of a trellis
  /// one); an error by default.
  virtual llvm::Expected<const Codebook *>
  codebook(const QuantizerSpec &spec) const;
  /// The state table of a `CodecKind::Trellis` family; an error by
  /// default.
  virtual llvm::Expected<const TcqStateTable *>
  trellisTable(const QuantizerSpec &spec) const;
  /// Encodes a normalized rows x cols weight into the packed layout; the
  /// default is the codec of `codecKind()`. Shapes and values are checked
  /// before the call.
  virtual llvm::Expected<std::vector<uint8_t>>
  encode(const QuantizerSpec &spec, const float *weights, int64_t rows,
         int64_t cols, const EncodeOptions &options) const;
  /// The reference decode of `encode`'s layout, in float32 (fp16 codebook
  /// values, or their exact widening when `precision` says so).
  virtual llvm::Expected<std::vector<float>>
  decode(const QuantizerSpec &spec, llvm::ArrayRef<uint8_t> codes, int64_t rows,
         int64_t cols, CodebookPrecision precision) const;

  //===--------------------------------------------------------------------===//
  // Members
  //===--------------------------------------------------------------------===//

  /// Every quantizer of the family that tests and tools enumerate: each
  /// rate at its default parameters, in each kernel layout.
  virtual std::vector<QuantizerSpec> members() const = 0;

private:
  QuantizerFamily family_;
  llvm::StringRef mnemonic_;
};

/// The first `QuantizerFamily` value a plug-in family may take; the values
/// below belong to qpal's own families (Families.def). Values are stored in
/// plans and packages: a plug-in keeps its value for good.
inline constexpr unsigned kFirstPluginFamily = 128;

/// Adds a plug-in family to the registry, for `QuantizerSpec::parse`,
/// `getQuantizerFamilyInfo` and `quantizerFamilies()`. `info` must outlive
/// every use (a plug-in's static object). Fails, naming the clash, when its
/// value is below `kFirstPluginFamily` or its value or mnemonic is another
/// family's; registering the same descriptor again does nothing. Register
/// at load time, before any thread reads the registry: lookups take no
/// lock. A family with an attribute registers through the dialect
/// (`registerPluginQuantizer`, QPalDialect.h), which calls this.
llvm::Error registerQuantizerFamily(const QuantizerFamilyInfo &info);

/// The descriptor of `family`, one of Families.def or a registered
/// plug-in's (anything else is a fatal error: a spec only holds a family
/// that parsed).
const QuantizerFamilyInfo &getQuantizerFamilyInfo(QuantizerFamily family);

/// Every family's descriptor: Families.def's in order, then the plug-ins'
/// in the order they registered.
llvm::ArrayRef<const QuantizerFamilyInfo *> quantizerFamilies();

/// Every member of every family that stores codes (not f16), family by
/// family: what layout, codec and kernel tests sweep.
std::vector<QuantizerSpec> allCodedQuantizers();

namespace detail {
#define QPAL_FAMILY(Name, Value, Mnemonic)                                     \
  const QuantizerFamilyInfo &get##Name##FamilyInfo();
#include "qpal/Quant/Families.def"
} // namespace detail

} // namespace qpal

#endif // QPAL_QUANT_QUANTIZERFAMILY_H
