//===- Vocabulary.cpp - The serialized vocabulary -------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Writes and reads the format described in qpaltok/Tokenizer.h. The reader
// trusts nothing: the header is checked first (magic, version, payload size
// against the bytes present, checksum), then every count and length in the
// payload against the bytes left before anything is allocated, then the ids.
//
//===----------------------------------------------------------------------===//

#include "qpaltok/Tokenizer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

using namespace qpaltok;

namespace {

constexpr char magic[8] = {'Q', 'P', 'A', 'L', 'T', 'O', 'K', '\0'};
constexpr uint32_t formatVersion = 1;
/// magic, version, checksum, payload size.
constexpr size_t headerSize = 8 + 4 + 4 + 8;

enum : uint8_t { AddBosFlag = 1, AddSpacePrefixFlag = 2 };

/// Returns the CRC-32 of `size` bytes at `data` (IEEE 802.3, reflected,
/// polynomial 0xEDB88320: the checksum of zlib and PNG).
uint32_t crc32(const uint8_t *data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string hex32(uint32_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string text = "0x";
  for (int shift = 28; shift >= 0; shift -= 4)
    text += digits[(value >> shift) & 15];
  return text;
}

/// Returns the `count`-byte little-endian integer at `bytes`.
uint64_t loadLittleEndian(const uint8_t *bytes, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i)
    value |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return value;
}

/// Appends little-endian integers and length-prefixed strings.
class Writer {
public:
  void u8(uint8_t value) { bytes += static_cast<char>(value); }
  void u32(uint32_t value) {
    for (int i = 0; i < 4; ++i)
      u8(static_cast<uint8_t>(value >> (8 * i)));
  }
  void u64(uint64_t value) {
    for (int i = 0; i < 8; ++i)
      u8(static_cast<uint8_t>(value >> (8 * i)));
  }
  void str(const std::string &text) {
    u32(static_cast<uint32_t>(text.size()));
    bytes += text;
  }
  std::string bytes;
};

/// Reads little-endian integers and length-prefixed strings from a byte range,
/// checking every read against the bytes left; a read that fails sets the
/// error message.
class Reader {
public:
  Reader(const uint8_t *data, size_t begin, size_t end, std::string &error)
      : data(data), pos(begin), end(end), error(error) {}

  size_t getPosition() const { return pos; }
  size_t getBytesLeft() const { return end - pos; }

  bool u8(uint8_t &value, const char *what) {
    if (!need(1, what))
      return false;
    value = data[pos++];
    return true;
  }
  bool u32(uint32_t &value, const char *what) {
    if (!need(4, what))
      return false;
    value = static_cast<uint32_t>(loadLittleEndian(data + pos, 4));
    pos += 4;
    return true;
  }
  bool i32(int32_t &value, const char *what) {
    uint32_t bits;
    if (!u32(bits, what))
      return false;
    std::memcpy(&value, &bits, sizeof(value));
    return true;
  }
  bool f32(float &value, const char *what) {
    uint32_t bits;
    if (!u32(bits, what))
      return false;
    std::memcpy(&value, &bits, sizeof(value));
    return true;
  }
  bool str(std::string &text, const std::string &what) {
    uint32_t length;
    if (!u32(length, what.c_str()))
      return false;
    if (length > getBytesLeft()) {
      error = what + " length " + std::to_string(length) +
              " does not fit in the " + std::to_string(getBytesLeft()) +
              " bytes left at byte " + std::to_string(pos);
      return false;
    }
    text.assign(reinterpret_cast<const char *>(data + pos), length);
    pos += length;
    return true;
  }
  /// Reads a count of items of at least `itemSize` bytes each and checks that
  /// they can fit in the bytes left.
  bool count(uint32_t &value, size_t itemSize, const char *what) {
    size_t at = pos;
    if (!u32(value, what))
      return false;
    if (value > getBytesLeft() / itemSize) {
      error = std::string(what) + " " + std::to_string(value) +
              " does not fit in the " + std::to_string(getBytesLeft()) +
              " bytes left at byte " + std::to_string(at);
      return false;
    }
    return true;
  }

private:
  bool need(size_t size, const char *what) {
    if (getBytesLeft() >= size)
      return true;
    error = "truncated at byte " + std::to_string(end) + " reading the " +
            what + " at byte " + std::to_string(pos);
    return false;
  }

  const uint8_t *data;
  size_t pos, end;
  std::string &error;
};

/// Reads the payload of `reader` into `vocab`.
bool readPayload(Reader &reader, Vocabulary &vocab, std::string &error) {
  uint8_t kind, flags;
  if (!reader.u8(kind, "kind") || !reader.u8(flags, "flags"))
    return false;
  if (kind > static_cast<uint8_t>(Kind::SentencePiece)) {
    error = "unknown tokenizer kind " + std::to_string(kind);
    return false;
  }
  vocab.kind = static_cast<Kind>(kind);
  if (flags & ~(AddBosFlag | AddSpacePrefixFlag)) {
    error = "unknown flags 0x" + hex32(flags).substr(8);
    return false;
  }
  vocab.addBos = flags & AddBosFlag;
  vocab.addSpacePrefix = flags & AddSpacePrefixFlag;
  if (!reader.i32(vocab.bos, "bos token") ||
      !reader.i32(vocab.eos, "eos token") ||
      !reader.str(vocab.preTokenizer, "pre-tokenizer"))
    return false;

  uint32_t tokens;
  if (!reader.count(tokens, 4, "token count"))
    return false;
  if (tokens > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    error = "token count " + std::to_string(tokens) + " exceeds " +
            std::to_string(std::numeric_limits<int32_t>::max());
    return false;
  }
  vocab.texts.resize(tokens);
  for (uint32_t i = 0; i < tokens; ++i)
    if (!reader.str(vocab.texts[i], "token " + std::to_string(i)))
      return false;

  uint32_t scores;
  if (!reader.count(scores, 4, "score count"))
    return false;
  if (scores != 0 && scores != tokens) {
    error = "score count " + std::to_string(scores) + " is neither 0 nor the " +
            "token count " + std::to_string(tokens);
    return false;
  }
  vocab.scores.resize(scores);
  for (float &score : vocab.scores)
    if (!reader.f32(score, "scores"))
      return false;

  uint32_t types;
  if (!reader.count(types, 1, "type count"))
    return false;
  if (types != 0 && types != tokens) {
    error = "type count " + std::to_string(types) + " is neither 0 nor the " +
            "token count " + std::to_string(tokens);
    return false;
  }
  vocab.types.resize(types);
  for (uint32_t i = 0; i < types; ++i) {
    uint8_t type;
    if (!reader.u8(type, "types"))
      return false;
    if (type > static_cast<uint8_t>(TokenType::Byte)) {
      error = "token " + std::to_string(i) + " has unknown type " +
              std::to_string(type);
      return false;
    }
    vocab.types[i] = static_cast<TokenType>(type);
  }

  uint32_t merges;
  if (!reader.count(merges, 4, "merge count"))
    return false;
  vocab.merges.resize(merges);
  for (uint32_t i = 0; i < merges; ++i)
    if (!reader.str(vocab.merges[i], "merge " + std::to_string(i)))
      return false;

  if (reader.getBytesLeft() != 0) {
    error = std::to_string(reader.getBytesLeft()) +
            " unread bytes after the vocabulary at byte " +
            std::to_string(reader.getPosition());
    return false;
  }
  const std::pair<const char *, int32_t> ids[] = {{"bos", vocab.bos},
                                                  {"eos", vocab.eos}};
  for (auto [name, id] : ids) {
    if (id < -1 || id >= static_cast<int64_t>(tokens)) {
      error = std::string(name) + " token " + std::to_string(id) +
              " is outside the vocabulary of " + std::to_string(tokens);
      return false;
    }
  }
  return true;
}

} // namespace

std::string qpaltok::serializeVocabulary(const Vocabulary &vocab) {
  Writer payload;
  payload.u8(static_cast<uint8_t>(vocab.kind));
  payload.u8((vocab.addBos ? AddBosFlag : 0) |
             (vocab.addSpacePrefix ? AddSpacePrefixFlag : 0));
  payload.u32(static_cast<uint32_t>(vocab.bos));
  payload.u32(static_cast<uint32_t>(vocab.eos));
  payload.str(vocab.preTokenizer);
  payload.u32(static_cast<uint32_t>(vocab.texts.size()));
  for (const std::string &text : vocab.texts)
    payload.str(text);
  payload.u32(static_cast<uint32_t>(vocab.scores.size()));
  for (float score : vocab.scores) {
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof(bits));
    payload.u32(bits);
  }
  payload.u32(static_cast<uint32_t>(vocab.types.size()));
  for (TokenType type : vocab.types) {
    // An unknown type is written as one the reader rejects, never as a
    // different valid one.
    int32_t value = static_cast<int32_t>(type);
    payload.u8(value >= 0 && value <= 6 ? static_cast<uint8_t>(value) : 0xFF);
  }
  payload.u32(static_cast<uint32_t>(vocab.merges.size()));
  for (const std::string &merge : vocab.merges)
    payload.str(merge);

  Writer file;
  file.bytes.assign(magic, sizeof(magic));
  file.u32(formatVersion);
  file.u32(crc32(reinterpret_cast<const uint8_t *>(payload.bytes.data()),
                 payload.bytes.size()));
  file.u64(payload.bytes.size());
  file.bytes += payload.bytes;
  return std::move(file.bytes);
}

bool qpaltok::parseVocabulary(const void *data, size_t size, Vocabulary &out,
                              std::string &error) {
  const uint8_t *bytes = static_cast<const uint8_t *>(data);
  if (size > 0 && !bytes) {
    error = "no data for " + std::to_string(size) + " bytes";
    return false;
  }
  size_t magicPresent = std::min(size, sizeof(magic));
  if (magicPresent > 0 && std::memcmp(bytes, magic, magicPresent) != 0) {
    std::string got;
    for (size_t i = 0; i < magicPresent; ++i)
      got += hex32(bytes[i]).substr(8);
    error = "bad magic 0x" + got +
            ", expected \"QPALTOK\\0\" (not a serialized qpaltok vocabulary)";
    return false;
  }
  if (size < headerSize) {
    error = "truncated at byte " + std::to_string(size) + " in the " +
            std::to_string(headerSize) + "-byte header";
    return false;
  }
  uint64_t version = loadLittleEndian(bytes + 8, 4);
  uint32_t checksum = static_cast<uint32_t>(loadLittleEndian(bytes + 12, 4));
  uint64_t payloadSize = loadLittleEndian(bytes + 16, 8);
  if (version != formatVersion) {
    error = "unsupported version " + std::to_string(version) + ", expected " +
            std::to_string(formatVersion);
    return false;
  }
  uint64_t present = size - headerSize;
  if (payloadSize > present) {
    error = "truncated at byte " + std::to_string(size) + ": the header " +
            "announces " + std::to_string(payloadSize) +
            " payload bytes, only " + std::to_string(present) + " follow";
    return false;
  }
  if (payloadSize < present) {
    error = std::to_string(present - payloadSize) +
            " trailing bytes after the " + std::to_string(payloadSize) +
            "-byte payload the header announces";
    return false;
  }
  uint32_t computed = crc32(bytes + headerSize, present);
  if (computed != checksum) {
    error = "bad checksum: the header says " + hex32(checksum) +
            ", the payload's is " + hex32(computed);
    return false;
  }

  Vocabulary vocab;
  Reader payload(bytes, headerSize, size, error);
  if (!readPayload(payload, vocab, error))
    return false;
  out = std::move(vocab);
  return true;
}
