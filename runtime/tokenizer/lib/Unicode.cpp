//===- Unicode.cpp - Code points for the tokenizers -----------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "Unicode.h"

#include <algorithm>
#include <array>
#include <iterator>

using namespace qpaltok::detail;

namespace {

struct CodepointRange {
  uint32_t first, last;
};

#include "UnicodeTables.inc"

template <size_t N>
bool inRanges(const CodepointRange (&table)[N], uint32_t codepoint) {
  const CodepointRange *it = std::upper_bound(
      std::begin(table), std::end(table), codepoint,
      [](uint32_t value, const CodepointRange &r) { return value < r.first; });
  return it != std::begin(table) && codepoint <= std::prev(it)->last;
}

} // namespace

std::vector<uint32_t> qpaltok::detail::decodeUtf8(std::string_view text) {
  std::vector<uint32_t> result;
  result.reserve(text.size());
  const uint8_t *s = reinterpret_cast<const uint8_t *>(text.data());
  size_t n = text.size(), i = 0;
  auto continuation = [&](size_t k) { return (s[k] & 0xc0) == 0x80; };
  while (i < n) {
    uint8_t lead = s[i];
    if (!(lead & 0x80)) {
      result.push_back(lead);
      i += 1;
    } else if (!(lead & 0x40)) {
      result.push_back(0xFFFD);
      i += 1;
    } else if (!(lead & 0x20)) {
      if (i + 1 >= n || !continuation(i + 1)) {
        result.push_back(0xFFFD);
        i += 1;
        continue;
      }
      result.push_back(((lead & 0x1f) << 6) | (s[i + 1] & 0x3f));
      i += 2;
    } else if (!(lead & 0x10)) {
      if (i + 2 >= n || !continuation(i + 1) || !continuation(i + 2)) {
        result.push_back(0xFFFD);
        i += 1;
        continue;
      }
      result.push_back(((lead & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) |
                       (s[i + 2] & 0x3f));
      i += 3;
    } else if (!(lead & 0x08)) {
      if (i + 3 >= n || !continuation(i + 1) || !continuation(i + 2) ||
          !continuation(i + 3)) {
        result.push_back(0xFFFD);
        i += 1;
        continue;
      }
      result.push_back(((lead & 0x07) << 18) | ((s[i + 1] & 0x3f) << 12) |
                       ((s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f));
      i += 4;
    } else {
      result.push_back(0xFFFD);
      i += 1;
    }
  }
  return result;
}

void qpaltok::detail::appendUtf8(uint32_t cp, std::string &out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | ((cp >> 18) & 0x07));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

size_t qpaltok::detail::getUtf8Length(uint8_t leadByte) {
  static const size_t lookup[] = {1, 1, 1, 1, 1, 1, 1, 1,
                                  1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[leadByte >> 4];
}

bool qpaltok::detail::isLetter(uint32_t codepoint) {
  return inRanges(letterRanges, codepoint);
}

bool qpaltok::detail::isNumber(uint32_t codepoint) {
  return inRanges(numberRanges, codepoint);
}

bool qpaltok::detail::isWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

uint32_t qpaltok::detail::byteToUnicode(uint8_t byte) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> map{};
    std::array<bool, 256> printable{};
    for (int b = '!'; b <= '~'; ++b)
      printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b)
      printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b)
      printable[b] = true;
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b)
      map[b] = printable[b] ? b : next++;
    return map;
  }();
  return table[byte];
}
