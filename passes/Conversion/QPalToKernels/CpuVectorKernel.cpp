//===- CpuVectorKernel.cpp - Host kernels that decode a warp at a time ----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The vector CPU kernels decode the 32 lanes of a supertile at once: every
// value of the quantizer's `emitLaneDecode` becomes a `vector<32x...>` whose
// element w is lane w's, the same decode the GPU runs one lane per thread.
//
//  - Codes: the 32 lane segments of a supertile are contiguous, so one wide
//    `vector.load` reads the supertile and static shuffles deal word k of
//    every lane into one vector. A TCQ lane's neighbours (w + 1, w + 2,
//    mod 32) are the same words dealt from rotated lanes: no extra loads.
//  - Lookups: codebook entries are `vector.gather`s; where the quantizer has
//    a packed pair table (two fp16 values per entry, exact: the codebooks
//    are fp16) the kernel builds it on its stack at entry, and one gather
//    yields both values of 32 pairs. With AVX-512 or AVX2 a small codebook
//    is held in registers instead and looked up with permutes
//    (RegisterCodebook), through the decode's `codebookLookup`.
//  - Products: pair (q, j) of lane w multiplies columns 16*j1 + 8*(j/2) +
//    2*(w%4) + {0, 1}, a 4-periodic pattern over lanes, so x is read as 8
//    floats per column group and shuffled; the sums of row 8*slot + w/4 are
//    32-lane vectors reduced over lane quads once per supertile row.
//
// The SIMT layouts interleave the lanes' words, so word omega of a full row
// chunk's 32 lanes is one load; x is dealt to the lanes from 256-column
// blocks (lane w's codes of a group cover 8 consecutive columns).
//
// The vectors are wider than the host's registers (32 x f32 is two AVX-512
// or four AVX2 registers); LLVM's x86 backend splits them for the features
// of the host it compiles for.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/DenseMap.h"

#include <map>

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

namespace {

/// Activation rows whose sums stay in registers across a supertile row;
/// above, they live in a stack buffer and the batch is a loop.
constexpr int64_t kCarriedBatch = 2;

/// The largest packed pair table built on the stack (16 KiB).
constexpr unsigned kMaxStackPairEntries = 4096;

VectorType laneVector(Type element) {
  return VectorType::get({kWarpLanes}, element);
}

/// An index vector constant with element w = f(w).
Value laneConstant(OpBuilder &builder, Location loc, Type element,
                   function_ref<int64_t(unsigned)> value) {
  auto type = laneVector(element);
  SmallVector<Attribute> values;
  for (unsigned w = 0; w < kWarpLanes; ++w)
    values.push_back(element.isIndex()
                         ? builder.getIndexAttr(value(w))
                         : builder.getIntegerAttr(element, value(w)));
  return arith::ConstantOp::create(builder, loc,
                                   DenseElementsAttr::get(type, values));
}

/// Deals element (w + delta) mod 32 * stride + k of `block` to lane w.
Value dealLanes(OpBuilder &builder, Location loc, Value block, unsigned stride,
                unsigned k, unsigned delta) {
  SmallVector<int64_t> mask;
  for (unsigned w = 0; w < kWarpLanes; ++w)
    mask.push_back(((w + delta) % kWarpLanes) * stride + k);
  return vector::ShuffleOp::create(builder, loc, block, block, mask);
}

/// A small codebook held in vector registers, `width` values of one
/// component per register (16 with AVX-512, 8 with AVX2): a permute
/// (`vpermps`, or `vpermi2ps` for 32 entries with AVX-512) per `width` lanes
/// replaces a gather (a gather of 16 values takes ~14 cycles on Zen 4, a
/// permute one); larger codebooks select between permutes on the higher
/// index bits.
class RegisterCodebook {
public:
  /// The largest codebooks (values over all components) kept in registers,
  /// 16 registers with AVX-512: SQ up to 8 bits, VQ up to 7. On a Zen 4
  /// core, VQ at 8 bits (512 values) ran at 3.6 GB/s this way and 4.9 GB/s
  /// with the pair table's gathers; VQ 7 at 4.3 against 3.3, SQ 8 at 4.6
  /// against 3.8. AVX2 at most 16 entries per component (two registers):
  /// SQ 4 ran at 8.6 GB/s against 4.9 with gathers, VQ 4 at 5.5 against 2.5,
  /// but SQ 5 (32 entries) at 5.1 against 5.9.
  static constexpr unsigned kMaxValuesAvx512 = 256;
  /// The SIMT kernels also deal x to the lanes, and keep fewer registers for
  /// the codebook: SQ 6 (64 entries) ran at 6.8 GB/s against 3.6 with
  /// gathers, SQ 7 (128) at 3.5 against 4.2.
  static constexpr unsigned kMaxEntriesSimtAvx512 = 64;
  static constexpr unsigned kMaxEntriesAvx2 = 16;

  /// Whether `shape`'s codebook goes into registers under `options`.
  static bool fits(const KernelShape &shape, const CpuKernelOptions &options);

  /// Loads `shape`'s codebook into registers when it fits; else returns an
  /// empty one.
  static RegisterCodebook load(OpBuilder &builder, Location loc,
                               const KernelShape &shape,
                               const CpuKernelOptions &options, Value codebook);

  explicit operator bool() const { return stride != 0; }

  /// Returns value index * stride + component for 32 lanes, or null for
  /// another codebook layout.
  Value lookup(OpBuilder &builder, Location loc, Value index,
               unsigned indexStride, unsigned component) const;

private:
  /// The lookup of `width` lanes' 32-bit indices.
  Value lookupPart(OpBuilder &builder, Location loc, ArrayRef<Value> table,
                   Value index) const;

  CpuIsa isa = CpuIsa::Generic;
  unsigned width = 0;
  unsigned stride = 0;
  unsigned entries = 0;
  // registers[c][r]: value c of entries width*r .. width*(r + 1) - 1.
  SmallVector<SmallVector<Value, 8>> registers;
};

bool RegisterCodebook::fits(const KernelShape &shape,
                            const CpuKernelOptions &options) {
  QuantizerSpec spec = shape.quantizer.getSpec();
  uint64_t values = spec.codebookBytes() / 2;
  if (spec.vectorDim() == 0 || values == 0)
    return false;
  if (options.isa == CpuIsa::Avx512)
    return isSimtKernel(shape)
               ? values / spec.vectorDim() <= kMaxEntriesSimtAvx512
               : values <= kMaxValuesAvx512;
  if (options.isa == CpuIsa::Avx2)
    return values / spec.vectorDim() <= kMaxEntriesAvx2;
  return false;
}

RegisterCodebook RegisterCodebook::load(OpBuilder &builder, Location loc,
                                        const KernelShape &shape,
                                        const CpuKernelOptions &options,
                                        Value codebook) {
  RegisterCodebook result;
  if (!fits(shape, options))
    return result;
  QuantizerSpec spec = shape.quantizer.getSpec();
  unsigned stride = spec.vectorDim();
  unsigned entries = static_cast<unsigned>(spec.codebookBytes() / 2) / stride;
  unsigned width = options.isa == CpuIsa::Avx512 ? 16 : 8;
  result.isa = options.isa;
  result.width = width;
  result.stride = stride;
  result.entries = entries;
  auto valueType = VectorType::get({width}, builder.getF32Type());
  auto indexType = VectorType::get({width}, builder.getI32Type());
  auto maskType = VectorType::get({width}, builder.getI1Type());
  Value mask = vector::ConstantMaskOp::create(
      builder, loc, maskType, ArrayRef<int64_t>{int64_t(width)});
  Value zeros = arith::ConstantOp::create(builder, loc, valueType,
                                          builder.getZeroAttr(valueType));
  for (unsigned component = 0; component < stride; ++component) {
    SmallVector<Value, 8> &table = result.registers.emplace_back();
    for (unsigned first = 0; first < entries; first += width) {
      // Entries past the codebook repeat entry 0; codes never name them.
      SmallVector<int32_t> positions;
      for (unsigned entry = first; entry < first + width; ++entry)
        positions.push_back(static_cast<int32_t>(
            (entry < entries ? entry : 0) * stride + component));
      Value indices = arith::ConstantOp::create(
          builder, loc, DenseElementsAttr::get(indexType, ArrayRef(positions)));
      table.push_back(vector::GatherOp::create(
          builder, loc, valueType, codebook,
          ValueRange{constIndex(builder, loc, 0)}, indices, mask, zeros));
    }
  }
  return result;
}

Value RegisterCodebook::lookupPart(OpBuilder &builder, Location loc,
                                   ArrayRef<Value> table, Value index) const {
  auto valueType = VectorType::get({width}, builder.getF32Type());
  auto permute = [&](StringRef intrinsic, ValueRange operands) -> Value {
    return LLVM::CallIntrinsicOp::create(builder, loc, valueType,
                                         builder.getStringAttr(intrinsic),
                                         operands)
        .getResult(0);
  };
  // The first level reads the low index bits: vpermps 3 (AVX2) or 4
  // (AVX-512) of them, vpermi2ps 5 (two AVX-512 registers).
  SmallVector<Value> level;
  unsigned bit;
  if (isa == CpuIsa::Avx2) {
    for (Value registerValues : table)
      level.push_back(permute("llvm.x86.avx2.permps", {registerValues, index}));
    bit = 3;
  } else if (table.size() == 1) {
    level.push_back(
        permute("llvm.x86.avx512.permvar.sf.512", {table[0], index}));
    bit = 4;
  } else {
    for (unsigned r = 0; r < table.size(); r += 2)
      level.push_back(permute(
          "llvm.x86.avx512.vpermi2var.ps.512",
          {table[r], index, r + 1 < table.size() ? table[r + 1] : table[r]}));
    bit = 5;
  }
  // Then a select per higher bit.
  auto indexType = cast<VectorType>(index.getType());
  Value zero = arith::ConstantOp::create(builder, loc, indexType,
                                         builder.getZeroAttr(indexType));
  for (; level.size() > 1; ++bit) {
    Value bitMask = arith::ConstantOp::create(
        builder, loc,
        DenseElementsAttr::get(indexType, builder.getI32IntegerAttr(1 << bit)));
    Value high = arith::CmpIOp::create(
        builder, loc, arith::CmpIPredicate::ne,
        arith::AndIOp::create(builder, loc, index, bitMask), zero);
    SmallVector<Value> next;
    for (unsigned i = 0; i < level.size(); i += 2)
      next.push_back(i + 1 < level.size()
                         ? arith::SelectOp::create(builder, loc, high,
                                                   level[i + 1], level[i])
                               .getResult()
                         : level[i]);
    level = std::move(next);
  }
  return level.front();
}

/// `index` without a mask that keeps every bit a lookup reads: `x & m`
/// becomes `x` when m's low `bitsRead` bits are all ones. The permutes read
/// only the low bits of each lane (vpermps 3 or 4, vpermi2ps 5) and the
/// selects the next ones, up to the register table's size, so such a mask
/// (a decode's `(codes >> shift) & (entries - 1)`) changes nothing; LLVM
/// does not model the permutes' index bits and keeps it, one `vpandd` per
/// 16 weights: 56 of the 330 vector instructions of 4-bit SQ's inner loop.
static Value stripRedundantMask(Value index, unsigned bitsRead) {
  auto mask = index.getDefiningOp<arith::AndIOp>();
  if (!mask)
    return index;
  for (auto [constant, other] : {std::pair(mask.getRhs(), mask.getLhs()),
                                 std::pair(mask.getLhs(), mask.getRhs())}) {
    DenseIntElementsAttr bits;
    if (matchPattern(constant, m_Constant(&bits)) && bits.isSplat() &&
        bits.getSplatValue<APInt>().countr_one() >= bitsRead)
      return other;
  }
  return index;
}

Value RegisterCodebook::lookup(OpBuilder &builder, Location loc, Value index,
                               unsigned indexStride, unsigned component) const {
  auto indexType = dyn_cast<VectorType>(index.getType());
  if (!indexType || indexType.getNumElements() != kWarpLanes ||
      indexStride != stride || component >= registers.size())
    return Value();
  index = stripRedundantMask(
      index, llvm::Log2_32_Ceil(registers[component].size() * width));
  auto lanes32 = laneVector(builder.getI32Type());
  Value lanes = index;
  unsigned bits = indexType.getElementType().getIntOrFloatBitWidth();
  if (bits > 32)
    lanes = arith::TruncIOp::create(builder, loc, lanes32, index);
  else if (bits < 32)
    lanes = arith::ExtUIOp::create(builder, loc, lanes32, index);
  SmallVector<Value> parts;
  for (unsigned first = 0; first < kWarpLanes; first += width) {
    Value part = vector::ExtractStridedSliceOp::create(
        builder, loc, lanes, ArrayRef<int64_t>{first}, ArrayRef<int64_t>{width},
        ArrayRef<int64_t>{1});
    parts.push_back(lookupPart(builder, loc, registers[component], part));
  }
  // Concatenate the parts pairwise back to 32 lanes.
  while (parts.size() > 1) {
    SmallVector<Value> joined;
    for (unsigned i = 0; i < parts.size(); i += 2) {
      int64_t size = cast<VectorType>(parts[i].getType()).getNumElements();
      SmallVector<int64_t> mask;
      for (int64_t w = 0; w < 2 * size; ++w)
        mask.push_back(w);
      joined.push_back(vector::ShuffleOp::create(builder, loc, parts[i],
                                                 parts[i + 1], mask));
    }
    parts = std::move(joined);
  }
  return parts.front();
}

/// The lane-vector decode of one part of a weight.
class LaneVectorDecoder {
public:
  LaneVectorDecoder(const KernelShape &shape, const KernelArgs &args,
                    unsigned part, Value packedTable,
                    const RegisterCodebook *registers, unsigned dealtSegments)
      : shape(shape), args(args), geometry(shape, part),
        packedTable(packedTable), registers(registers),
        dealtSegments(dealtSegments) {
    // Segments are 2*b (VQ), 4*b (SQ) or 2*KV (TCQ) bytes: always a whole
    // number of 16-bit words, of 32-bit ones when the size allows.
    if (geometry.segmentBytes % 4 == 0 && geometry.byteOffset % 4 == 0 &&
        args.codeWords) {
      wordBytes = 4;
      words = args.codeWords;
    } else if (geometry.segmentBytes % 2 == 0 && geometry.byteOffset % 2 == 0 &&
               args.codeHalves) {
      wordBytes = 2;
      words = args.codeHalves;
    }
  }

  /// Whether the part's segments can be read as words (else the caller
  /// uses the scalar kernel).
  bool canDecode() const { return wordBytes != 0; }

  const PartGeometry &getGeometry() const { return geometry; }

  /// Decodes the 16 pairs of every lane of supertile (row, col) into
  /// `pairs` (`first` and `second` are `vector<32xf32>`).
  LogicalResult decode(OpBuilder &builder, Location loc, Value supertileRow,
                       Value supertileCol,
                       SmallVectorImpl<DecodedPair> &pairs) const;

private:
  const KernelShape &shape;
  const KernelArgs &args;
  PartGeometry geometry;
  Value packedTable;
  const RegisterCodebook *registers;
  unsigned dealtSegments;
  unsigned wordBytes = 0;
  Value words;
};

LogicalResult
LaneVectorDecoder::decode(OpBuilder &builder, Location loc, Value supertileRow,
                          Value supertileCol,
                          SmallVectorImpl<DecodedPair> &pairs) const {
  int64_t segmentBytes = geometry.segmentBytes;
  unsigned perSegment = segmentBytes / wordBytes;
  // The supertile's first byte and its 32 segments as one vector of words.
  Value supertile = arith::AddIOp::create(
      builder, loc,
      arith::MulIOp::create(builder, loc, supertileRow,
                            constIndex(builder, loc, geometry.supertileCols)),
      supertileCol);
  Value firstByte = arith::MulIOp::create(
      builder, loc, supertile,
      constIndex(builder, loc, kWarpLanes * segmentBytes));
  if (geometry.byteOffset != 0)
    firstByte = arith::AddIOp::create(
        builder, loc, firstByte,
        constIndex(builder, loc, static_cast<int64_t>(geometry.byteOffset)));
  Value firstWord = arith::DivUIOp::create(builder, loc, firstByte,
                                           constIndex(builder, loc, wordBytes));
  Type wordType = builder.getIntegerType(8 * wordBytes);
  Value block = vector::LoadOp::create(
      builder, loc, VectorType::get({kWarpLanes * perSegment}, wordType), words,
      ValueRange{firstWord});

  // Segment offsets of lanes w + delta (memoized: the decode matches its
  // reads to dealt words by these values) and the dealt words.
  Value firstBytes = vector::BroadcastOp::create(
      builder, loc, laneVector(builder.getIndexType()), firstByte);
  SmallVector<Value> offsets;
  auto segmentOffset = [&](OpBuilder &b, Location l, unsigned delta) -> Value {
    while (offsets.size() <= delta) {
      unsigned d = offsets.size();
      offsets.push_back(arith::AddIOp::create(
          b, l, firstBytes,
          laneConstant(b, l, b.getIndexType(), [&](unsigned w) {
            return ((w + d) % kWarpLanes) * segmentBytes;
          })));
    }
    return offsets[delta];
  };
  LaneDecodeArgs decodeArgs;
  decodeArgs.codes = args.codes;
  decodeArgs.codebook = args.codebook;
  decodeArgs.columnPart = geometry.part;
  decodeArgs.segmentOffset = segmentOffset;
  decodeArgs.codeWords.words = words;
  decodeArgs.codeWords.bytes = wordBytes;
  decodeArgs.packedPairs.table = packedTable;
  auto lookup = [&](OpBuilder &b, Location l, Value index, unsigned stride,
                    unsigned component) -> Value {
    return registers->lookup(b, l, index, stride, component);
  };
  if (registers && *registers)
    decodeArgs.codebookLookup = lookup;
  for (unsigned delta = 0; delta < dealtSegments; ++delta) {
    CachedSegment &cached = decodeArgs.codeWords.cached.emplace_back();
    cached.offset = segmentOffset(builder, loc, delta);
    for (unsigned k = 0; k < perSegment; ++k) {
      // A neighbour's word is the lane's own, rotated: a shuffle of two
      // registers rather than a deal from the whole supertile (tcq_8 gained
      // about 10% in interleaved runs).
      if (delta == 0) {
        cached.words.push_back(
            dealLanes(builder, loc, block, perSegment, k, 0));
        continue;
      }
      Value own = decodeArgs.codeWords.cached.front().words[k];
      cached.words.push_back(dealLanes(builder, loc, own, 1, 0, delta));
    }
  }
  if (failed(emitLaneDecodeChecked(builder, loc, shape, decodeArgs, pairs)))
    return failure();
  // Deal each word just before its first use: the decode reads them tile
  // by tile, and 32-lane words dealt up front would all be live at once.
  for (const CachedSegment &cached : decodeArgs.codeWords.cached)
    for (Value word : cached.words) {
      Operation *deal = word.getDefiningOp();
      Operation *firstUse = nullptr;
      for (Operation *user : word.getUsers())
        if (!firstUse || user->isBeforeInBlock(firstUse))
          firstUse = user;
      if (firstUse)
        deal->moveBefore(firstUse);
      else
        deal->erase();
    }
  return success();
}

/// The operation after which both values of `pair` are defined.
Operation *getPairDefinition(const DecodedPair &pair) {
  if (pair.packed)
    return pair.packed.getDefiningOp();
  Operation *first = pair.first.getDefiningOp();
  Operation *second = pair.second.getDefiningOp();
  return first->isBeforeInBlock(second) ? second : first;
}

/// Returns the f32 vectors of `pair`: packed pairs hold two fp16 values per
/// i32, the first in the low half.
std::pair<Value, Value> unpackPair(OpBuilder &builder, Location loc,
                                   const DecodedPair &pair) {
  if (!pair.packed)
    return {pair.first, pair.second};
  auto half = [&](unsigned shift) -> Value {
    Value packed = pair.packed;
    if (shift)
      packed = arith::ShRUIOp::create(
          builder, loc, packed,
          laneConstant(builder, loc, builder.getI32Type(),
                       [&](unsigned) { return shift; }));
    Value bits = arith::TruncIOp::create(
        builder, loc, laneVector(builder.getI16Type()), packed);
    Value value = arith::BitcastOp::create(
        builder, loc, laneVector(builder.getF16Type()), bits);
    return arith::ExtFOp::create(builder, loc, laneVector(builder.getF32Type()),
                                 value);
  };
  return {half(0), half(16)};
}

/// Builds the packed pair table of `shape`'s quantizer on the stack, or
/// returns null when it has none or it is too large.
Value emitStackPairTable(OpBuilder &builder, Location loc,
                         const KernelShape &shape, Value codebook) {
  unsigned entries = shape.quantizer.getSpec().packedPairEntries();
  if (entries == 0 || entries > kMaxStackPairEntries)
    return Value();
  Value table = memref::AllocaOp::create(
      builder, loc,
      MemRefType::get({static_cast<int64_t>(entries)}, builder.getI32Type()));
  auto loop = scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                                 constIndex(builder, loc, entries),
                                 constIndex(builder, loc, 1));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(loop.getBody());
  Value entry = loop.getInductionVar();
  memref::StoreOp::create(
      builder, loc,
      cast<PackedPairTableAttrInterface>(shape.quantizer)
          .emitPackedPairEntry(builder, loc, codebook, entry),
      table, entry);
  return table;
}

/// The x operands of one supertile column for activation row `n`: for each
/// column group g = 2*j1 + j/2, the even and odd column of every lane's
/// pair (4-periodic over lanes). Each group is loaded where it is first
/// used, so that the four groups are not all live across the decode.
class LaneActivations {
public:
  LaneActivations(Value x, Value n, Value colBase)
      : x(x), n(n), colBase(colBase) {}

  /// The even and odd operands of `group`.
  std::pair<Value, Value> get(OpBuilder &builder, Location loc,
                              unsigned group) {
    if (!even[group]) {
      auto eight = VectorType::get({8}, builder.getF32Type());
      Value col = arith::AddIOp::create(
          builder, loc, colBase,
          constIndex(builder, loc, 16 * (group >> 1) + 8 * (group & 1)));
      Value loaded =
          vector::LoadOp::create(builder, loc, eight, x, ValueRange{n, col});
      SmallVector<int64_t> evenMask, oddMask;
      for (unsigned w = 0; w < kWarpLanes; ++w) {
        evenMask.push_back(2 * (w % 4));
        oddMask.push_back(2 * (w % 4) + 1);
      }
      even[group] =
          vector::ShuffleOp::create(builder, loc, loaded, loaded, evenMask);
      odd[group] =
          vector::ShuffleOp::create(builder, loc, loaded, loaded, oddMask);
    }
    return {even[group], odd[group]};
  }

private:
  Value x, n, colBase;
  Value even[4], odd[4];
};

/// Adds the products of one pair (`first`, `second`) with the activations
/// into the kRowSlots lane-vector sums of one activation row.
void accumulatePair(OpBuilder &builder, Location loc, const DecodedPair &pair,
                    Value first, Value second, LaneActivations &x,
                    MutableArrayRef<Value> slotSums) {
  auto [even, odd] =
      x.get(builder, loc, 2 * (pair.tile >> 1) + (pair.reg >> 1));
  Value &sum = slotSums[pairRowSlot(pair)];
  sum = vector::FMAOp::create(builder, loc, sum.getType(), second, odd, sum);
  sum = vector::FMAOp::create(builder, loc, sum.getType(), first, even, sum);
}

/// Adds scale * (the sum over each lane quad of `sums`) to y[n][rowBase +
/// 8*slot + w/4].
void emitSlotEpilogue(OpBuilder &builder, Location loc, const KernelArgs &args,
                      Value n, Value rowBase, unsigned slot, Value sums) {
  auto eight = VectorType::get({8}, builder.getF32Type());
  Value total;
  for (unsigned k = 0; k < 4; ++k) {
    SmallVector<int64_t> mask;
    for (unsigned i = 0; i < 8; ++i)
      mask.push_back(4 * i + k);
    Value part = vector::ShuffleOp::create(builder, loc, sums, sums, mask);
    total = total ? arith::AddFOp::create(builder, loc, total, part).getResult()
                  : part;
  }
  Value row = arith::AddIOp::create(builder, loc, rowBase,
                                    constIndex(builder, loc, 8 * slot));
  Value scales =
      vector::LoadOp::create(builder, loc, eight, args.scales, ValueRange{row});
  Value old =
      vector::LoadOp::create(builder, loc, eight, args.y, ValueRange{n, row});
  Value updated =
      vector::FMAOp::create(builder, loc, eight, total, scales, old);
  vector::StoreOp::create(builder, loc, updated, args.y, ValueRange{n, row});
}

} // namespace

bool qpal::usesCpuVectorDecode(const KernelShape &shape,
                               const CpuKernelOptions &options) {
  if (options.decode == CpuDecode::Lanes)
    return false;
  if (options.decode == CpuDecode::Vector)
    return true;
  return shape.quantizer.getSpec().family != QuantizerFamily::Vq ||
         shape.batch > 1 || RegisterCodebook::fits(shape, options);
}

/// Sets up, at the builder's insertion point (a kernel's entry), what the
/// decoders read (the codebook in `registers` or the packed pair table) and
/// the decoders of every column part of `shape`; fails (at `loc`) when a
/// part's segments cannot be read as words.
static LogicalResult
setUpDecoders(OpBuilder &builder, Location loc, const KernelShape &shape,
              const CpuKernelOptions &options, const KernelArgs &args,
              RegisterCodebook &registers,
              SmallVectorImpl<LaneVectorDecoder> &decoders) {
  registers =
      RegisterCodebook::load(builder, loc, shape, options, args.codebook);
  Value packedTable =
      options.packedPairs && !registers
          ? emitStackPairTable(builder, loc, shape, args.codebook)
          : Value();
  for (unsigned part = 0, e = shape.quantizer.getSpec().numColumnParts();
       part < e; ++part) {
    decoders.emplace_back(shape, args, part, packedTable, &registers,
                          std::max(1u, options.dealtSegments));
    if (!decoders.back().canDecode())
      return emitError(loc) << shape.quantizer.getReferenceName()
                            << ": the code segments of part " << part
                            << " are not whole 16-bit words";
  }
  return success();
}

FailureOr<func::FuncOp>
qpal::detail::buildCpuVectorKernel(OpBuilder &builder, Location loc,
                                   const KernelShape &shape,
                                   const CpuKernelOptions &options) {
  Type f32 = builder.getF32Type();
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuKernelFunction(builder, loc, shape, getKernelName(shape, "cpu"));
  KernelArgs &args = kernel.args;
  RegisterCodebook registers;
  SmallVector<LaneVectorDecoder> decoders;
  if (failed(setUpDecoders(builder, loc, shape, options, args, registers,
                           decoders))) {
    kernel.function.erase();
    return failure();
  }

  int64_t batch = shape.batch;
  bool carried = batch <= kCarriedBatch;
  auto sumType = laneVector(f32);
  Value zeros = arith::ConstantOp::create(builder, loc, sumType,
                                          builder.getZeroAttr(sumType));
  // Above kCarriedBatch rows the sums live in acc[n][slot][lane].
  Value acc;
  if (!carried)
    acc = memref::AllocaOp::create(
        builder, loc, MemRefType::get({batch, kRowSlots, kWarpLanes}, f32));
  auto slotIndex = [&](unsigned slot) {
    return constIndex(builder, loc, slot);
  };
  Value zero = constIndex(builder, loc, 0);
  auto forEachRow = [&](function_ref<void(Value)> body) {
    auto loop =
        scf::ForOp::create(builder, loc, zero, constIndex(builder, loc, batch),
                           constIndex(builder, loc, 1));
    OpBuilder::InsertionGuard rowGuard(builder);
    builder.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  };

  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  auto supertileLoop = scf::ForOp::create(builder, loc, first, last,
                                          constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(supertileLoop.getBody());
  Value supertileRow = supertileLoop.getInductionVar();
  SmallVector<Value> sums;
  if (carried)
    sums.assign(kRowSlots * batch, zeros);
  else
    forEachRow([&](Value n) {
      for (unsigned slot = 0; slot < kRowSlots; ++slot)
        vector::StoreOp::create(builder, loc, zeros, acc,
                                ValueRange{n, slotIndex(slot), zero});
    });

  for (const LaneVectorDecoder &decoder : decoders) {
    const PartGeometry &geometry = decoder.getGeometry();
    auto columnLoop = scf::ForOp::create(
        builder, loc, zero, constIndex(builder, loc, geometry.supertileCols),
        constIndex(builder, loc, 1), sums);
    OpBuilder::InsertionGuard columnGuard(builder);
    builder.setInsertionPointToStart(columnLoop.getBody());
    Value supertileCol = columnLoop.getInductionVar();
    Value colBase = supertileColumnBase(builder, loc, geometry, supertileCol);
    SmallVector<Value> carriedSums(columnLoop.getRegionIterArgs());
    if (carried) {
      // Each pair is multiplied right where it is decoded, so that its
      // values die at once (16 decoded pairs are 64 AVX-512 registers).
      SmallVector<LaneActivations> xs;
      for (int64_t n = 0; n < batch; ++n)
        xs.emplace_back(args.x, constIndex(builder, loc, n), colBase);
      SmallVector<DecodedPair> pairs;
      if (failed(decoder.decode(builder, loc, supertileRow, supertileCol,
                                pairs))) {
        kernel.function.erase();
        return failure();
      }
      for (const DecodedPair &pair : pairs) {
        OpBuilder::InsertionGuard pairGuard(builder);
        builder.setInsertionPointAfter(getPairDefinition(pair));
        auto [first, second] = unpackPair(builder, loc, pair);
        for (int64_t n = 0; n < batch; ++n) {
          Value slotSums[kRowSlots];
          for (unsigned slot = 0; slot < kRowSlots; ++slot)
            slotSums[slot] = carriedSums[slot * batch + n];
          accumulatePair(builder, loc, pair, first, second, xs[n], slotSums);
          for (unsigned slot = 0; slot < kRowSlots; ++slot)
            carriedSums[slot * batch + n] = slotSums[slot];
        }
      }
    } else {
      SmallVector<DecodedPair> pairs;
      if (failed(decoder.decode(builder, loc, supertileRow, supertileCol,
                                pairs))) {
        kernel.function.erase();
        return failure();
      }
      SmallVector<std::pair<Value, Value>> values;
      for (const DecodedPair &pair : pairs)
        values.push_back(unpackPair(builder, loc, pair));
      // The decoded pairs stay live across the batch loop: a decoded tile
      // reused by every activation row.
      forEachRow([&](Value n) {
        LaneActivations x(args.x, n, colBase);
        Value slotSums[kRowSlots];
        for (unsigned slot = 0; slot < kRowSlots; ++slot)
          slotSums[slot] = vector::LoadOp::create(
              builder, loc, sumType, acc, ValueRange{n, slotIndex(slot), zero});
        for (auto [pair, value] : llvm::zip_equal(pairs, values))
          accumulatePair(builder, loc, pair, value.first, value.second, x,
                         slotSums);
        for (unsigned slot = 0; slot < kRowSlots; ++slot)
          vector::StoreOp::create(builder, loc, slotSums[slot], acc,
                                  ValueRange{n, slotIndex(slot), zero});
      });
    }
    if (carried)
      scf::YieldOp::create(builder, loc, carriedSums);
    sums.assign(columnLoop.getResults().begin(), columnLoop.getResults().end());
  }

  Value rowBase = arith::MulIOp::create(
      builder, loc, supertileRow, constIndex(builder, loc, kSupertileDim));
  if (carried) {
    for (int64_t n = 0; n < batch; ++n)
      for (unsigned slot = 0; slot < kRowSlots; ++slot)
        emitSlotEpilogue(builder, loc, args, constIndex(builder, loc, n),
                         rowBase, slot, sums[slot * batch + n]);
  } else {
    forEachRow([&](Value n) {
      for (unsigned slot = 0; slot < kRowSlots; ++slot)
        emitSlotEpilogue(
            builder, loc, args, n, rowBase, slot,
            vector::LoadOp::create(builder, loc, sumType, acc,
                                   ValueRange{n, slotIndex(slot), zero}));
    });
  }

  return kernel.finish(builder, loc);
}

FailureOr<func::FuncOp> qpal::detail::buildCpuVectorDequantKernel(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const CpuKernelOptions &options, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuDequantFunction(builder, loc, shape, name);
  KernelArgs &args = kernel.args;
  Value weights = memref::CollapseShapeOp::create(
      builder, loc, kernel.weights, ArrayRef<ReassociationIndices>{{0, 1}});
  RegisterCodebook registers;
  SmallVector<LaneVectorDecoder> decoders;
  if (failed(setUpDecoders(builder, loc, shape, options, args, registers,
                           decoders))) {
    kernel.function.erase();
    return failure();
  }
  Type index = builder.getIndexType();
  auto maskType = laneVector(builder.getI1Type());
  Value mask = vector::ConstantMaskOp::create(builder, loc, maskType,
                                              ArrayRef<int64_t>{kWarpLanes});
  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  auto supertileLoop = scf::ForOp::create(builder, loc, first, last,
                                          constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(supertileLoop.getBody());
  Value supertileRow = supertileLoop.getInductionVar();
  Value rowOffset = arith::MulIOp::create(
      builder, loc, supertileRow,
      constIndex(builder, loc, kSupertileDim * shape.cols));
  for (const LaneVectorDecoder &decoder : decoders) {
    const PartGeometry &geometry = decoder.getGeometry();
    OpBuilder::InsertionGuard partGuard(builder);
    auto columnLoop =
        scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                           constIndex(builder, loc, geometry.supertileCols),
                           constIndex(builder, loc, 1));
    builder.setInsertionPointToStart(columnLoop.getBody());
    Value supertileCol = columnLoop.getInductionVar();
    SmallVector<DecodedPair> pairs;
    if (failed(
            decoder.decode(builder, loc, supertileRow, supertileCol, pairs))) {
      kernel.function.erase();
      return failure();
    }
    // W_hat[rowBase + row(w)][colBase + col(w) + {0, 1}], flattened.
    Value base = vector::BroadcastOp::create(
        builder, loc, laneVector(index),
        arith::AddIOp::create(
            builder, loc, rowOffset,
            supertileColumnBase(builder, loc, geometry, supertileCol)));
    for (const DecodedPair &pair : pairs) {
      auto [first, second] = unpackPair(builder, loc, pair);
      Value position = arith::AddIOp::create(
          builder, loc, base,
          laneConstant(builder, loc, index, [&](unsigned w) {
            int64_t row = 16 * (pair.tile & 1) + 8 * (pair.reg & 1) + w / 4;
            int64_t col =
                16 * (pair.tile >> 1) + 8 * (pair.reg >> 1) + 2 * (w % 4);
            return row * shape.cols + col;
          }));
      Value next = arith::AddIOp::create(
          builder, loc, position,
          laneConstant(builder, loc, index, [](unsigned) { return 1; }));
      vector::ScatterOp::create(builder, loc, Type(), weights,
                                ValueRange{constIndex(builder, loc, 0)},
                                position, mask, first);
      vector::ScatterOp::create(builder, loc, Type(), weights,
                                ValueRange{constIndex(builder, loc, 0)}, next,
                                mask, second);
    }
  }
  return kernel.finish(builder, loc);
}

//===----------------------------------------------------------------------===//
// SIMT layouts
//===----------------------------------------------------------------------===//

namespace {

/// The lane-vector decode of the full chunks of one row in the SIMT layout:
/// word omega of the 32 lanes is 32 consecutive words, one vector load.
class SimtChunkDecoder {
public:
  SimtChunkDecoder(const KernelShape &shape, const KernelArgs &args,
                   const SimtGeometry &geometry,
                   const RegisterCodebook &registers)
      : shape(shape), args(args), geometry(geometry), registers(registers) {}

  /// Decodes the 32 codes of every lane of full chunk `chunk` of `row`
  /// (values are `vector<32xf32>`).
  LogicalResult decode(OpBuilder &builder, Location loc, Value row, Value chunk,
                       SmallVectorImpl<DecodedSimtCode> &codes) const {
    // Word omega of lane w: row*rowWords + 32*b*chunk + 32*omega + w.
    Value base = arith::AddIOp::create(
        builder, loc,
        arith::MulIOp::create(builder, loc, row,
                              constIndex(builder, loc, geometry.rowWords)),
        arith::MulIOp::create(
            builder, loc, chunk,
            constIndex(builder, loc, kWarpLanes * geometry.bits)));
    Value bases = vector::BroadcastOp::create(
        builder, loc, laneVector(builder.getIndexType()), base);
    SmallVector<Value> offsets;
    auto wordOffset = [&](OpBuilder &b, Location l, unsigned omega) -> Value {
      while (offsets.size() <= omega) {
        unsigned o = offsets.size();
        offsets.push_back(arith::MulIOp::create(
            b, l,
            arith::AddIOp::create(
                b, l, bases,
                laneConstant(b, l, b.getIndexType(),
                             [&](unsigned w) { return kWarpLanes * o + w; })),
            laneConstant(b, l, b.getIndexType(), [](unsigned) { return 4; })));
      }
      return offsets[omega];
    };
    SimtDecodeArgs decodeArgs{args.codes, args.codebook, wordOffset,
                              CodeWords{args.codeWords, 4, {}}};
    auto lookup = [&](OpBuilder &b, Location l, Value index, unsigned stride,
                      unsigned component) -> Value {
      return registers.lookup(b, l, index, stride, component);
    };
    if (registers)
      decodeArgs.codebookLookup = lookup;
    for (unsigned omega = 0; omega < geometry.bits; ++omega) {
      CachedSegment &cached = decodeArgs.codeWords.cached.emplace_back();
      cached.offset = wordOffset(builder, loc, omega);
      cached.words.push_back(vector::LoadOp::create(
          builder, loc, laneVector(builder.getI32Type()), args.codeWords,
          ValueRange{arith::AddIOp::create(
              builder, loc, base,
              constIndex(builder, loc, kWarpLanes * omega))}));
    }
    if (failed(cast<SimtDecodeAttrInterface>(shape.quantizer)
                   .emitSimtDecode(builder, loc, decodeArgs, codes)))
      return failure();
    if (codes.size() != kSimtCodesPerLane)
      return emitError(loc) << shape.quantizer.getReferenceName() << " decoded "
                            << codes.size() << " codes per lane, expected "
                            << kSimtCodesPerLane;
    return success();
  }

private:
  const KernelShape &shape;
  const KernelArgs &args;
  const SimtGeometry &geometry;
  const RegisterCodebook &registers;
};

/// The x operands of one full chunk for activation row `n`: code (group g,
/// offset o) of lane w multiplies column chunkBase + 256*g + 8*w + o, so a
/// group's 256 columns are loaded once and dealt to the lanes.
class SimtActivations {
public:
  SimtActivations(Value x, Value n, Value chunkBase)
      : x(x), n(n), chunkBase(chunkBase) {}

  Value get(OpBuilder &builder, Location loc, unsigned group, unsigned offset) {
    Value &block = blocks[group];
    if (!block) {
      Value col = arith::AddIOp::create(
          builder, loc, chunkBase,
          constIndex(builder, loc, 8 * kWarpLanes * group));
      block = vector::LoadOp::create(
          builder, loc, VectorType::get({8 * kWarpLanes}, builder.getF32Type()),
          x, ValueRange{n, col});
    }
    Value &dealt = dealts[{group, offset}];
    if (!dealt) {
      SmallVector<int64_t> mask;
      for (unsigned w = 0; w < kWarpLanes; ++w)
        mask.push_back(8 * w + offset);
      dealt = vector::ShuffleOp::create(builder, loc, block, block, mask);
    }
    return dealt;
  }

private:
  Value x, n, chunkBase;
  llvm::DenseMap<unsigned, Value> blocks;
  std::map<std::pair<unsigned, unsigned>, Value> dealts;
};

} // namespace

FailureOr<func::FuncOp>
qpal::detail::buildCpuVectorSimtKernel(OpBuilder &builder, Location loc,
                                       const KernelShape &shape,
                                       const CpuKernelOptions &options) {
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuKernelFunction(builder, loc, shape, getKernelName(shape, "cpu"));
  KernelArgs &args = kernel.args;
  SimtGeometry geometry(shape);
  RegisterCodebook registers =
      RegisterCodebook::load(builder, loc, shape, options, args.codebook);
  SimtChunkDecoder decoder(shape, args, geometry, registers);
  Type f32 = builder.getF32Type();
  auto sumType = laneVector(f32);
  Value zeros = arith::ConstantOp::create(builder, loc, sumType,
                                          builder.getZeroAttr(sumType));
  Value zeroF = arith::ConstantFloatOp::create(
      builder, loc, builder.getF32Type(), llvm::APFloat(0.0f));
  int64_t batch = shape.batch;
  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  auto rows = scf::ForOp::create(builder, loc, first, last,
                                 constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(rows.getBody());
  Value row = rows.getInductionVar();

  // Full chunks: 32 lanes at once, one lane-vector sum per activation row.
  SmallVector<Value> sums(batch, zeros);
  if (geometry.fullChunks > 0) {
    auto chunks =
        scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                           constIndex(builder, loc, geometry.fullChunks),
                           constIndex(builder, loc, 1), sums);
    OpBuilder::InsertionGuard chunkGuard(builder);
    builder.setInsertionPointToStart(chunks.getBody());
    Value chunk = chunks.getInductionVar();
    SmallVector<DecodedSimtCode> codes;
    if (failed(decoder.decode(builder, loc, row, chunk, codes))) {
      kernel.function.erase();
      return failure();
    }
    Value chunkBase = arith::MulIOp::create(
        builder, loc, chunk, constIndex(builder, loc, geometry.chunkCols));
    SmallVector<Value> carried(chunks.getRegionIterArgs());
    for (int64_t n = 0; n < batch; ++n) {
      SimtActivations x(args.x, constIndex(builder, loc, n), chunkBase);
      for (const DecodedSimtCode &code : codes) {
        carried[n] = vector::FMAOp::create(
            builder, loc, sumType, code.first,
            x.get(builder, loc, code.group, code.offset), carried[n]);
        if (code.second)
          carried[n] = vector::FMAOp::create(
              builder, loc, sumType, code.second,
              x.get(builder, loc, code.group, code.offset + 1), carried[n]);
      }
    }
    scf::YieldOp::create(builder, loc, carried);
    sums.assign(chunks.getResults().begin(), chunks.getResults().end());
  }
  SmallVector<Value> totals;
  for (Value sum : sums)
    totals.push_back(vector::ReductionOp::create(
        builder, loc, vector::CombiningKind::ADD, sum));
  // The partial last chunk, lane by lane.
  if (geometry.partialLanes > 0) {
    FailureOr<SmallVector<Value>> tail =
        emitSimtLaneLoop(builder, loc, shape, geometry, args, row,
                         constIndex(builder, loc, geometry.fullChunks),
                         constIndex(builder, loc, 0),
                         constIndex(builder, loc, geometry.partialLanes),
                         constIndex(builder, loc, 1), geometry.partialLanes,
                         SmallVector<Value>(batch, zeroF));
    if (failed(tail)) {
      kernel.function.erase();
      return failure();
    }
    for (auto [total, part] : llvm::zip_equal(totals, *tail))
      total = arith::AddFOp::create(builder, loc, total, part);
  }
  Value scale = memref::LoadOp::create(builder, loc, args.scales, row);
  for (int64_t n = 0; n < batch; ++n)
    emitScaledAccumulate(builder, loc, args.y, constIndex(builder, loc, n), row,
                         totals[n], scale);
  return kernel.finish(builder, loc);
}

FailureOr<func::FuncOp> qpal::detail::buildCpuVectorSimtDequantKernel(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const CpuKernelOptions &options, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuDequantFunction(builder, loc, shape, name);
  KernelArgs &args = kernel.args;
  SimtGeometry geometry(shape);
  RegisterCodebook registers =
      RegisterCodebook::load(builder, loc, shape, options, args.codebook);
  SimtChunkDecoder decoder(shape, args, geometry, registers);
  Value weights = memref::CollapseShapeOp::create(
      builder, loc, kernel.weights, ArrayRef<ReassociationIndices>{{0, 1}});
  Type index = builder.getIndexType();
  Value mask = vector::ConstantMaskOp::create(builder, loc,
                                              laneVector(builder.getI1Type()),
                                              ArrayRef<int64_t>{kWarpLanes});
  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  auto rows = scf::ForOp::create(builder, loc, first, last,
                                 constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(rows.getBody());
  Value row = rows.getInductionVar();
  Value rowOffset = arith::MulIOp::create(builder, loc, row,
                                          constIndex(builder, loc, shape.cols));
  if (geometry.fullChunks > 0) {
    auto chunks =
        scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                           constIndex(builder, loc, geometry.fullChunks),
                           constIndex(builder, loc, 1));
    OpBuilder::InsertionGuard chunkGuard(builder);
    builder.setInsertionPointToStart(chunks.getBody());
    Value chunk = chunks.getInductionVar();
    SmallVector<DecodedSimtCode> codes;
    if (failed(decoder.decode(builder, loc, row, chunk, codes))) {
      kernel.function.erase();
      return failure();
    }
    // W_hat[row][chunk*chunkCols + 256*group + 8*w + offset (+ 1)].
    Value base = vector::BroadcastOp::create(
        builder, loc, laneVector(index),
        arith::AddIOp::create(
            builder, loc, rowOffset,
            arith::MulIOp::create(
                builder, loc, chunk,
                constIndex(builder, loc, geometry.chunkCols))));
    for (const DecodedSimtCode &code : codes) {
      unsigned values = code.second ? 2 : 1;
      for (unsigned v = 0; v < values; ++v) {
        Value position = arith::AddIOp::create(
            builder, loc, base,
            laneConstant(builder, loc, index, [&](unsigned w) {
              return 8 * kWarpLanes * code.group + 8 * w + code.offset + v;
            }));
        vector::ScatterOp::create(builder, loc, Type(), weights,
                                  ValueRange{constIndex(builder, loc, 0)},
                                  position, mask,
                                  v == 0 ? code.first : code.second);
      }
    }
  }
  if (geometry.partialLanes > 0) {
    // The partial last chunk, lane by lane, through the scalar kernel's
    // decode.
    if (failed(
            emitSimtDequantChunk(builder, loc, shape, geometry, args, row,
                                 constIndex(builder, loc, geometry.fullChunks),
                                 geometry.partialLanes, kernel.weights))) {
      kernel.function.erase();
      return failure();
    }
  }
  return kernel.finish(builder, loc);
}
