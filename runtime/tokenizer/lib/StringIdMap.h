//===- StringIdMap.h - Byte strings to token ids ----------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The tokenizers look up every candidate merge, so the map from token texts
// (and merges) to ids is on the hot path. std::unordered_map costs a modulo
// and a node per lookup; this map is a flat open-addressing table, with the
// hash stored to skip most string comparisons, like llvm::StringMap.
//
//===----------------------------------------------------------------------===//

#ifndef QPALTOK_LIB_STRINGIDMAP_H
#define QPALTOK_LIB_STRINGIDMAP_H

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace qpaltok::detail {

/// A map from byte strings to non-negative ids. The keys are views: the
/// strings they view must outlive the map and never change.
class StringIdMap {
public:
  /// Sizes the table for `count` keys.
  void reserve(size_t count) {
    size_t capacity = 16;
    while (capacity < 2 * count)
      capacity *= 2;
    if (capacity > slots.size())
      rehash(capacity);
  }

  /// Maps `key` to `id` (>= 0). An existing key keeps its id unless
  /// `overwrite`.
  void insert(std::string_view key, int32_t id, bool overwrite) {
    if (2 * (size + 1) > slots.size())
      rehash(slots.empty() ? 16 : 2 * slots.size());
    uint32_t hash = hashOf(key);
    Slot &slot = slots[findSlot(key, hash)];
    if (slot.id < 0) {
      slot = {key.data(), key.size(), hash, id};
      ++size;
    } else if (overwrite) {
      slot.id = id;
    }
  }

  /// Returns the id of `key`, if any.
  std::optional<int32_t> find(std::string_view key) const {
    if (slots.empty())
      return std::nullopt;
    const Slot &slot = slots[findSlot(key, hashOf(key))];
    if (slot.id < 0)
      return std::nullopt;
    return slot.id;
  }

private:
  struct Slot {
    const char *data;
    size_t length;
    uint32_t hash;
    int32_t id; // -1: empty
  };

  /// FNV-1a, then a multiplicative mix so that the low bits (the ones the
  /// mask keeps) depend on every byte.
  static uint32_t hashOf(std::string_view key) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : key)
      h = (h ^ c) * 1099511628211ull;
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(h >> 32);
  }

  /// Returns the slot that holds `key`, or the empty slot where it belongs.
  size_t findSlot(std::string_view key, uint32_t hash) const {
    size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot &slot = slots[i];
      if (slot.id < 0)
        return i;
      if (slot.hash == hash && slot.length == key.size() &&
          (key.empty() || std::memcmp(slot.data, key.data(), key.size()) == 0))
        return i;
    }
  }

  void rehash(size_t capacity) {
    std::vector<Slot> old(capacity, Slot{nullptr, 0, 0, -1});
    old.swap(slots);
    for (const Slot &slot : old) {
      if (slot.id < 0)
        continue;
      size_t mask = slots.size() - 1;
      size_t i = slot.hash & mask;
      while (slots[i].id >= 0)
        i = (i + 1) & mask;
      slots[i] = slot;
    }
  }

  std::vector<Slot> slots;
  size_t size = 0;
};

} // namespace qpaltok::detail

#endif // QPALTOK_LIB_STRINGIDMAP_H
